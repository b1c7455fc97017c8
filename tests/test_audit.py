"""The audit log: security events with actor, org, time, address and target; no secrets."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.factories import Tenant, key_header, new_tenant
from tests.live import PASSWORD, LiveServer, bearer
from tests.test_auth import assert_problem


@pytest.fixture
def tenant(server: LiveServer) -> Tenant:
    return new_tenant(server)


def _actions(client: httpx.Client, tenant: Tenant) -> list[dict]:
    resp = client.get("/api/v1/org/audit-log", headers=tenant.headers, params={"limit": 200})
    assert resp.status_code == 200
    return list(resp.json()["items"])


def test_security_events_are_recorded_without_secrets(
    server: LiveServer, tenant: Tenant, client: httpx.Client
):
    email = tenant.owner["user"]["email"]
    client.post("/api/v1/auth/login", json={"email": email, "password": "wrong-password!"})
    login = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()
    client.post("/api/v1/auth/logout", headers=bearer(login["access_token"]))
    again = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()
    client.post("/api/v1/auth/refresh", json={"refresh_token": again["refresh_token"]})
    client.post("/api/v1/auth/refresh", json={"refresh_token": again["refresh_token"]})  # reuse
    member = tenant.add_member("member")
    client.patch(
        f"/api/v1/org/members/{member['member_id']}/role",
        headers=tenant.headers,
        json={"role": "admin"},
    )
    client.delete(f"/api/v1/org/members/{member['member_id']}", headers=tenant.headers)
    key = tenant.api_key()
    client.delete(f"/api/v1/org/api-keys/{key['id']}", headers=tenant.headers)
    conn = tenant.sdk_connection()
    rotated = client.post(
        f"/api/v1/org/sdk-connections/{conn['id']}/rotate", headers=tenant.headers
    ).json()
    client.delete(f"/api/v1/org/sdk-connections/{conn['id']}", headers=tenant.headers)
    pending = client.post(
        "/api/v1/org/members",
        headers=tenant.headers,
        json={"email": f"later-{uuid.uuid4().hex[:8]}@example.com", "role": "member"},
    ).json()

    events = _actions(client, tenant)
    actions = [e["action"] for e in events]
    for expected in (
        "auth.login_failed",
        "auth.login_succeeded",
        "auth.logout",
        "auth.refresh_reuse_detected",
        "member.invited",
        "member.role_changed",
        "member.removed",
        "api_key.created",
        "api_key.revoked",
        "sdk_connection.created",
        "sdk_connection.rotated",
        "sdk_connection.revoked",
    ):
        assert expected in actions, expected
    created = next(e for e in events if e["action"] == "api_key.created")
    assert created["actor_type"] == "user" and created["actor_id"] == tenant.owner["user"]["id"]
    assert created["target_type"] == "api_key" and created["target_id"] == key["id"]
    assert created["client_ip"] == "127.0.0.1"
    failed = next(e for e in events if e["action"] == "auth.login_failed")
    assert failed["actor_type"] == "anonymous" and failed["target_id"] == tenant.owner["user"]["id"]
    assert events == sorted(events, key=lambda e: e["created_at"], reverse=True)

    stored = str(server.db.rows("SELECT * FROM audit_events"))
    for secret in (
        PASSWORD,
        "wrong-password!",
        key["key"],
        conn["secret"],
        rotated["secret"],
        login["access_token"],
        again["refresh_token"],
        pending["invite_token"],
    ):
        assert secret not in stored


def test_audit_log_is_for_owners_and_admins(tenant: Tenant, client: httpx.Client):
    admin = tenant.add_member("admin")
    member = tenant.add_member("member")
    assert (
        client.get("/api/v1/org/audit-log", headers=bearer(admin["access_token"])).status_code
        == 200
    )
    assert_problem(
        client.get("/api/v1/org/audit-log", headers=bearer(member["access_token"])),
        403,
        "forbidden",
    )
    assert_problem(
        client.get("/api/v1/org/audit-log", headers=key_header(tenant.api_key())), 403, "forbidden"
    )
