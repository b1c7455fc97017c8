"""Every error is RFC 9457 problem+json with a stable type, and leaks nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator

import httpx
from sqlalchemy import text

from tests.live import PASSWORD, LiveServer, bearer
from tests.test_auth import assert_problem


def test_unknown_route_is_404(client: httpx.Client):
    assert_problem(client.get("/api/v1/nothing-here"), 404, "not-found")
    assert_problem(client.get("/"), 404, "not-found")


def test_wrong_method_is_405(client: httpx.Client):
    resp = client.delete("/health")
    assert_problem(resp, 405, "method-not-allowed")
    assert "GET" in resp.headers["allow"]
    resp = client.put("/api/v1/org", json={})
    assert_problem(resp, 405, "method-not-allowed")
    assert resp.headers["allow"] == "GET, PATCH"  # every documented method of the path


def test_malformed_json_is_400(client: httpx.Client):
    resp = client.post(
        "/api/v1/auth/login", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert_problem(resp, 400, "malformed-body")


def test_lone_surrogate_is_400_not_500(client: httpx.Client):
    resp = client.post(
        "/api/v1/auth/register",
        content=b'{"email": "a@b.co", "password": "123456789012", "name": "\\ud800",'
        b' "organization_name": "O"}',
        headers={"content-type": "application/json"},
    )
    assert_problem(resp, 400, "malformed-body")


def test_non_utf8_json_is_400(client: httpx.Client):
    resp = client.post(
        "/api/v1/auth/login",
        content=b'{"email": "\xff\xfe"}',
        headers={"content-type": "application/json"},
    )
    assert_problem(resp, 400, "malformed-body")


def test_wrong_content_type_is_415(client: httpx.Client):
    resp = client.post(
        "/api/v1/auth/login", content=b"email=a", headers={"content-type": "text/plain"}
    )
    assert_problem(resp, 415, "unsupported-media-type")


def test_oversize_body_is_413(client: httpx.Client):
    big = b'{"email": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    resp = client.post(
        "/api/v1/auth/login", content=big, headers={"content-type": "application/json"}
    )
    assert_problem(resp, 413, "payload-too-large")


def test_oversize_chunked_body_is_413(client: httpx.Client):
    def chunks() -> Iterator[bytes]:
        yield b'{"email": "'
        for _ in range(40):
            yield b"a" * 65536
        yield b'"}'

    resp = client.post(
        "/api/v1/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(resp, 413, "payload-too-large")


def test_validation_errors_never_echo_secrets(server: LiveServer, client: httpx.Client):
    reg = server.register()
    resp = client.post(
        "/api/v1/auth/login",
        json={
            "email": reg["user"]["email"],
            "password": PASSWORD,
            "organization_id": PASSWORD,
        },
    )
    assert_problem(resp, 400, "validation-error")
    assert PASSWORD not in resp.text
    resp = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": reg["refresh_token"], "extra": 1}
    )
    assert_problem(resp, 400, "validation-error")
    assert reg["refresh_token"] not in resp.text


def test_wrong_method_on_the_docs_pages_is_405(client: httpx.Client):
    for path in ("/openapi.json", "/docs", "/redoc", "/static/redoc/redoc.standalone.js"):
        resp = client.post(path)
        assert_problem(resp, 405, "method-not-allowed")
        assert resp.headers["allow"] == "GET"


def test_body_without_content_type_is_415_and_not_logged(server: LiveServer, client: httpx.Client):
    secret = f"unlogged-{uuid.uuid4().hex}"
    for path in ("/api/v1/auth/login", "/api/v1/auth/register", "/api/v1/auth/refresh"):
        body = json.dumps({"email": "a@example.com", "password": secret, "refresh_token": secret})
        resp = client.post(path, content=body.encode())  # httpx adds no Content-Type here
        assert_problem(resp, 415, "unsupported-media-type")
    assert secret not in server.log()


def test_non_json_numbers_are_400(server: LiveServer, client: httpx.Client):
    reg = server.register()
    headers = {**bearer(reg["access_token"]), "content-type": "application/json"}
    for number in ("NaN", "Infinity", "-Infinity", "1e400", "1" * 5000):
        resp = client.patch(
            "/api/v1/org", headers=headers, content=f'{{"settings": {{"a": {number}}}}}'
        )
        assert_problem(resp, 400, "malformed-body")
    org = client.get("/api/v1/org", headers=headers).json()
    assert "a" not in org["settings"]


def test_a_final_newline_does_not_pass_a_pattern(server: LiveServer, client: httpx.Client):
    # JSON Schema patterns are ECMA-262: `$` is the end of the string, not "before a final
    # newline" as in Python. Once the pattern let these through, and they failed later (500).
    reg = server.register()
    email = reg["user"]["email"]
    for path, body in (
        ("/api/v1/auth/login", {"email": email + "\n", "password": PASSWORD}),
        (
            "/api/v1/auth/register",
            {
                "email": "n@example.com",
                "password": PASSWORD,
                "name": "N\n",
                "organization_name": "O",
            },
        ),
    ):
        assert_problem(client.post(path, json=body), 400, "validation-error")
    resp = client.patch("/api/v1/org", headers=bearer(reg["access_token"]), json={"name": "X\n"})
    assert_problem(resp, 400, "validation-error")


def test_unhandled_error_is_a_bare_500(start_server: Callable[..., LiveServer]):
    live = start_server()
    reg = live.register()
    # Break the database under the running server: the next org read fails inside SQLAlchemy.
    with live.db.begin() as conn:
        conn.execute(text("ALTER TABLE organizations RENAME TO organizations_gone"))
    with live.client() as c:
        resp = c.get("/api/v1/org", headers=bearer(reg["access_token"]))
        body = assert_problem(resp, 500, "internal-error")
        assert set(body) == {"type", "title", "status"}
        for leak in ("Traceback", "organizations", "sqlalchemy", "File "):
            assert leak not in resp.text
        # The process survived and still answers.
        assert c.get("/health").status_code == 200
    assert "Traceback" in live.log()  # the details went to the server's log instead
