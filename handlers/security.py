"""Security functions named by the spec's security schemes (x-bearerInfoFunc)."""

from __future__ import annotations

from typing import Any

from core import platform
from core.errors import Unauthenticated
from core.services import auth


async def verify_user_token(token: str) -> dict[str, Any] | None:
    """Bearer scheme: a live user access token. None makes Connexion answer 401."""
    try:
        principal = await auth.authenticate_access_token(platform.current(), token)
    except Unauthenticated:
        return None
    return {"sub": str(principal.user_id), "principal": principal}
