"""Security functions named by the spec's security schemes.

Each returns the token info (with the `Principal`) or None; None makes
Connexion answer 401, and lets it try the other scheme first.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from core import platform
from core.principal import Principal
from core.services import api_keys, auth


def _client_ip(request: Request | None) -> str | None:
    client = request.client if request is not None else None
    return client.host if client else None


def _info(principal: Principal | None) -> dict[str, Any] | None:
    if principal is None:
        return None
    return {"sub": str(principal.actor_id), "principal": principal}


async def verify_user_token(token: str, request: Request | None = None) -> dict[str, Any] | None:
    """bearerAuth: a live user access token."""
    p = platform.current()
    return _info(await auth.authenticate_access_token(p, token, client_ip=_client_ip(request)))


async def verify_api_key(
    apikey: str, required_scopes: list[str] | None = None, request: Request | None = None
) -> dict[str, Any] | None:
    """apiKeyAuth: a live org API key in X-API-Key."""
    if len(apikey) > 256:
        return None
    p = platform.current()
    return _info(await api_keys.authenticate(p, apikey, client_ip=_client_ip(request)))
