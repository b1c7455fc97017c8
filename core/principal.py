"""Who is calling: the identity every org-scoped service call is filtered by."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

Role = Literal["owner", "admin", "member"]
ROLES: tuple[Role, ...] = ("owner", "admin", "member")
ADMIN_ROLES: frozenset[str] = frozenset({"owner", "admin"})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller, always scoped to exactly one organization.

    A user acts through a session and has a role; an API key acts for its org
    with the fixed, narrower rights of `core.permissions`.
    """

    org_id: uuid.UUID
    kind: Literal["user", "api_key"]
    actor_id: uuid.UUID  # the user's id, or the API key's id
    role: Role | None = None  # users only
    session_id: uuid.UUID | None = None  # users only
    client_ip: str | None = None

    @property
    def is_user(self) -> bool:
        return self.kind == "user"

    @property
    def is_admin(self) -> bool:
        return self.is_user and self.role in ADMIN_ROLES

    @property
    def is_owner(self) -> bool:
        return self.is_user and self.role == "owner"

    @property
    def user_id(self) -> uuid.UUID:
        if not self.is_user:
            raise ValueError("an API key has no user")
        return self.actor_id
