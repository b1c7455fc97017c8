"""Who may do what. Services call these before touching data.

| action | owner | admin | member | API key |
| --- | --- | --- | --- | --- |
| read the org | yes | yes | yes | yes |
| update the org | yes | yes | no | no |
| list members | yes | yes | yes | no |
| invite, change roles, remove | yes | yes (never the owner role, never an owner) | no | no |
| API keys, SDK connections, audit log | yes | yes | no | no |
| list and invoke tools, read calls (issue 4) | yes | yes | yes | yes |
"""

from __future__ import annotations

from core.errors import Forbidden
from core.principal import Principal


def require_user(principal: Principal, action: str) -> None:
    """Any member of the org, acting as themselves (not through an API key)."""
    if not principal.is_user:
        raise Forbidden(f"API keys may not {action}.")


def require_admin(principal: Principal, action: str) -> None:
    """Owners and admins."""
    require_user(principal, action)
    if not principal.is_admin:
        raise Forbidden(f"Only owners and admins may {action}.")
