"""API keys: shown once, stored hashed, act for their org with narrow rights, revocable."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.dbaccess import set_timestamp
from tests.factories import Tenant, key_header, new_tenant
from tests.live import LiveServer, bearer
from tests.test_auth import assert_problem


@pytest.fixture
def tenant(server: LiveServer) -> Tenant:
    return new_tenant(server)


def test_create_shows_the_key_once_and_stores_only_a_hash(
    server: LiveServer, tenant: Tenant, client: httpx.Client
):
    created = tenant.api_key("ci")
    assert set(created) == {"id", "name", "prefix", "key", "created_at", "expires_at"}
    assert created["key"].startswith("platos_key_") and len(created["key"]) >= 50
    assert created["key"].startswith(created["prefix"]) and created["prefix"] != created["key"]
    listed = client.get("/api/v1/org/api-keys", headers=tenant.headers).json()
    (entry,) = listed["items"]
    assert set(entry) == {"id", "name", "prefix", "created_at", "last_used_at", "expires_at"}
    assert created["key"] not in str(listed)
    stored = server.db.rows("SELECT * FROM api_keys")
    assert created["key"] not in str(stored)
    # Two keys never collide.
    assert tenant.api_key()["key"] != created["key"]


def test_key_acts_for_its_org(tenant: Tenant, client: httpx.Client):
    key = tenant.api_key()
    resp = client.get("/api/v1/org", headers=key_header(key))
    assert resp.status_code == 200 and resp.json()["id"] == tenant.org_id
    listed = client.get("/api/v1/org/api-keys", headers=tenant.headers).json()["items"][0]
    assert listed["last_used_at"] is not None


def test_key_may_not_manage_anything(tenant: Tenant, client: httpx.Client):
    h = key_header(tenant.api_key())
    conn = tenant.sdk_connection()
    for method, path, body in [
        ("POST", "/api/v1/org/api-keys", {"name": "minted-by-a-key"}),
        ("GET", "/api/v1/org/api-keys", None),
        ("DELETE", f"/api/v1/org/api-keys/{uuid.uuid4()}", None),
        ("POST", "/api/v1/org/sdk-connections", {"name": "x"}),
        ("GET", "/api/v1/org/sdk-connections", None),
        ("GET", f"/api/v1/org/sdk-connections/{conn['id']}", None),
        ("POST", f"/api/v1/org/sdk-connections/{conn['id']}/rotate", None),
        ("DELETE", f"/api/v1/org/sdk-connections/{conn['id']}", None),
        ("GET", "/api/v1/org/members", None),
        ("POST", "/api/v1/org/members", {"email": "k@example.com", "role": "member"}),
        ("PATCH", "/api/v1/org", {"name": "by key"}),
        ("GET", "/api/v1/org/audit-log", None),
    ]:
        resp = client.request(method, path, headers=h, json=body)
        assert_problem(resp, 403, "forbidden")
    assert len(client.get("/api/v1/org/api-keys", headers=tenant.headers).json()["items"]) == 1


def test_key_cannot_use_session_endpoints(tenant: Tenant, client: httpx.Client):
    h = key_header(tenant.api_key())
    assert_problem(client.get("/api/v1/auth/me", headers=h), 401, "unauthorized")
    assert_problem(client.post("/api/v1/auth/logout", headers=h), 401, "unauthorized")
    # A key is not a bearer token either.
    assert_problem(
        client.get("/api/v1/org", headers=bearer(tenant.api_key()["key"])), 401, "unauthorized"
    )


def test_revoked_key_is_refused_at_once(tenant: Tenant, client: httpx.Client):
    key = tenant.api_key()
    assert client.get("/api/v1/org", headers=key_header(key)).status_code == 200
    resp = client.delete(f"/api/v1/org/api-keys/{key['id']}", headers=tenant.headers)
    assert resp.status_code == 204
    assert_problem(client.get("/api/v1/org", headers=key_header(key)), 401, "unauthorized")
    assert client.get("/api/v1/org/api-keys", headers=tenant.headers).json()["items"] == []
    again = client.delete(f"/api/v1/org/api-keys/{key['id']}", headers=tenant.headers)
    assert_problem(again, 404, "not-found")


def test_expiry(server: LiveServer, tenant: Tenant, client: httpx.Client):
    past = client.post(
        "/api/v1/org/api-keys",
        headers=tenant.headers,
        json={"name": "old", "expires_at": "2001-01-01T00:00:00Z"},
    )
    assert_problem(past, 400, "validation-error")
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    key = client.post(
        "/api/v1/org/api-keys", headers=tenant.headers, json={"name": "soon", "expires_at": soon}
    ).json()
    assert client.get("/api/v1/org", headers=key_header(key)).status_code == 200
    set_timestamp(
        server,
        table="api_keys",
        column="expires_at",
        row_id=key["id"],
        value=datetime(2001, 1, 1, tzinfo=UTC),
    )  # time passes
    assert_problem(client.get("/api/v1/org", headers=key_header(key)), 401, "unauthorized")


def test_garbage_keys_are_401(client: httpx.Client):
    for value in ("platos_key_nope", "x" * 300, "' OR 1=1 --"):
        assert_problem(client.get("/api/v1/org", headers={"X-API-Key": value}), 401, "unauthorized")


def test_members_may_not_manage_keys(tenant: Tenant, client: httpx.Client):
    member = tenant.add_member("member")
    h = bearer(member["access_token"])
    assert_problem(
        client.post("/api/v1/org/api-keys", headers=h, json={"name": "m"}), 403, "forbidden"
    )
    assert_problem(client.get("/api/v1/org/api-keys", headers=h), 403, "forbidden")
    admin = tenant.add_member("admin")
    resp = client.post(
        "/api/v1/org/api-keys", headers=bearer(admin["access_token"]), json={"name": "by admin"}
    )
    assert resp.status_code == 201
