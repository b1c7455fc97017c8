"""GET and PATCH /api/v1/org."""

from __future__ import annotations

import httpx

from tests.dbaccess import add_membership
from tests.live import PASSWORD, LiveServer, bearer
from tests.test_auth import assert_problem


def test_get_org(server: LiveServer, client: httpx.Client):
    reg = server.register()
    resp = client.get("/api/v1/org", headers=bearer(reg["access_token"]))
    assert resp.status_code == 200
    org = resp.json()
    assert org["id"] == reg["organization"]["id"]
    assert set(org) == {"id", "name", "settings", "created_at", "updated_at"}


def test_owner_updates_name_and_settings(server: LiveServer, client: httpx.Client):
    reg = server.register()
    headers = bearer(reg["access_token"])
    resp = client.patch(
        "/api/v1/org",
        headers=headers,
        json={
            "name": "Renamed",
            "settings": {"default_timeout_ms": 1000, "nested": {"a": [1, 2]}},
        },
    )
    assert resp.status_code == 200
    assert resp.json()["name"] == "Renamed"
    assert resp.json()["updated_at"] >= reg["organization"]["updated_at"]
    again = client.get("/api/v1/org", headers=headers).json()
    assert again["settings"] == {"default_timeout_ms": 1000, "nested": {"a": [1, 2]}}
    only_name = client.patch("/api/v1/org", headers=headers, json={"name": "Once more"})
    assert only_name.json()["settings"] == again["settings"]


def test_read_only_and_unknown_fields_are_400(server: LiveServer, client: httpx.Client):
    reg = server.register()
    headers = bearer(reg["access_token"])
    for body in (
        {"id": reg["organization"]["id"]},
        {"created_at": "2020-01-01T00:00:00Z"},
        {"name": "x", "colour": "red"},
        {},
        {"name": ""},
        {"name": "   "},
        {"settings": []},
        {"name": 5},
    ):
        assert_problem(
            client.patch("/api/v1/org", headers=headers, json=body), 400, "validation-error"
        )
    assert client.get("/api/v1/org", headers=headers).json()["name"] == reg["organization"]["name"]


def test_member_may_read_but_not_update(server: LiveServer, client: httpx.Client):
    owner = server.register()
    member = server.register()
    add_membership(
        server, org_id=owner["organization"]["id"], user_id=member["user"]["id"], role="member"
    )
    login = client.post(
        "/api/v1/auth/login",
        json={
            "email": member["user"]["email"],
            "password": PASSWORD,
            "organization_id": owner["organization"]["id"],
        },
    )
    assert login.json()["organization"]["id"] == owner["organization"]["id"]
    headers = bearer(login.json()["access_token"])
    assert client.get("/api/v1/auth/me", headers=headers).json()["role"] == "member"
    assert client.get("/api/v1/org", headers=headers).status_code == 200
    resp = client.patch("/api/v1/org", headers=headers, json={"name": "Hijacked"})
    assert_problem(resp, 403, "forbidden")
    org = client.get("/api/v1/org", headers=bearer(owner["access_token"])).json()
    assert org["name"] == owner["organization"]["name"]


def test_admin_may_update(server: LiveServer, client: httpx.Client):
    owner = server.register()
    admin = server.register()
    add_membership(
        server, org_id=owner["organization"]["id"], user_id=admin["user"]["id"], role="admin"
    )
    login = client.post(
        "/api/v1/auth/login",
        json={
            "email": admin["user"]["email"],
            "password": PASSWORD,
            "organization_id": owner["organization"]["id"],
        },
    ).json()
    resp = client.patch(
        "/api/v1/org", headers=bearer(login["access_token"]), json={"name": "By admin"}
    )
    assert resp.status_code == 200
    assert resp.json()["name"] == "By admin"


def test_org_requires_auth(client: httpx.Client):
    assert_problem(client.get("/api/v1/org"), 401, "unauthorized")
    assert_problem(client.patch("/api/v1/org", json={"name": "x"}), 401, "unauthorized")
