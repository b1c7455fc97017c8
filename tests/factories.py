"""Build tenants through the public API: an owner, members of each role, keys, connections."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.live import PASSWORD, LiveServer, bearer


@dataclass
class Tenant:
    """One org as its owner sees it, with helpers to add people and credentials."""

    server: LiveServer
    owner: dict[str, Any]
    members: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def org_id(self) -> str:
        return str(self.owner["organization"]["id"])

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.owner["access_token"])

    def client(self) -> httpx.Client:
        return self.server.client()

    def add_member(self, role: str) -> dict[str, Any]:
        """Invite a new person with `role`; they register with the token. Returns their
        AuthResult (scoped to this org) plus the membership id under `member_id`."""
        email = f"{role}-{uuid.uuid4().hex[:10]}@example.com"
        with self.client() as c:
            invite = c.post(
                "/api/v1/org/members", headers=self.headers, json={"email": email, "role": role}
            )
            assert invite.status_code == 201, invite.text
            reg = c.post(
                "/api/v1/auth/register",
                json={
                    "email": email,
                    "password": PASSWORD,
                    "name": role.title(),
                    "invite_token": invite.json()["invite_token"],
                },
            )
            assert reg.status_code == 201, reg.text
        person: dict[str, Any] = reg.json()
        person["member_id"] = invite.json()["id"]
        person["email"] = email
        self.members[role] = person
        return person

    def api_key(self, name: str = "key") -> dict[str, Any]:
        with self.client() as c:
            resp = c.post("/api/v1/org/api-keys", headers=self.headers, json={"name": name})
        assert resp.status_code == 201, resp.text
        return dict(resp.json())

    def sdk_connection(self, name: str = "backend") -> dict[str, Any]:
        with self.client() as c:
            resp = c.post("/api/v1/org/sdk-connections", headers=self.headers, json={"name": name})
        assert resp.status_code == 201, resp.text
        return dict(resp.json())


def new_tenant(server: LiveServer) -> Tenant:
    return Tenant(server=server, owner=server.register())


def key_header(key: dict[str, Any] | str) -> dict[str, str]:
    return {"X-API-Key": key if isinstance(key, str) else key["key"]}
