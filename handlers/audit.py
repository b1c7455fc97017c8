"""/api/v1/org/audit-log."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionResponse

from core import platform
from core.services import audit
from handlers.respond import json_response, principal_of


async def list_audit_events(
    token_info: dict[str, Any], limit: int = 50, offset: int = 0
) -> ConnexionResponse:
    async with platform.current().db.session() as db:
        result = await audit.page(
            db, principal=principal_of(token_info), limit=limit, offset=offset
        )
    return json_response(result)
