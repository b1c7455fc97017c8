"""login and register are rate-limited per client address and per email (429 + Retry-After)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from tests.live import PASSWORD, LiveServer
from tests.test_auth import assert_problem


def test_login_per_email_limit(start_server: Callable[..., LiveServer]):
    live = start_server(PLATOS_AUTH_RATE_LIMIT_EMAIL="3/minute")
    reg = live.register()
    with live.client() as c:
        body = {"email": reg["user"]["email"], "password": "wrong-password-here"}
        codes = [c.post("/api/v1/auth/login", json=body).status_code for _ in range(3)]
        assert codes == [401, 401, 401]
        limited = c.post("/api/v1/auth/login", json={**body, "password": PASSWORD})
        assert_problem(limited, 429, "rate-limited")
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        # The limit is per email: another account is not affected.
        other = live.register()
        ok = c.post(
            "/api/v1/auth/login", json={"email": other["user"]["email"], "password": PASSWORD}
        )
        assert ok.status_code == 200


def test_register_per_address_limit(start_server: Callable[..., LiveServer]):
    live = start_server(PLATOS_AUTH_RATE_LIMIT_IP="4/minute")
    with live.client() as c:
        codes = []
        for _ in range(5):
            resp = c.post(
                "/api/v1/auth/register",
                json={
                    "email": f"r-{uuid.uuid4().hex[:10]}@example.com",
                    "password": PASSWORD,
                    "name": "R",
                    "organization_name": "O",
                },
            )
            codes.append(resp.status_code)
        assert codes == [201, 201, 201, 201, 429]
        assert int(resp.headers["Retry-After"]) >= 1
        # The login counter for this address is a separate window.
        login = c.post("/api/v1/auth/login", json={"email": "x@example.com", "password": PASSWORD})
        assert login.status_code == 401


def test_login_per_address_limit(start_server: Callable[..., LiveServer]):
    live = start_server(PLATOS_AUTH_RATE_LIMIT_IP="3/minute")
    with live.client() as c:

        def login(address: str) -> int:
            body = {"email": f"n-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}
            # The test talks from 127.0.0.1, a trusted proxy: X-Forwarded-For is the client.
            headers = {"X-Forwarded-For": address}
            return c.post("/api/v1/auth/login", json=body, headers=headers).status_code

        assert [login("203.0.113.7") for _ in range(4)] == [401, 401, 401, 429]
        assert login("203.0.113.8") == 401  # another address has its own window


def test_register_per_email_limit(start_server: Callable[..., LiveServer]):
    live = start_server(PLATOS_AUTH_RATE_LIMIT_EMAIL="2/minute")
    email = f"same-{uuid.uuid4().hex[:8]}@example.com"
    body = {"email": email, "password": PASSWORD, "name": "R", "organization_name": "O"}
    with live.client() as c:
        codes = [c.post("/api/v1/auth/register", json=body).status_code for _ in range(3)]
        assert codes == [201, 409, 429]
        other = c.post("/api/v1/auth/register", json={**body, "email": "x" + email})
        assert other.status_code == 201
