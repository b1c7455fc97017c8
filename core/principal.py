"""Who is calling: the identity every org-scoped service call is filtered by."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

Role = Literal["owner", "admin", "member"]
ADMIN_ROLES: frozenset[str] = frozenset({"owner", "admin"})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller, always scoped to exactly one organization."""

    org_id: uuid.UUID
    user_id: uuid.UUID
    session_id: uuid.UUID
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES
