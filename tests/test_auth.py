"""Accounts and sessions through the real server: register, login, refresh, logout, me."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import jwt

from tests.dbaccess import set_timestamp
from tests.live import PASSWORD, LiveServer, bearer

PROBLEM = "application/problem+json"


def assert_problem(resp: httpx.Response, status: int, slug: str) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM)
    body = resp.json()
    assert body["type"] == f"https://platos.dev/problems/{slug}"
    assert body["status"] == status
    assert body["title"]
    return body


def test_register_creates_user_org_and_owner_session(server: LiveServer, client: httpx.Client):
    email = f"Ada-{uuid.uuid4().hex[:8]}@Example.com"
    resp = client.post(
        "/api/v1/auth/register",
        json={
            "email": email,
            "password": PASSWORD,
            "name": "Ada",
            "organization_name": "Engines",
        },
    )
    assert resp.status_code == 201
    body = resp.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert body["user"]["email"] == email
    assert body["organization"]["name"] == "Engines"
    assert "password" not in resp.text and PASSWORD not in resp.text

    me = client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["role"] == "owner"
    assert me.json()["organization"]["id"] == body["organization"]["id"]
    assert me.json()["user"]["id"] == body["user"]["id"]


def test_register_same_email_any_case_is_409(server: LiveServer, client: httpx.Client):
    first = server.register()
    email = first["user"]["email"].upper()
    resp = client.post(
        "/api/v1/auth/register",
        json={
            "email": email,
            "password": PASSWORD,
            "name": "Again",
            "organization_name": "Other",
        },
    )
    assert_problem(resp, 409, "email-taken")


def test_register_password_policy(client: httpx.Client):
    base = {"email": f"p-{uuid.uuid4().hex[:8]}@example.com", "name": "P", "organization_name": "O"}
    short = client.post("/api/v1/auth/register", json={**base, "password": "elevenchars"})
    body = assert_problem(short, 400, "validation-error")
    assert "elevenchars" not in short.text
    assert "/password" in body["detail"]
    long = client.post("/api/v1/auth/register", json={**base, "password": "x" * 257})
    assert_problem(long, 400, "validation-error")
    assert "x" * 257 not in long.text
    ok = client.post("/api/v1/auth/register", json={**base, "password": "y" * 256})
    assert ok.status_code == 201


def test_register_rejects_missing_and_unknown_fields(client: httpx.Client):
    body = {"email": "m@example.com", "password": PASSWORD, "name": "M"}
    assert_problem(client.post("/api/v1/auth/register", json=body), 400, "validation-error")
    extra = {**body, "organization_name": "O", "role": "owner"}
    resp = client.post("/api/v1/auth/register", json=extra)
    assert "role" in assert_problem(resp, 400, "validation-error")["detail"]
    bad_email = {**body, "organization_name": "O", "email": "not-an-email"}
    assert_problem(client.post("/api/v1/auth/register", json=bad_email), 400, "validation-error")


def test_login_returns_token_pair(server: LiveServer, client: httpx.Client):
    reg = server.register()
    resp = client.post(
        "/api/v1/auth/login",
        json={
            "email": reg["user"]["email"].upper(),
            "password": PASSWORD,
        },
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["organization"]["id"] == reg["organization"]["id"]
    me = client.get("/api/v1/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    # A new login is a new session.
    assert (
        me.json()["session"]["id"]
        != client.get("/api/v1/auth/me", headers=bearer(reg["access_token"])).json()["session"][
            "id"
        ]
    )


def test_login_unknown_email_and_wrong_password_look_the_same(
    server: LiveServer, client: httpx.Client
):
    reg = server.register()
    wrong = client.post(
        "/api/v1/auth/login",
        json={
            "email": reg["user"]["email"],
            "password": "not-the-password",
        },
    )
    unknown = client.post(
        "/api/v1/auth/login",
        json={
            "email": f"nobody-{uuid.uuid4().hex}@example.com",
            "password": "not-the-password",
        },
    )
    assert_problem(wrong, 401, "invalid-credentials")
    assert wrong.content == unknown.content
    assert wrong.status_code == unknown.status_code
    assert "not-the-password" not in wrong.text


def test_an_unknown_email_costs_a_password_check_too(start_server: Callable[..., LiveServer]):
    # With the production argon2id cost, a password check takes tens of milliseconds; an
    # unknown email is checked against a dummy hash so that it takes about as long. Without
    # it, the answer would come in a few milliseconds and tell which emails exist. The margin
    # is wide (half the time), so machine load does not matter; only a missing check does.
    live = start_server(PLATOS_ARGON2_TIME_COST="3", PLATOS_ARGON2_MEMORY_KIB="65536")
    reg = live.register()

    def elapsed(email: str) -> float:
        with live.client() as c:
            started = time.perf_counter()
            resp = c.post("/api/v1/auth/login", json={"email": email, "password": "x" * 12})
            assert resp.status_code == 401
            return time.perf_counter() - started

    known, unknown = [], []
    for _ in range(5):
        known.append(elapsed(reg["user"]["email"]))
        unknown.append(elapsed(f"nobody-{uuid.uuid4().hex[:8]}@example.com"))
    assert statistics.median(unknown) > 0.5 * statistics.median(known), (known, unknown)


def test_login_with_foreign_organization_id_falls_back_to_own_org(
    server: LiveServer, client: httpx.Client
):
    mine = server.register()
    other = server.register()
    resp = client.post(
        "/api/v1/auth/login",
        json={
            "email": mine["user"]["email"],
            "password": PASSWORD,
            "organization_id": other["organization"]["id"],
        },
    )
    assert resp.status_code == 200
    assert resp.json()["organization"]["id"] == mine["organization"]["id"]


def test_me_reports_session(server: LiveServer, client: httpx.Client):
    reg = server.register()
    me = client.get("/api/v1/auth/me", headers=bearer(reg["access_token"])).json()
    assert set(me) == {"user", "organization", "role", "session"}
    assert set(me["session"]) == {"id", "created_at", "expires_at"}
    assert me["session"]["expires_at"] > me["session"]["created_at"]


def test_me_without_token_is_401(client: httpx.Client):
    assert_problem(client.get("/api/v1/auth/me"), 401, "unauthorized")
    resp = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer"})
    assert_problem(resp, 401, "unauthorized")
    resp = client.get("/api/v1/auth/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_problem(resp, 401, "unauthorized")


def test_refresh_rotates_and_old_tokens_keep_their_roles(server: LiveServer, client: httpx.Client):
    reg = server.register()
    resp = client.post("/api/v1/auth/refresh", json={"refresh_token": reg["refresh_token"]})
    assert resp.status_code == 200
    new = resp.json()
    assert new["refresh_token"] != reg["refresh_token"]
    assert client.get("/api/v1/auth/me", headers=bearer(new["access_token"])).status_code == 200
    again = client.post("/api/v1/auth/refresh", json={"refresh_token": new["refresh_token"]})
    assert again.status_code == 200


def test_refresh_reuse_revokes_the_whole_family(server: LiveServer, client: httpx.Client):
    reg = server.register()
    first = client.post("/api/v1/auth/refresh", json={"refresh_token": reg["refresh_token"]})
    newest = first.json()
    # The spent token comes back: someone replayed it.
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": reg["refresh_token"]})
    body = assert_problem(replay, 401, "unauthorized")
    assert reg["refresh_token"] not in replay.text
    assert "detail" in body
    # Everything of that session is dead now: the newest refresh token and every access token.
    dead = client.post("/api/v1/auth/refresh", json={"refresh_token": newest["refresh_token"]})
    assert_problem(dead, 401, "unauthorized")
    for token in (reg["access_token"], newest["access_token"]):
        assert_problem(client.get("/api/v1/auth/me", headers=bearer(token)), 401, "unauthorized")


def test_refresh_reuse_leaves_other_sessions_alone(server: LiveServer, client: httpx.Client):
    reg = server.register()
    other = client.post(
        "/api/v1/auth/login",
        json={
            "email": reg["user"]["email"],
            "password": PASSWORD,
        },
    ).json()
    client.post("/api/v1/auth/refresh", json={"refresh_token": reg["refresh_token"]})
    client.post("/api/v1/auth/refresh", json={"refresh_token": reg["refresh_token"]})
    assert client.get("/api/v1/auth/me", headers=bearer(other["access_token"])).status_code == 200


def test_refresh_rejects_garbage_and_access_tokens(server: LiveServer, client: httpx.Client):
    reg = server.register()
    for token in ("garbage", reg["access_token"]):
        resp = client.post("/api/v1/auth/refresh", json={"refresh_token": token})
        assert_problem(resp, 401, "unauthorized")
    assert_problem(client.post("/api/v1/auth/refresh", json={}), 400, "validation-error")


def test_logout_kills_access_and_refresh_tokens(server: LiveServer, client: httpx.Client):
    reg = server.register()
    headers = bearer(reg["access_token"])
    resp = client.post("/api/v1/auth/logout", headers=headers)
    assert resp.status_code == 204
    assert_problem(client.get("/api/v1/auth/me", headers=headers), 401, "unauthorized")
    assert_problem(client.get("/api/v1/org", headers=headers), 401, "unauthorized")
    resp = client.post("/api/v1/auth/refresh", json={"refresh_token": reg["refresh_token"]})
    assert_problem(resp, 401, "unauthorized")
    assert_problem(client.post("/api/v1/auth/logout", headers=headers), 401, "unauthorized")


def test_logout_only_ends_the_current_session(server: LiveServer, client: httpx.Client):
    reg = server.register()
    second = client.post(
        "/api/v1/auth/login",
        json={
            "email": reg["user"]["email"],
            "password": PASSWORD,
        },
    ).json()
    client.post("/api/v1/auth/logout", headers=bearer(reg["access_token"]))
    assert client.get("/api/v1/auth/me", headers=bearer(second["access_token"])).status_code == 200


def test_an_expired_session_ends_both_tokens(server: LiveServer, client: httpx.Client):
    # Sessions are absolute (PLATOS_REFRESH_TOKEN_TTL from login): once past, neither the
    # access token nor the refresh token works, however fresh they are.
    reg = server.register()
    me = client.get("/api/v1/auth/me", headers=bearer(reg["access_token"])).json()
    set_timestamp(
        server,
        table="auth_sessions",
        column="expires_at",
        row_id=me["session"]["id"],
        value=datetime.now(UTC) - timedelta(seconds=1),
    )
    assert_problem(
        client.get("/api/v1/org", headers=bearer(reg["access_token"])), 401, "unauthorized"
    )
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": reg["refresh_token"]})
    assert_problem(refresh, 401, "unauthorized")


def test_token_lifetimes_come_from_the_environment(start_server: Callable[..., LiveServer]):
    live = start_server(PLATOS_ACCESS_TOKEN_TTL="120", PLATOS_REFRESH_TOKEN_TTL="3600")
    reg = live.register()
    assert reg["expires_in"] == 120
    claims = jwt.decode(reg["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 120
    with live.client() as c:
        session = c.get("/api/v1/auth/me", headers=bearer(reg["access_token"])).json()["session"]
    lifetime = datetime.fromisoformat(session["expires_at"]) - datetime.fromisoformat(
        session["created_at"]
    )
    assert abs(lifetime - timedelta(hours=1)) < timedelta(seconds=5)
