"""Tenancy, proven: org B's credentials against org A's identifiers, for every operation.

The operations come from the served spec. Each one is either public (no
credentials, nothing org-scoped) or probed here; a new operation that fits
neither list fails `test_every_operation_is_covered`.

For an operation on one object (an id in the path), B's probe with A's id
must get exactly the answer B gets for an id that does not exist, and for B's
owner that answer is 404. For the others (lists, creates, the org itself, the
session), B's answers must hold nothing of A. After all probes, A's data as A
sees it is unchanged.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.factories import Tenant, key_header, new_tenant
from tests.live import PASSWORD, LiveServer, bearer
from tests.sdk import SdkProcess, online_tools, wait_until

PUBLIC = {
    ("GET", "/health"),
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/login"),
    ("POST", "/api/v1/auth/refresh"),
}
# Which of A's objects each path parameter names.
ID_PARAMS = {"member_id", "key_id", "connection_id", "tool_name", "call_id"}
# Identifiers in query strings and bodies: the field, and which of A's objects it names.
ID_FIELDS = {"sdk_connection_id": "connection_id"}


def missing_value(param: str) -> str:
    """An identifier of the right shape that names nothing."""
    return f"missing_{uuid.uuid4().hex[:12]}" if param == "tool_name" else str(uuid.uuid4())


def spec_operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield method.upper(), path, op


def request_example(spec: dict[str, Any], op: dict[str, Any]) -> Any:
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    if "example" in content:
        return content["example"]
    (example,) = content["examples"].values()
    ref = example["$ref"].rsplit("/", 1)[1]
    return spec["components"]["examples"][ref]["value"]


def body_properties(spec: dict[str, Any], op: dict[str, Any]) -> set[str]:
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return set()
    schema = content["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return set(schema.get("properties", {}))


def query_parameters(spec: dict[str, Any], op: dict[str, Any]) -> set[str]:
    names = set()
    for param in op.get("parameters", []):
        if "$ref" in param:
            param = spec["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
        if param["in"] == "query":
            names.add(param["name"])
    return names


class Credentials:
    """Fresh credentials of each kind for one org (a fresh login per probe, so that a
    probed logout spoils nothing)."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.people = {"owner": tenant.owner | {"email": tenant.owner["user"]["email"]}}
        self.people["admin"] = tenant.add_member("admin")
        self.people["member"] = tenant.add_member("member")
        self.key = tenant.api_key("b-key")

    def kinds(self) -> list[str]:
        return ["owner", "admin", "member", "api_key"]

    def headers(self, kind: str) -> dict[str, str]:
        if kind == "api_key":
            return key_header(self.key)
        person = self.people[kind]
        with self.tenant.client() as c:
            resp = c.post(
                "/api/v1/auth/login",
                json={
                    "email": person["email"],
                    "password": PASSWORD,
                    "organization_id": self.tenant.org_id,
                },
            )
        return bearer(resp.json()["access_token"])


def snapshot(client: httpx.Client, tenant: Tenant) -> dict[str, Any]:
    """A's data as A's owner sees it, without what A's live SDK changes by itself
    (heartbeats move `last_seen_at` and the tools' health)."""
    h = tenant.headers
    get = lambda path: client.get(path, headers=h, params={"limit": 200}).json()  # noqa: E731
    audit = get("/api/v1/org/audit-log")
    connections = get("/api/v1/org/sdk-connections")
    for item in connections["items"]:
        item.pop("last_seen_at", None)
    tools = get("/api/v1/tools")
    for item in tools["items"]:
        item.pop("health", None)
    return {
        "org": client.get("/api/v1/org", headers=h).json(),
        "members": get("/api/v1/org/members"),
        "keys": get("/api/v1/org/api-keys"),
        "connections": connections,
        "tools": tools,
        "calls": get("/api/v1/tool-calls"),
        "audit": [e for e in audit["items"] if e["action"] != "auth.login_succeeded"],
    }


@pytest.fixture
def orgs(
    server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Tenant, dict[str, str], list[str], Tenant]]:
    """Org A with one object of each kind (a live SDK and a call included), its identifying
    strings, and org B."""
    a = new_tenant(server)
    with server.client() as c:
        c.patch(
            "/api/v1/org",
            headers=a.headers,
            json={"name": f"Tenant-A-{uuid.uuid4().hex[:8]}", "settings": {"secret_plan": 7}},
        )
    member = a.add_member("member")
    pending = (
        a.server.client()
        .post(
            "/api/v1/org/members",
            headers=a.headers,
            json={"email": f"pending-a-{uuid.uuid4().hex[:6]}@example.com", "role": "admin"},
        )
        .json()
    )
    key = a.api_key("a-key")
    conn = a.sdk_connection("a-conn")
    sdk = SdkProcess(
        server.ws_url,
        conn["secret"],
        prefix="a_secret_",
        instance="org-a",
        log_dir=tmp_path_factory.mktemp("sdk-a"),
    )
    with server.client() as c:
        wait_until(lambda: "a_secret_add" in online_tools(c, a.headers), what="A's tools")
        call = c.post(
            "/api/v1/tools/a_secret_add/invoke", headers=a.headers, json={"params": {"a": 1}}
        ).json()
    assert call["status"] == "succeeded"
    ids = {
        "member_id": member["member_id"],
        "key_id": key["id"],
        "connection_id": conn["id"],
        "tool_name": "a_secret_add",
        "call_id": call["call_id"],
    }
    markers = [
        a.org_id,
        a.owner["user"]["id"],
        a.owner["user"]["email"],
        member["user"]["id"],
        member["email"],
        member["member_id"],
        pending["id"],
        pending["email"],
        key["id"],
        key["prefix"],
        conn["id"],
        "Tenant-A-",
        "secret_plan",
        "a_secret_",
        call["call_id"],
        pending["invite_token"],
        key["key"],
        conn["secret"],
    ]
    yield a, ids, markers, new_tenant(server)
    sdk.stop()


def test_every_operation_is_covered(client: httpx.Client):
    spec = client.get("/openapi.json").json()
    for method, path, op in spec_operations(spec):
        if (method, path) in PUBLIC:
            assert op.get("security") == [], f"{method} {path} is listed public but needs auth"
            continue
        assert op.get("security", spec["security"]), f"{method} {path} has no security"
        params = set(re.findall(r"{(\w+)}", path))
        assert params <= ID_PARAMS, f"{method} {path}: no tenancy probe knows {params - ID_PARAMS}"
        fields = {
            name
            for name in query_parameters(spec, op) | body_properties(spec, op)
            if name.endswith("_id")
        }
        unknown = fields - set(ID_FIELDS)
        assert not unknown, f"{method} {path}: no tenancy probe knows {unknown}"


def test_org_b_cannot_reach_org_a(
    server: LiveServer,
    client: httpx.Client,
    orgs: tuple[Tenant, dict[str, str], list[str], Tenant],
    record_property: Callable[[str, object], None],
):
    a, a_ids, markers, b = orgs
    b_creds = Credentials(b)
    spec = client.get("/openapi.json").json()
    before = snapshot(client, a)
    probes = 0
    operations = [(m, p, op) for m, p, op in spec_operations(spec) if (m, p) not in PUBLIC]
    # Session-ending operations last, so that each probe starts from a live session.
    operations.sort(key=lambda item: item[1] == "/api/v1/auth/logout")
    for method, path, op in operations:
        body = request_example(spec, op)
        # A's identifiers in the query and the body too (a filter, a routing choice).
        query = {f: a_ids[ID_FIELDS[f]] for f in query_parameters(spec, op) if f in ID_FIELDS}
        for field in body_properties(spec, op) & set(ID_FIELDS):
            body = {**(body or {}), field: a_ids[ID_FIELDS[field]]}
        params = re.findall(r"{(\w+)}", path)
        for kind in b_creds.kinds():
            where = f"{method} {path} as B's {kind}"
            send = {"headers": b_creds.headers(kind), "json": body, "params": query}
            if params:
                target = path.format(**{p: a_ids[p] for p in params})
                missing = path.format(**{p: missing_value(p) for p in params})
                resp = client.request(method, target, **send)
                control = client.request(method, missing, **send)
                assert resp.status_code in (403, 404), f"{where}: {resp.status_code} {resp.text}"
                assert (resp.status_code, resp.json()) == (control.status_code, control.json()), (
                    where
                )
                if kind in ("owner", "admin"):  # both may act on every object of their org
                    assert resp.status_code == 404, where
            else:
                resp = client.request(method, path, **send)
                assert resp.status_code < 500, f"{where}: {resp.status_code} {resp.text}"
            for marker in markers:
                assert marker not in resp.text, f"{where} leaked {marker!r}"
            probes += 1
    after = snapshot(client, a)
    assert after == before, "org B's probes changed org A's data"
    record_property(
        "tenancy_probes",
        f"{len(operations)} operations x {len(b_creds.kinds())} credentials = {probes} probes",
    )
    print(
        f"\ntenancy: {len(operations)} operations x {len(b_creds.kinds())} credentials"
        f" = {probes} probes"
    )
    assert probes == len(operations) * len(b_creds.kinds())
