"""SDK connections: the PLATOS_SECRET is an SDK-only JWT, shown once, rotatable, revocable."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import httpx
import jwt
import pytest

from core.platform import Platform
from core.services import sdk_connections
from core.settings import load_settings
from tests.factories import Tenant, key_header, new_tenant
from tests.live import LiveServer, bearer
from tests.test_auth import assert_problem


@pytest.fixture
def tenant(server: LiveServer) -> Tenant:
    return new_tenant(server)


def _secret_is_live(server: LiveServer, secret: str) -> bool:
    """Ask the platform's own secret check, on the server's real database and key."""

    async def check() -> bool:
        settings = replace(
            load_settings(), database_url=server.db.url, jwt_secret=server.jwt_secret
        )
        p = Platform.create(settings)
        try:
            return await sdk_connections.authenticate_secret(p, secret) is not None
        finally:
            await p.close()

    return asyncio.run(check())


def test_create_returns_an_sdk_scoped_secret(server: LiveServer, tenant: Tenant):
    conn = tenant.sdk_connection("billing")
    assert set(conn) == {"id", "name", "secret", "created_at", "rotated_at"}
    claims = jwt.decode(
        conn["secret"], server.jwt_secret, algorithms=["HS256"], audience="platos:sdk"
    )
    assert claims["org_id"] == tenant.org_id
    assert claims["sdk_connection_id"] == conn["id"]
    assert claims["typ"] == "sdk" and claims["jti"]
    assert _secret_is_live(server, conn["secret"])


def test_secret_is_refused_by_the_rest_api(tenant: Tenant, client: httpx.Client):
    secret = tenant.sdk_connection()["secret"]
    assert_problem(client.get("/api/v1/org", headers=bearer(secret)), 401, "unauthorized")
    assert_problem(client.get("/api/v1/org", headers=key_header(secret)), 401, "unauthorized")


def test_user_tokens_and_keys_are_not_sdk_secrets(server: LiveServer, tenant: Tenant):
    assert not _secret_is_live(server, tenant.owner["access_token"])
    assert not _secret_is_live(server, tenant.owner["refresh_token"])
    assert not _secret_is_live(server, tenant.api_key()["key"])


def test_list_and_get_show_status_and_never_the_secret(tenant: Tenant, client: httpx.Client):
    conn = tenant.sdk_connection("svc")
    page = client.get("/api/v1/org/sdk-connections", headers=tenant.headers).json()
    (entry,) = page["items"]
    assert entry["id"] == conn["id"] and conn["secret"] not in str(page)
    assert entry["status"] == "offline" and entry["live_sockets"] == 0
    assert entry["tool_count"] == 0 and entry["last_seen_at"] is None
    one = client.get(f"/api/v1/org/sdk-connections/{conn['id']}", headers=tenant.headers)
    assert one.status_code == 200 and one.json() == entry


def test_rotate_kills_the_old_secret_at_once(
    server: LiveServer, tenant: Tenant, client: httpx.Client
):
    conn = tenant.sdk_connection()
    resp = client.post(f"/api/v1/org/sdk-connections/{conn['id']}/rotate", headers=tenant.headers)
    assert resp.status_code == 200
    new = resp.json()
    assert new["secret"] != conn["secret"] and new["rotated_at"] is not None
    assert not _secret_is_live(server, conn["secret"])
    assert _secret_is_live(server, new["secret"])


def test_revoke(server: LiveServer, tenant: Tenant, client: httpx.Client):
    conn = tenant.sdk_connection()
    assert (
        client.delete(
            f"/api/v1/org/sdk-connections/{conn['id']}", headers=tenant.headers
        ).status_code
        == 204
    )
    assert not _secret_is_live(server, conn["secret"])
    for method, path in (("GET", ""), ("DELETE", ""), ("POST", "/rotate")):
        resp = client.request(
            method, f"/api/v1/org/sdk-connections/{conn['id']}{path}", headers=tenant.headers
        )
        assert_problem(resp, 404, "not-found")
    assert client.get("/api/v1/org/sdk-connections", headers=tenant.headers).json()["items"] == []


def test_members_may_not_see_connections(tenant: Tenant, client: httpx.Client):
    member = tenant.add_member("member")
    h = bearer(member["access_token"])
    assert_problem(client.get("/api/v1/org/sdk-connections", headers=h), 403, "forbidden")
    assert_problem(
        client.post("/api/v1/org/sdk-connections", headers=h, json={"name": "n"}), 403, "forbidden"
    )
    assert_problem(
        client.get(f"/api/v1/org/sdk-connections/{uuid.uuid4()}", headers=h), 403, "forbidden"
    )


def test_admins_manage_connections_and_keys(
    server: LiveServer, tenant: Tenant, client: httpx.Client
):
    admin = bearer(tenant.add_member("admin")["access_token"])
    created = client.post("/api/v1/org/sdk-connections", headers=admin, json={"name": "by-admin"})
    assert created.status_code == 201, created.text
    conn = created.json()
    path = f"/api/v1/org/sdk-connections/{conn['id']}"
    listed = client.get("/api/v1/org/sdk-connections", headers=admin).json()["items"]
    assert [c["id"] for c in listed] == [conn["id"]]
    assert client.get(path, headers=admin).json()["name"] == "by-admin"
    rotated = client.post(f"{path}/rotate", headers=admin)
    assert rotated.status_code == 200 and rotated.json()["secret"] != conn["secret"]
    assert client.delete(path, headers=admin).status_code == 204
    assert not _secret_is_live(server, rotated.json()["secret"])

    key = client.post("/api/v1/org/api-keys", headers=admin, json={"name": "admin-key"}).json()
    keys = client.get("/api/v1/org/api-keys", headers=admin).json()["items"]
    assert [k["id"] for k in keys] == [key["id"]]
    assert client.delete(f"/api/v1/org/api-keys/{key['id']}", headers=admin).status_code == 204
    assert_problem(client.get("/api/v1/org", headers=key_header(key)), 401, "unauthorized")
