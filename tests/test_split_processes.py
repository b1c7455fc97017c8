"""The scaled-out deployment: two `platos api` and two `platos ws` processes sharing
PostgreSQL and Redis. An SDK on one socket process is invoked through the other API
process; a socket process killed mid-call fails the call cleanly."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.factories import Tenant
from tests.live import LiveServer, ScratchDatabase
from tests.sdk import (
    BackgroundCall,
    SdkProcess,
    online_tools,
    wait_for_running_call,
    wait_for_sockets,
    wait_until,
)
from tests.test_sdk_flow import invoke

REDIS_URL = os.environ.get("PLATOS_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[dict[str, list[LiveServer]]]:
    redis.Redis.from_url(REDIS_URL).ping()
    db = ScratchDatabase("postgres", tmp_path)
    key = secrets.token_urlsafe(48)
    env = {"REDIS_URL": REDIS_URL}
    procs: dict[str, list[LiveServer]] = {"api": [], "ws": []}
    try:
        for kind in ("ws", "ws", "api", "api"):
            folder = tmp_path / f"{kind}-{uuid.uuid4().hex[:6]}"
            folder.mkdir()
            live = LiveServer(
                backend="postgres",
                data_dir=folder,
                db=db,
                jwt_secret=key,
                extra_env=env,
                command=kind,
            )
            live.start()
            procs[kind].append(live)
        yield procs
    finally:
        for live in procs["api"] + procs["ws"]:
            live.stop()
        db.drop()


def test_calls_cross_processes_and_a_dead_socket_process_fails_cleanly(
    cluster: dict[str, list[LiveServer]], tmp_path: Path
):
    api1, api2 = cluster["api"]
    ws1, ws2 = cluster["ws"]
    tenant = Tenant(server=api1, owner=api1.register())
    conn = tenant.sdk_connection()
    sdk1 = SdkProcess(ws1.ws_url, conn["secret"], instance="on-ws1", log_dir=tmp_path)
    sdk2 = SdkProcess(ws2.ws_url, conn["secret"], instance="on-ws2", log_dir=tmp_path)
    try:
        with api2.client() as c:
            wait_for_sockets(c, tenant.headers, conn["id"], 2)
            wait_until(lambda: "add" in online_tools(c, tenant.headers), what="tools via api2")
            # Through the other API process, to both socket processes.
            seen = {
                invoke(c, tenant.headers, "whoami", {}).json()["result"]["instance"]
                for _ in range(24)
            }
            assert seen == {"on-ws1", "on-ws2"}
            assert invoke(c, tenant.headers, "add", {"a": 40}).json()["result"] == 42

            # Only ws1 holds a socket now; kill it while it runs a call.
            sdk2.stop()
            wait_for_sockets(c, tenant.headers, conn["id"], 1)
            call = BackgroundCall(
                api2.url, tenant.headers, "sleep_for", {"seconds": 40}, timeout_ms=60_000
            )
            wait_for_running_call(c, tenant.headers)
            ws1.kill()
            resp = call.wait(15)  # presence expires within 7 s; the tool sleeps 40
            body = resp.json()
            assert resp.status_code == 200 and body["status"] == "failed", body
            assert "went away" in body["error"]
            record = c.get(f"/api/v1/tool-calls/{body['call_id']}", headers=tenant.headers).json()
            assert record["status"] == "failed"
            # The surviving socket process keeps serving.
            sdk3 = SdkProcess(ws2.ws_url, conn["secret"], instance="late", log_dir=tmp_path)
            wait_until(
                lambda: invoke(c, tenant.headers, "whoami", {}).status_code == 200,
                timeout=30,
                what="a socket on ws2",
            )
            assert invoke(c, tenant.headers, "whoami", {}).json()["result"]["instance"] == "late"

        # Revoking through api1 closes the socket held by ws2, even after ws2 lost its
        # subscription to Redis (the connection killed under it).
        redis.Redis.from_url(REDIS_URL).client_kill_filter(_type="pubsub")
        with api1.client() as c:
            c.delete(f"/api/v1/org/sdk-connections/{conn['id']}", headers=tenant.headers)
        wait_until(
            lambda: "4001" in sdk3.log(), timeout=30, what="ws2's socket closed by the revocation"
        )
        sdk3.stop()
    finally:
        sdk1.stop()
        sdk2.stop()
