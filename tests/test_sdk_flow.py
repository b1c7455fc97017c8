"""End to end with the published `platools` SDK: register, invoke, fail, time out, drop,
reconnect, revoke, share a secret, and verify the signed envelope."""

from __future__ import annotations

import hmac
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from platools.security import verify_request
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from tests.dbaccess import insert_running_call
from tests.factories import Tenant, key_header, new_tenant
from tests.live import LiveServer, bearer
from tests.sdk import (
    BackgroundCall,
    SdkProcess,
    online_tools,
    wait_for_running_call,
    wait_for_sockets,
    wait_until,
)
from tests.test_auth import assert_problem


@pytest.fixture
def tenant(server: LiveServer) -> Tenant:
    return new_tenant(server)


@pytest.fixture
def sdks(tmp_path: Path) -> Iterator[Callable[..., SdkProcess]]:
    started: list[SdkProcess] = []

    def start(server: LiveServer, secret: str, **kw: Any) -> SdkProcess:
        sdk = SdkProcess(server.ws_url, secret, log_dir=tmp_path, **kw)
        started.append(sdk)
        return sdk

    yield start
    for sdk in started:
        sdk.stop()


@pytest.fixture
def connected(
    server: LiveServer, tenant: Tenant, sdks: Callable[..., SdkProcess], client: httpx.Client
) -> tuple[Tenant, dict[str, Any], SdkProcess]:
    conn = tenant.sdk_connection("backend")
    sdk = sdks(server, conn["secret"])
    wait_for_sockets(client, tenant.headers, conn["id"], 1)
    wait_until(lambda: "add" in online_tools(client, tenant.headers), what="tools online")
    return tenant, conn, sdk


def invoke(
    client: httpx.Client, headers: dict[str, str], tool: str, params: dict[str, Any], **extra: Any
) -> httpx.Response:
    return client.post(
        f"/api/v1/tools/{tool}/invoke", headers=headers, json={"params": params, **extra}
    )


def test_registered_tools_are_listed_online(connected, client: httpx.Client):
    tenant, conn, _ = connected
    tools = online_tools(client, tenant.headers)
    assert set(tools) == {"add", "explode", "sleep_for", "whoami", "big", "word"}
    (add,) = tools["add"]
    assert add["sdk_connection_id"] == conn["id"]
    assert add["input_schema"]["required"] == ["a"]
    assert add["description"] == "Add two integers." and add["auth"] == "none"
    detail = client.get(f"/api/v1/org/sdk-connections/{conn['id']}", headers=tenant.headers).json()
    assert detail["status"] == "online" and detail["live_sockets"] == 1
    assert detail["tool_count"] == 6 and detail["last_seen_at"] is not None


def test_invoke_returns_the_result_and_records_the_call(connected, client: httpx.Client):
    tenant, conn, _ = connected
    resp = invoke(client, tenant.headers, "add", {"a": 2, "b": 3})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "succeeded" and body["result"] == 5 and body["latency_ms"] >= 0
    call = client.get(f"/api/v1/tool-calls/{body['call_id']}", headers=tenant.headers).json()
    assert call["status"] == "succeeded" and call["tool_name"] == "add"
    assert call["sdk_connection_id"] == conn["id"] and call["completed_at"] is not None
    assert call["invoked_by"] == {"type": "user", "id": tenant.owner["user"]["id"]}
    # API keys and members may invoke too.
    by_key = invoke(client, key_header(tenant.api_key()), "add", {"a": 1})
    assert by_key.json()["result"] == 3
    member = tenant.add_member("member")
    assert invoke(client, bearer(member["access_token"]), "add", {"a": 0}).json()["result"] == 2
    listed = client.get(
        "/api/v1/tool-calls",
        headers=tenant.headers,
        params={"tool_name": "add", "status": "succeeded"},
    ).json()
    assert listed["total"] == 3


def test_a_raising_tool_fails_the_call(connected, client: httpx.Client):
    tenant, _, _ = connected
    body = invoke(client, tenant.headers, "explode", {"message": "kaput"}).json()
    assert body["status"] == "failed" and "boom: kaput" in body["error"]
    call = client.get(f"/api/v1/tool-calls/{body['call_id']}", headers=tenant.headers).json()
    assert call["status"] == "failed" and "boom: kaput" in call["error"]


def test_unknown_tool_is_404(connected, client: httpx.Client):
    tenant, _, _ = connected
    assert_problem(invoke(client, tenant.headers, "no_such_tool", {}), 404, "not-found")


def test_params_violating_the_schema_are_400_and_not_dispatched(connected, client: httpx.Client):
    tenant, _, _ = connected
    for params in ({"b": 1}, {"a": "two"}):
        resp = invoke(client, tenant.headers, "add", params)
        assert_problem(resp, 400, "validation-error")
        assert "two" not in resp.text
    # The SDK's own keys in params are the platform's to set.
    for reserved in ("__platos", "_context"):
        resp = invoke(client, tenant.headers, "whoami", {reserved: {"userId": "someone"}})
        assert_problem(resp, 400, "validation-error")
    calls = client.get("/api/v1/tool-calls", headers=tenant.headers).json()
    assert calls["total"] == 0


def test_a_backtracking_pattern_cannot_stall_the_server(connected, client: httpx.Client):
    # `^(a+)+$` against 64 a's and a "!" takes Python's `re` longer than the universe has
    # existed; tools' schemas run on a linear-time engine, so this is an ordinary 400.
    tenant, _, _ = connected
    with httpx.Client(base_url=client.base_url, timeout=20) as c:
        resp = invoke(c, tenant.headers, "word", {"text": "a" * 64 + "!"})
        assert_problem(resp, 400, "validation-error")
        assert invoke(c, tenant.headers, "word", {"text": "aaa"}).json()["result"] == "aaa"


def test_timeout_is_504_and_recorded(connected, client: httpx.Client):
    tenant, _, _ = connected
    resp = invoke(client, tenant.headers, "sleep_for", {"seconds": 3}, timeout_ms=300)
    body = assert_problem(resp, 504, "tool-timeout")
    call = client.get(f"/api/v1/tool-calls/{body['call_id']}", headers=tenant.headers).json()
    assert call["status"] == "timed_out"
    assert_problem(
        invoke(client, tenant.headers, "add", {"a": 1}, timeout_ms=300_001), 400, "validation-error"
    )


def test_sdk_killed_mid_call_fails_the_call_at_once(connected, client: httpx.Client):
    tenant, conn, sdk = connected
    call = BackgroundCall(
        str(client.base_url), tenant.headers, "sleep_for", {"seconds": 30}, timeout_ms=60_000
    )
    wait_for_running_call(client, tenant.headers)
    sdk.kill()
    resp = call.wait(10)  # the tool sleeps 30 s, a dead-peer ping check takes 20 s or more
    body = resp.json()
    assert resp.status_code == 200 and body["status"] == "failed"
    assert "disconnected" in body["error"]
    record = client.get(f"/api/v1/tool-calls/{body['call_id']}", headers=tenant.headers).json()
    assert record["status"] == "failed"
    wait_for_sockets(client, tenant.headers, conn["id"], 0)
    assert_problem(invoke(client, tenant.headers, "add", {"a": 1}), 503, "tool-unavailable")


def test_revocation_and_rotation_close_live_sockets(
    server: LiveServer, tenant: Tenant, sdks, client: httpx.Client
):
    rotated = tenant.sdk_connection("rotated")
    revoked = tenant.sdk_connection("revoked")
    sdk_r = sdks(server, rotated["secret"], instance="rot")
    sdk_v = sdks(server, revoked["secret"], instance="rev")
    wait_for_sockets(client, tenant.headers, rotated["id"], 1)
    wait_for_sockets(client, tenant.headers, revoked["id"], 1)
    wait_until(lambda: len(online_tools(client, tenant.headers).get("add", [])) == 2)
    client.post(f"/api/v1/org/sdk-connections/{rotated['id']}/rotate", headers=tenant.headers)
    client.delete(f"/api/v1/org/sdk-connections/{revoked['id']}", headers=tenant.headers)
    wait_for_sockets(client, tenant.headers, rotated["id"], 0)
    # The SDKs keep retrying with their dead secrets and are refused at the handshake.
    for sdk in (sdk_r, sdk_v):
        wait_until(
            lambda s=sdk: "4001" in s.log() and "HTTP 401" in s.log(), what="closed, refused"
        )
    assert_problem(invoke(client, tenant.headers, "add", {"a": 1}), 503, "tool-unavailable")
    # The rotated connection's tools stay listed (offline) until it reconnects; the revoked
    # connection's are gone, and naming it is like naming no connection at all.
    listed = client.get("/api/v1/tools", headers=tenant.headers).json()["items"]
    assert {t["sdk_connection_id"] for t in listed} == {rotated["id"]}
    assert not any(t["online"] for t in listed)
    gone = invoke(client, tenant.headers, "add", {"a": 1}, sdk_connection_id=revoked["id"])
    assert_problem(gone, 404, "not-found")


def test_handshake_refuses_user_tokens_and_api_keys(
    server: LiveServer, tenant: Tenant, sdks, client: httpx.Client
):
    ws_url = f"ws://127.0.0.1:{server.ws_port}/ws/sdk"
    for credential in (tenant.owner["access_token"], tenant.api_key()["key"], "garbage", None):
        headers = {"Authorization": f"Bearer {credential}"} if credential else {}
        with pytest.raises(InvalidStatus) as refused:
            ws_connect(ws_url, additional_headers=headers, open_timeout=5)
        assert refused.value.response.status_code == 401
    sdk = sdks(server, tenant.owner["access_token"], instance="user-token")
    wait_until(lambda: "HTTP 401" in sdk.log(), what="the SDK to be refused")
    assert online_tools(client, tenant.headers) == {}


def test_two_sockets_share_a_secret_and_share_the_calls(
    server: LiveServer, tenant: Tenant, sdks, client: httpx.Client
):
    conn = tenant.sdk_connection("scaled")
    sdks(server, conn["secret"], instance="one")
    wait_for_sockets(client, tenant.headers, conn["id"], 1)

    def stored() -> list[tuple]:
        rows = server.db.rows("SELECT sdk_connection_id, name, registered_at FROM tools")
        mine = uuid.UUID(conn["id"])
        return sorted(r[1:] for r in rows if uuid.UUID(str(r[0])) == mine)

    first = wait_until(stored, what="the declaration stored")
    sdks(server, conn["secret"], instance="two")
    wait_for_sockets(client, tenant.headers, conn["id"], 2)
    # The second socket declared the same tools: nothing was rewritten.
    assert stored() == first
    wait_until(
        lambda: len(online_tools(client, tenant.headers).get("whoami", [])) == 1,
        what="whoami online",
    )
    seen = {
        invoke(client, tenant.headers, "whoami", {}).json()["result"]["instance"] for _ in range(24)
    }
    assert seen == {"one", "two"}


def test_envelope_is_signed_with_the_connection_secret(connected, client: httpx.Client):
    tenant, conn, _ = connected
    # Nested, unsorted and non-ASCII, so that the canonical form is really exercised.
    args = {"x": 7, "data": {"zeta": "é ☃", "alpha": [3, {"b": 1, "a": None}], "mid": 1.5}}
    body = invoke(client, tenant.headers, "whoami", args).json()
    ctx = body["result"]["context"]
    assert ctx["organization_id"] == tenant.org_id and ctx["entity_id"] == conn["id"]
    assert ctx["user_id"] == tenant.owner["user"]["id"] and ctx["call_id"] == body["call_id"]
    # The documented canonical form (docs/sdk-protocol.md), written out here on its own.
    signed = json.dumps(
        {"method": "tools/call", "params": {"name": "whoami", "arguments": args}},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    check = verify_request(
        entity_id=conn["id"],
        service_secret=conn["secret"],
        timestamp=ctx["timestamp"],
        signature=ctx["signature"],
        body=signed,
        nonce=ctx["nonce"],
    )
    assert check.ok and not check.used_legacy_format, check
    mac = hmac.new(
        conn["secret"].encode(), f"{ctx['timestamp']}.{ctx['nonce']}.{signed}".encode(), "sha256"
    )
    assert ctx["signature"] == mac.hexdigest()
    forged = verify_request(
        entity_id=conn["id"],
        service_secret="another-secret",
        timestamp=ctx["timestamp"],
        signature=ctx["signature"],
        body=signed,
        nonce=uuid.uuid4().hex,
    )
    assert not forged.ok


def test_oversize_result_fails_the_call_and_keeps_the_socket(connected, client: httpx.Client):
    tenant, _, _ = connected
    body = invoke(client, tenant.headers, "big", {"n": 1_200_000}).json()
    assert body["status"] == "failed" and "exceeds" in body["error"]
    assert invoke(client, tenant.headers, "add", {"a": 1}).json()["result"] == 3


def test_sdk_reconnects_after_a_server_restart(start_server, sdks, client: httpx.Client):
    live = start_server()
    tenant = new_tenant(live)
    conn = tenant.sdk_connection()
    sdks(live, conn["secret"])
    with live.client() as c:
        wait_for_sockets(c, tenant.headers, conn["id"], 1)
    live.stop()
    live.start()
    with live.client() as c:
        wait_for_sockets(c, tenant.headers, conn["id"], 1, timeout=30)
        wait_until(lambda: "add" in online_tools(c, tenant.headers), what="re-registered")
        assert invoke(c, tenant.headers, "add", {"a": 40}).json()["result"] == 42


def test_calls_abandoned_by_a_dead_api_process_are_closed_on_start(start_server):
    live = start_server()
    tenant = new_tenant(live)
    conn = tenant.sdk_connection()
    call_id = uuid.uuid4()
    # A record left `running` an hour ago by a process that died mid-call.
    insert_running_call(
        live,
        call_id=call_id,
        org_id=tenant.org_id,
        connection_id=conn["id"],
        created_at=datetime.now(UTC) - timedelta(hours=1),
    )
    live.stop()
    live.start()
    with live.client() as c:
        record = c.get(f"/api/v1/tool-calls/{call_id}", headers=tenant.headers).json()
    assert record["status"] == "failed" and "abandoned" in record["error"]
