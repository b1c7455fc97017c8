"""Attacks on the access token, each answered 401 problem+json."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest

from tests.live import LiveServer, bearer
from tests.test_auth import assert_problem


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def victim(server: LiveServer) -> dict[str, Any]:
    return server.register()


def _rejected(client: httpx.Client, token: str) -> None:
    assert_problem(client.get("/api/v1/auth/me", headers=bearer(token)), 401, "unauthorized")
    assert_problem(client.get("/api/v1/org", headers=bearer(token)), 401, "unauthorized")


def test_valid_token_is_accepted(client: httpx.Client, victim: dict[str, Any]):
    # The control for every attack below: the untouched token works.
    assert client.get("/api/v1/auth/me", headers=bearer(victim["access_token"])).status_code == 200


def test_alg_none(client: httpx.Client, victim: dict[str, Any]):
    claims = _claims(victim["access_token"])
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    _rejected(client, token)


def test_wrong_signature(client: httpx.Client, victim: dict[str, Any]):
    claims = _claims(victim["access_token"])
    _rejected(client, jwt.encode(claims, "k" * 48, algorithm="HS256"))
    header, payload, _sig = victim["access_token"].split(".")
    _rejected(client, f"{header}.{payload}.{'A' * 43}")


def test_expired_token(server: LiveServer, client: httpx.Client, victim: dict[str, Any]):
    claims = _claims(victim["access_token"])
    claims.update(iat=int(time.time()) - 3600, exp=int(time.time()) - 60)
    _rejected(client, jwt.encode(claims, server.jwt_secret, algorithm="HS256"))


def test_tampered_org_id(server: LiveServer, client: httpx.Client, victim: dict[str, Any]):
    other = server.register()
    header, _payload, sig = victim["access_token"].split(".")
    claims = _claims(victim["access_token"])
    claims["org_id"] = other["organization"]["id"]
    _rejected(client, f"{header}.{_b64(claims)}.{sig}")
    # Even re-signed with the real key, the session belongs to another org.
    _rejected(client, jwt.encode(claims, server.jwt_secret, algorithm="HS256"))


def test_refresh_token_as_access_token(client: httpx.Client, victim: dict[str, Any]):
    _rejected(client, victim["refresh_token"])


def test_wrong_audience_issuer_or_type(
    server: LiveServer, client: httpx.Client, victim: dict[str, Any]
):
    claims = _claims(victim["access_token"])
    for change in ({"aud": "platos:sdk"}, {"iss": "someone-else"}, {"typ": "refresh"}):
        _rejected(client, jwt.encode({**claims, **change}, server.jwt_secret, algorithm="HS256"))


def test_missing_claims(server: LiveServer, client: httpx.Client, victim: dict[str, Any]):
    claims = _claims(victim["access_token"])
    assert set(claims) == {
        "sub",
        "user_id",
        "org_id",
        "sid",
        "typ",
        "aud",
        "iss",
        "iat",
        "exp",
        "jti",
    }
    for name in claims:  # each one is required
        partial = {k: v for k, v in claims.items() if k != name}
        _rejected(client, jwt.encode(partial, server.jwt_secret, algorithm="HS256"))


def test_unknown_session_id(server: LiveServer, client: httpx.Client, victim: dict[str, Any]):
    claims = {**_claims(victim["access_token"]), "sid": str(uuid.uuid4())}
    _rejected(client, jwt.encode(claims, server.jwt_secret, algorithm="HS256"))


def test_other_algorithm_with_the_key(
    server: LiveServer, client: httpx.Client, victim: dict[str, Any]
):
    claims = _claims(victim["access_token"])
    _rejected(client, jwt.encode(claims, server.jwt_secret, algorithm="HS512"))
