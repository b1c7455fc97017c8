"""Frame handling: the parsing code on its own, then each bad frame over a real socket,
with a real SDK in the same org that must keep being served throughout."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from core.clock import utcnow
from generated import models as api
from tests.dbaccess import set_timestamp
from tests.factories import Tenant, new_tenant
from tests.live import LiveServer
from tests.sdk import SdkProcess, online_tools, wait_for_sockets, wait_until
from tests.test_sdk_flow import invoke
from ws import declarations, frames

# ---- without a socket ----


def test_parse_known_frames():
    reg = frames.parse('{"type":"tool_register","tools":[{"name":"t","input_schema":{}}]}')
    assert isinstance(reg, api.SdkToolRegisterFrame) and reg.tools[0].name.root == "t"
    res = frames.parse('{"type":"tool_result","call_id":"c","result":[1],"latency_ms":3}')
    assert isinstance(res, api.SdkToolResultFrame) and res.result == [1]
    err = frames.parse('{"type":"tool_error","call_id":"c","error":"x","traceback":null}')
    assert isinstance(err, api.SdkToolErrorFrame)
    hb = frames.parse('{"type":"heartbeat","tools_health":{}}')
    assert isinstance(hb, api.SdkHeartbeatFrame)


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("{nope", "malformed JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"type": "bogus"}', "unknown frame type"),
        ('{"call_id": "1"}', "unknown frame type"),
        ('{"type": "tool_result"}', "invalid tool_result"),
        (
            '{"type": "tool_register", "tools": [{"name": "1bad", "input_schema": {}}]}',
            "invalid tool_register",
        ),
        ("[" * 100_000, "malformed JSON"),
        ('{"type": "tool_result", "call_id": "c", "result": NaN, "latency_ms": 1}', "NaN"),
        ('{"type": "tool_result", "call_id": "c", "result": 1e400, "latency_ms": 1}', "range"),
        ('{"type": "tool_error", "call_id": "c", "error": "\\ud800"}', "surrogate"),
    ],
)
def test_parse_bad_frames(raw: str, reason: str):
    bad = frames.parse(raw)
    assert isinstance(bad, frames.BadFrame) and reason in bad.reason


def test_declaration_checks():
    def frame(*tools: dict[str, Any]) -> api.SdkToolRegisterFrame:
        return api.SdkToolRegisterFrame.model_validate({"type": "tool_register", "tools": tools})

    assert declarations.problems(frame({"name": "ok", "input_schema": {"type": "object"}})) == []
    twice = frame({"name": "a", "input_schema": {}}, {"name": "a", "input_schema": {}})
    assert "declared twice" in declarations.problems(twice)[0]
    invalid = frame({"name": "a", "input_schema": {"type": 5}})
    assert "cannot be used" in declarations.problems(invalid)[0]
    # What the platform cannot apply safely is refused at registration, not met at invoke.
    for schema in (
        {"properties": {"s": {"pattern": "(a)\\1"}}},  # a back-reference: not linear-time
        {"$ref": "#/$defs/missing"},
        {"$ref": "https://example.com/schema.json"},  # nothing is fetched
    ):
        (reason,) = declarations.problems(frame({"name": "a", "input_schema": schema}))
        assert "cannot be used" in reason, schema
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(300):
        node["not"] = {}
        node = node["not"]
    assert declarations.problems(frame({"name": "a", "input_schema": deep}))
    huge = frame({"name": "a", "input_schema": {"description": "x" * 70_000}})
    assert "above" in declarations.problems(huge)[0]


def test_platform_frames_match_what_the_sdk_accepts():
    from platools.transport.protocol import ToolCallMessage, WelcomeMessage

    welcome = WelcomeMessage.model_validate_json(frames.welcome("org", "conn"))
    assert welcome.organization_id == "org" and welcome.sdk_connection_id == "conn"
    call = ToolCallMessage.model_validate_json(frames.tool_call("c1", "add", {"a": 1}))
    assert call.call_id == "c1" and call.params == {"a": 1}
    assert json.loads(frames.heartbeat_ack()) == {"type": "heartbeat_ack"}


# ---- over a real socket ----


@pytest.fixture
def org(server: LiveServer, client: httpx.Client, tmp_path: Path):
    """An org with a real SDK connected (the witness) and a second connection for raw sockets."""
    tenant = new_tenant(server)
    witness = tenant.sdk_connection("witness")
    sdk = SdkProcess(server.ws_url, witness["secret"], log_dir=tmp_path)
    wait_for_sockets(client, tenant.headers, witness["id"], 1)
    wait_until(lambda: "add" in online_tools(client, tenant.headers), what="witness online")
    raw_conn = tenant.sdk_connection("raw")
    yield tenant, raw_conn
    sdk.stop()


def raw_socket(server: LiveServer, secret: str, **kw: Any) -> ClientConnection:
    sock = ws_connect(
        f"ws://127.0.0.1:{server.ws_port}/ws/sdk",
        additional_headers={"Authorization": f"Bearer {secret}"},
        **kw,
    )
    welcome = json.loads(sock.recv(timeout=5))
    assert welcome["type"] == "welcome"
    return sock


def closed_with(sock: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            sock.recv(timeout=10)
    return closed.value.rcvd.code if closed.value.rcvd else None


def still_served(client: httpx.Client, tenant: Tenant) -> None:
    assert invoke(client, tenant.headers, "add", {"a": 1}).json()["result"] == 3


def test_welcome_names_the_connection_and_org(server: LiveServer, org):
    tenant, conn = org
    sock = ws_connect(
        f"ws://127.0.0.1:{server.ws_port}/ws/sdk",
        additional_headers={"Authorization": f"Bearer {conn['secret']}"},
    )
    welcome = json.loads(sock.recv(timeout=5))
    assert welcome == {
        "type": "welcome",
        "sdk_connection_id": conn["id"],
        "organization_id": tenant.org_id,
        "org_id": tenant.org_id,
        "entity_id": conn["id"],
    }
    sock.close()


def test_malformed_and_unknown_frames_are_dropped_and_the_socket_stays(
    server: LiveServer, org, client: httpx.Client
):
    tenant, conn = org
    sock = raw_socket(server, conn["secret"])
    for bad in ("{not json", '{"type": "bogus"}', "[]", '{"type": "tool_result"}'):
        sock.send(bad)
    sock.send(json.dumps({"type": "heartbeat", "tools_health": {}}))
    assert json.loads(sock.recv(timeout=5)) == {"type": "heartbeat_ack"}
    still_served(client, tenant)
    sock.close()


def test_invalid_declaration_changes_nothing(server: LiveServer, org, client: httpx.Client):
    tenant, conn = org
    sock = raw_socket(server, conn["secret"])
    good = {
        "type": "tool_register",
        "tools": [{"name": "raw_tool", "description": "d", "input_schema": {"type": "object"}}],
    }
    sock.send(json.dumps(good))
    wait_until(lambda: "raw_tool" in online_tools(client, tenant.headers), what="raw_tool")
    bad = {"type": "tool_register", "tools": [{"name": "other", "input_schema": {"type": 5}}]}
    sock.send(json.dumps(bad))
    sock.send(json.dumps({"type": "heartbeat"}))
    assert json.loads(sock.recv(timeout=5))["type"] == "heartbeat_ack"  # still up
    tools = online_tools(client, tenant.headers)
    assert "raw_tool" in tools and "other" not in tools
    sock.close()


def test_binary_frame_closes_with_1003(server: LiveServer, org, client: httpx.Client):
    tenant, conn = org
    sock = raw_socket(server, conn["secret"])
    sock.send(b"\x00\x01\x02")
    assert closed_with(sock) == 1003
    still_served(client, tenant)


def test_oversize_frame_closes_with_1009(server: LiveServer, org, client: httpx.Client):
    tenant, conn = org
    sock = raw_socket(server, conn["secret"], max_size=None)
    sock.send("x" * (4 * 1024 * 1024 + 1))
    assert closed_with(sock) == 1009
    still_served(client, tenant)


def test_register_flood_closes_with_1008(server: LiveServer, org, client: httpx.Client):
    tenant, conn = org
    sock = raw_socket(server, conn["secret"])
    frame = json.dumps(
        {"type": "tool_register", "tools": [{"name": "flood", "input_schema": {"type": "object"}}]}
    )
    for _ in range(25):  # more than 20 within 10 s
        sock.send(frame)
    assert closed_with(sock) == 1008
    still_served(client, tenant)


def test_answers_for_unknown_or_foreign_calls_are_ignored(
    server: LiveServer, org, client: httpx.Client
):
    tenant, conn = org
    sock = raw_socket(server, conn["secret"])
    result: dict[str, Any] = {}

    def slow_call() -> None:
        with httpx.Client(base_url=client.base_url, timeout=30) as c:
            result["body"] = invoke(c, tenant.headers, "sleep_for", {"seconds": 1.5}).json()

    worker = threading.Thread(target=slow_call)
    worker.start()
    running = wait_until(
        lambda: client.get(
            "/api/v1/tool-calls", headers=tenant.headers, params={"status": "running"}
        ).json()["items"],
        what="a running call",
    )
    # This socket belongs to another connection: its answer must not complete the call.
    sock.send(json.dumps({"type": "tool_result", "call_id": running[0]["id"], "result": "forged"}))
    sock.send(json.dumps({"type": "tool_error", "call_id": "no-such-call", "error": "x"}))
    worker.join(30)
    assert result["body"]["status"] == "succeeded"
    assert result["body"]["result"]["slept"] == 1.5
    sock.close()


def test_idle_socket_is_closed_with_4008(start_server: Callable[..., LiveServer]):
    live = start_server(PLATOS_WS_IDLE_TIMEOUT="1")
    tenant = new_tenant(live)
    sock = raw_socket(live, tenant.sdk_connection()["secret"])
    assert closed_with(sock) == 4008


def test_socket_port_health_and_unknown_paths(server: LiveServer):
    health = httpx.get(f"http://127.0.0.1:{server.ws_port}/health")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert httpx.get(f"http://127.0.0.1:{server.ws_port}/elsewhere").status_code == 404


def test_heartbeat_health_is_shown_with_the_tool(server: LiveServer, org, client: httpx.Client):
    tenant, conn = org
    sock = raw_socket(server, conn["secret"])
    sock.send(
        json.dumps(
            {
                "type": "tool_register",
                "tools": [{"name": "probe", "input_schema": {"type": "object"}}],
            }
        )
    )
    health = {
        "status": "degraded",
        "avg_latency_ms": 12,
        "error_count_1h": 3,
        "last_error": "timeout talking to the billing DB",
    }
    sock.send(json.dumps({"type": "heartbeat", "tools_health": {"probe": health}}))
    assert json.loads(sock.recv(timeout=5)) == {"type": "heartbeat_ack"}

    def shown() -> dict | None:
        entries = online_tools(client, tenant.headers).get("probe")
        return entries[0]["health"] if entries else None

    assert wait_until(shown, what="health shown") == health
    sock.close()


def test_graceful_shutdown_closes_sockets_with_1001(start_server: Callable[..., LiveServer]):
    live = start_server()
    tenant = new_tenant(live)
    sock = raw_socket(live, tenant.sdk_connection()["secret"])
    live.stop()  # SIGTERM
    assert closed_with(sock) == 1001


def test_calls_beyond_the_per_socket_cap_wait_on_the_server(
    server: LiveServer, org, client: httpx.Client
):
    # The SDK reads one frame at a time and stops reading (pings too) once 16 frames queue
    # up, which gets it dropped: so at most 8 unanswered calls are sent to one socket.
    tenant, conn = org
    sock = raw_socket(server, conn["secret"])
    register = {"type": "tool_register", "tools": [{"name": "hold", "input_schema": {}}]}
    sock.send(json.dumps(register))
    wait_until(lambda: "hold" in online_tools(client, tenant.headers), what="hold online")
    answers: list[int] = []

    def call() -> None:
        with httpx.Client(base_url=client.base_url, timeout=30) as c:
            answers.append(invoke(c, tenant.headers, "hold", {}, timeout_ms=6000).status_code)

    workers = [threading.Thread(target=call) for _ in range(12)]
    for worker in workers:
        worker.start()
    sent = []
    with contextlib.suppress(TimeoutError):
        while True:  # until nothing more arrives for 3 s (well before the calls' timeout)
            sent.append(json.loads(sock.recv(timeout=3)))
    assert [f["type"] for f in sent] == ["tool_call"] * 8
    for frame in sent[:2]:  # answering frees slots: waiting calls go out
        sock.send(json.dumps({"type": "tool_result", "call_id": frame["call_id"], "result": 1}))
    more = [json.loads(sock.recv(timeout=5)) for _ in range(2)]
    assert {f["type"] for f in more} == {"tool_call"}
    sock.close()  # the rest fail at once
    for worker in workers:
        worker.join(30)
    assert sorted(answers) == [200] * 12
    still_served(client, tenant)


def test_handshakes_per_connection_are_limited(server: LiveServer, org):
    _, conn = org
    for _ in range(60):  # HANDSHAKES_PER_CONNECTION: 60 a minute
        raw_socket(server, conn["secret"]).close()
    with pytest.raises(InvalidStatus) as refused:
        raw_socket(server, conn["secret"])
    assert refused.value.response.status_code == 429


def test_a_revocation_that_no_message_announced_still_closes_the_socket(
    start_server: Callable[..., LiveServer],
):
    # As for a socket process cut off from Redis when the revocation went out: the database
    # says revoked, nobody told the socket server, and its periodic re-check finds out.
    live = start_server(PLATOS_WS_SECRET_RECHECK="1")
    tenant = new_tenant(live)
    conn = tenant.sdk_connection()
    sock = raw_socket(live, conn["secret"])
    set_timestamp(
        live, table="sdk_connections", column="revoked_at", row_id=conn["id"], value=utcnow()
    )
    assert closed_with(sock) == 4001
