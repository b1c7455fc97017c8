"""Members, roles and invitations: the role matrix, the last-owner guard, session revocation."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.dbaccess import set_timestamp
from tests.factories import Tenant, key_header, new_tenant
from tests.live import PASSWORD, LiveServer, bearer
from tests.test_auth import assert_problem


def register_invited(client: httpx.Client, email: str, token: str) -> httpx.Response:
    body = {"email": email, "password": PASSWORD, "name": "X", "invite_token": token}
    return client.post("/api/v1/auth/register", json=body)


@pytest.fixture
def tenant(server: LiveServer) -> Tenant:
    return new_tenant(server)


def _members(client: httpx.Client, headers: dict[str, str], **params) -> dict:
    resp = client.get("/api/v1/org/members", headers=headers, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_owner_is_listed_with_membership_fields(tenant: Tenant, client: httpx.Client):
    page = _members(client, tenant.headers)
    assert page["total"] == 1 and page["limit"] == 50 and page["offset"] == 0
    (me,) = page["items"]
    assert set(me) == {"id", "user_id", "email", "name", "role", "status", "created_at"}
    assert me["role"] == "owner" and me["status"] == "active"
    assert me["user_id"] == tenant.owner["user"]["id"]


def test_pagination(tenant: Tenant, client: httpx.Client):
    for i in range(4):
        client.post(
            "/api/v1/org/members",
            headers=tenant.headers,
            json={"email": f"p{i}-{uuid.uuid4().hex[:6]}@example.com", "role": "member"},
        )
    first = _members(client, tenant.headers, limit=2, offset=0)
    second = _members(client, tenant.headers, limit=2, offset=2)
    third = _members(client, tenant.headers, limit=2, offset=4)
    assert first["total"] == second["total"] == 5
    ids = [m["id"] for m in first["items"] + second["items"] + third["items"]]
    assert len(ids) == len(set(ids)) == 5
    assert_problem(
        client.get("/api/v1/org/members", headers=tenant.headers, params={"limit": 201}),
        400,
        "validation-error",
    )
    assert_problem(
        client.get("/api/v1/org/members", headers=tenant.headers, params={"limit": 0}),
        400,
        "validation-error",
    )


def test_invite_unknown_email_gives_pending_invitation(
    server: LiveServer, tenant: Tenant, client: httpx.Client
):
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    resp = client.post(
        "/api/v1/org/members", headers=tenant.headers, json={"email": email, "role": "admin"}
    )
    assert resp.status_code == 201
    body = resp.json()
    assert body["status"] == "pending" and body["user_id"] is None and body["role"] == "admin"
    assert body["invite_token"].startswith("platos_inv_")
    valid_for = datetime.fromisoformat(body["invite_expires_at"]) - datetime.fromisoformat(
        body["created_at"]
    )
    assert abs(valid_for - timedelta(days=7)) < timedelta(minutes=1)
    assert body["invite_token"] not in str(server.db.rows("SELECT * FROM memberships"))
    listed = {m["id"]: m for m in _members(client, tenant.headers)["items"]}
    assert listed[body["id"]]["status"] == "pending"
    assert "invite_token" not in listed[body["id"]]  # shown once


def test_register_with_invitation_joins_the_org(tenant: Tenant, client: httpx.Client):
    admin = tenant.add_member("admin")
    assert admin["organization"]["id"] == tenant.org_id  # no new org was created
    me = client.get("/api/v1/auth/me", headers=bearer(admin["access_token"])).json()
    assert me["role"] == "admin"
    member = {m["id"]: m for m in _members(client, tenant.headers)["items"]}[admin["member_id"]]
    assert member["status"] == "active" and member["user_id"] == admin["user"]["id"]


def test_invitation_token_is_single_use_and_bound_to_its_email(
    tenant: Tenant, client: httpx.Client
):
    email = f"once-{uuid.uuid4().hex[:8]}@example.com"
    token = client.post(
        "/api/v1/org/members", headers=tenant.headers, json={"email": email, "role": "member"}
    ).json()["invite_token"]
    wrong = register_invited(client, f"other-{uuid.uuid4().hex[:6]}@example.com", token)
    assert_problem(wrong, 403, "invalid-invitation")
    ok = register_invited(client, email.upper(), token)
    assert ok.status_code == 201
    again = register_invited(client, f"third-{uuid.uuid4().hex[:6]}@example.com", token)
    assert_problem(again, 403, "invalid-invitation")
    both = client.post(
        "/api/v1/auth/register",
        json={
            "email": f"b-{uuid.uuid4().hex[:6]}@example.com",
            "password": PASSWORD,
            "name": "X",
            "invite_token": token,
            "organization_name": "O",
        },
    )
    assert_problem(both, 400, "validation-error")


def test_expired_invitation_is_refused(server: LiveServer, tenant: Tenant, client: httpx.Client):
    email = f"late-{uuid.uuid4().hex[:8]}@example.com"
    invite = client.post(
        "/api/v1/org/members", headers=tenant.headers, json={"email": email, "role": "member"}
    ).json()
    set_timestamp(
        server,
        table="memberships",
        column="invite_expires_at",
        row_id=invite["id"],
        value=datetime(2000, 1, 1, tzinfo=UTC),
    )
    resp = register_invited(client, email, invite["invite_token"])
    assert_problem(resp, 403, "invalid-invitation")


def test_reinviting_a_pending_email_replaces_the_token(tenant: Tenant, client: httpx.Client):
    email = f"again-{uuid.uuid4().hex[:8]}@example.com"
    first = client.post(
        "/api/v1/org/members", headers=tenant.headers, json={"email": email, "role": "member"}
    ).json()
    second = client.post(
        "/api/v1/org/members", headers=tenant.headers, json={"email": email, "role": "admin"}
    ).json()
    assert second["id"] == first["id"] and second["role"] == "admin"
    old = register_invited(client, email, first["invite_token"])
    assert_problem(old, 403, "invalid-invitation")


def test_inviting_an_existing_user_adds_them_at_once(
    server: LiveServer, tenant: Tenant, client: httpx.Client
):
    other = server.register()
    resp = client.post(
        "/api/v1/org/members",
        headers=tenant.headers,
        json={"email": other["user"]["email"].upper(), "role": "member"},
    )
    assert resp.status_code == 201
    assert resp.json()["status"] == "active" and "invite_token" not in resp.json()
    again = client.post(
        "/api/v1/org/members",
        headers=tenant.headers,
        json={"email": other["user"]["email"], "role": "admin"},
    )
    assert_problem(again, 409, "already-member")
    # Each token is scoped to one org: the user picks this one at login.
    login = client.post(
        "/api/v1/auth/login",
        json={
            "email": other["user"]["email"],
            "password": PASSWORD,
            "organization_id": tenant.org_id,
        },
    )
    assert login.json()["organization"]["id"] == tenant.org_id
    own = client.post(
        "/api/v1/auth/login", json={"email": other["user"]["email"], "password": PASSWORD}
    )
    assert own.json()["organization"]["id"] == other["organization"]["id"]
    assert (
        client.get("/api/v1/auth/me", headers=bearer(login.json()["access_token"])).json()["role"]
        == "member"
    )


def test_role_matrix(tenant: Tenant, client: httpx.Client):
    admin = tenant.add_member("admin")
    member = tenant.add_member("member")
    other_owner = tenant.add_member("owner")
    admin_h, member_h = bearer(admin["access_token"]), bearer(member["access_token"])
    mail = lambda: f"m-{uuid.uuid4().hex[:8]}@example.com"  # noqa: E731

    # Members read, and nothing more.
    assert client.get("/api/v1/org/members", headers=member_h).status_code == 200
    assert_problem(
        client.post(
            "/api/v1/org/members", headers=member_h, json={"email": mail(), "role": "member"}
        ),
        403,
        "forbidden",
    )
    assert_problem(
        client.patch(
            f"/api/v1/org/members/{admin['member_id']}/role",
            headers=member_h,
            json={"role": "member"},
        ),
        403,
        "forbidden",
    )
    assert_problem(
        client.delete(f"/api/v1/org/members/{admin['member_id']}", headers=member_h),
        403,
        "forbidden",
    )

    # Admins manage members, but never the owner role and never an owner.
    assert (
        client.post(
            "/api/v1/org/members", headers=admin_h, json={"email": mail(), "role": "admin"}
        ).status_code
        == 201
    )
    assert_problem(
        client.post(
            "/api/v1/org/members", headers=admin_h, json={"email": mail(), "role": "owner"}
        ),
        403,
        "forbidden",
    )
    assert_problem(
        client.patch(
            f"/api/v1/org/members/{member['member_id']}/role",
            headers=admin_h,
            json={"role": "owner"},
        ),
        403,
        "forbidden",
    )
    owner_member_id = other_owner["member_id"]
    assert_problem(
        client.patch(
            f"/api/v1/org/members/{owner_member_id}/role", headers=admin_h, json={"role": "member"}
        ),
        403,
        "forbidden",
    )
    assert_problem(
        client.delete(f"/api/v1/org/members/{owner_member_id}", headers=admin_h), 403, "forbidden"
    )
    resp = client.patch(
        f"/api/v1/org/members/{member['member_id']}/role", headers=admin_h, json={"role": "admin"}
    )
    assert resp.status_code == 200 and resp.json()["role"] == "admin"

    # Owners may do everything, including demoting another owner.
    resp = client.patch(
        f"/api/v1/org/members/{owner_member_id}/role",
        headers=tenant.headers,
        json={"role": "member"},
    )
    assert resp.status_code == 200
    assert (
        client.delete(f"/api/v1/org/members/{owner_member_id}", headers=tenant.headers).status_code
        == 204
    )


def test_last_owner_can_be_neither_demoted_nor_removed(tenant: Tenant, client: httpx.Client):
    owner_member = _members(client, tenant.headers)["items"][0]["id"]
    assert_problem(
        client.patch(
            f"/api/v1/org/members/{owner_member}/role",
            headers=tenant.headers,
            json={"role": "admin"},
        ),
        409,
        "last-owner",
    )
    assert_problem(
        client.delete(f"/api/v1/org/members/{owner_member}", headers=tenant.headers),
        409,
        "last-owner",
    )
    assert client.get("/api/v1/auth/me", headers=tenant.headers).json()["role"] == "owner"
    # With a second owner, the first may step down.
    tenant.add_member("owner")
    resp = client.patch(
        f"/api/v1/org/members/{owner_member}/role", headers=tenant.headers, json={"role": "admin"}
    )
    assert resp.status_code == 200


def test_role_change_revokes_that_users_sessions_at_once(tenant: Tenant, client: httpx.Client):
    admin = tenant.add_member("admin")
    headers = bearer(admin["access_token"])
    assert client.get("/api/v1/org/members", headers=headers).status_code == 200
    client.patch(
        f"/api/v1/org/members/{admin['member_id']}/role",
        headers=tenant.headers,
        json={"role": "member"},
    )
    assert_problem(client.get("/api/v1/org", headers=headers), 401, "unauthorized")
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": admin["refresh_token"]})
    assert_problem(refresh, 401, "unauthorized")
    # A new login carries the new role.
    login = client.post(
        "/api/v1/auth/login",
        json={"email": admin["email"], "password": PASSWORD, "organization_id": tenant.org_id},
    ).json()
    assert (
        client.get("/api/v1/auth/me", headers=bearer(login["access_token"])).json()["role"]
        == "member"
    )
    # The owner's own session was untouched.
    assert client.get("/api/v1/org", headers=tenant.headers).status_code == 200


def test_role_change_leaves_the_users_other_orgs_alone(
    server: LiveServer, tenant: Tenant, client: httpx.Client
):
    other = server.register()  # owner of an org of their own...
    client.post(
        "/api/v1/org/members",
        headers=tenant.headers,
        json={"email": other["user"]["email"], "role": "admin"},
    )  # ...and admin here
    here = client.post(
        "/api/v1/auth/login",
        json={
            "email": other["user"]["email"],
            "password": PASSWORD,
            "organization_id": tenant.org_id,
        },
    ).json()
    member_id = next(
        m["id"]
        for m in _members(client, tenant.headers)["items"]
        if m["user_id"] == other["user"]["id"]
    )
    client.delete(f"/api/v1/org/members/{member_id}", headers=tenant.headers)
    assert_problem(
        client.get("/api/v1/org", headers=bearer(here["access_token"])), 401, "unauthorized"
    )
    own = client.get("/api/v1/org", headers=bearer(other["access_token"]))
    assert own.status_code == 200 and own.json()["id"] == other["organization"]["id"]


def test_removal_revokes_sessions_and_membership(tenant: Tenant, client: httpx.Client):
    member = tenant.add_member("member")
    headers = bearer(member["access_token"])
    assert (
        client.delete(
            f"/api/v1/org/members/{member['member_id']}", headers=tenant.headers
        ).status_code
        == 204
    )
    assert_problem(client.get("/api/v1/org", headers=headers), 401, "unauthorized")
    ids = [m["id"] for m in _members(client, tenant.headers)["items"]]
    assert member["member_id"] not in ids
    # Their only org is gone: the password is right, but there is nowhere to log in to.
    login = client.post("/api/v1/auth/login", json={"email": member["email"], "password": PASSWORD})
    assert_problem(login, 403, "forbidden")
    assert_problem(
        client.delete(f"/api/v1/org/members/{member['member_id']}", headers=tenant.headers),
        404,
        "not-found",
    )


def test_withdrawing_an_invitation_kills_its_token(tenant: Tenant, client: httpx.Client):
    email = f"w-{uuid.uuid4().hex[:8]}@example.com"
    invite = client.post(
        "/api/v1/org/members", headers=tenant.headers, json={"email": email, "role": "member"}
    ).json()
    assert (
        client.delete(f"/api/v1/org/members/{invite['id']}", headers=tenant.headers).status_code
        == 204
    )
    resp = register_invited(client, email, invite["invite_token"])
    assert_problem(resp, 403, "invalid-invitation")


def test_api_key_cannot_manage_or_list_members(tenant: Tenant, client: httpx.Client):
    key = key_header(tenant.api_key())
    member = tenant.add_member("member")
    assert_problem(client.get("/api/v1/org/members", headers=key), 403, "forbidden")
    assert_problem(
        client.post(
            "/api/v1/org/members", headers=key, json={"email": "k@example.com", "role": "member"}
        ),
        403,
        "forbidden",
    )
    path = f"/api/v1/org/members/{member['member_id']}"
    assert_problem(
        client.patch(f"{path}/role", headers=key, json={"role": "admin"}), 403, "forbidden"
    )
    assert_problem(client.delete(path, headers=key), 403, "forbidden")
    (listed,) = [m for m in _members(client, tenant.headers)["items"] if m["id"] == path[-36:]]
    assert listed["role"] == "member"


def test_admin_cannot_rewrite_an_owner_invitation(tenant: Tenant, client: httpx.Client):
    admin = bearer(tenant.add_member("admin")["access_token"])
    email = f"heir-{uuid.uuid4().hex[:8]}@example.com"
    invite = client.post(
        "/api/v1/org/members", headers=tenant.headers, json={"email": email, "role": "owner"}
    ).json()
    # Re-inviting the address would replace the owner's invitation: not for an admin.
    again = client.post(
        "/api/v1/org/members", headers=admin, json={"email": email, "role": "member"}
    )
    assert_problem(again, 403, "forbidden")
    assert_problem(
        client.delete(f"/api/v1/org/members/{invite['id']}", headers=admin), 403, "forbidden"
    )
    joined = register_invited(client, email, invite["invite_token"])
    assert joined.status_code == 201, joined.text
    me = client.get("/api/v1/auth/me", headers=bearer(joined.json()["access_token"])).json()
    assert me["role"] == "owner"


def test_concurrent_invitations_of_one_address_leave_one(server: LiveServer, tenant: Tenant):
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"

    def invite(role: str) -> httpx.Response:
        with server.client() as c:
            return c.post(
                "/api/v1/org/members", headers=tenant.headers, json={"email": email, "role": role}
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(invite, ["member", "admin"] * 4))
    assert [a.status_code for a in answers] == [201] * 8, [a.text for a in answers]
    with server.client() as c:
        pending = [m for m in _members(c, tenant.headers)["items"] if m["email"] == email]
    assert len(pending) == 1 and {a.json()["id"] for a in answers} == {pending[0]["id"]}


def test_unknown_member_is_404(tenant: Tenant, client: httpx.Client):
    missing = uuid.uuid4()
    assert_problem(
        client.patch(
            f"/api/v1/org/members/{missing}/role", headers=tenant.headers, json={"role": "member"}
        ),
        404,
        "not-found",
    )
    assert_problem(
        client.delete(f"/api/v1/org/members/{missing}", headers=tenant.headers), 404, "not-found"
    )
    assert_problem(
        client.delete("/api/v1/org/members/not-a-uuid", headers=tenant.headers),
        400,
        "validation-error",
    )
