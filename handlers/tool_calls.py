"""/api/v1/tool-calls: call history."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionResponse

from core import platform
from core.services import tool_calls
from handlers.respond import json_response, path_uuid, principal_of


async def list_tool_calls(
    token_info: dict[str, Any],
    limit: int = 50,
    offset: int = 0,
    tool_name: str | None = None,
    status: str | None = None,
    sdk_connection_id: str | None = None,
) -> ConnexionResponse:
    async with platform.current().db.session() as db:
        result = await tool_calls.page(
            db,
            principal=principal_of(token_info),
            limit=limit,
            offset=offset,
            tool_name=tool_name,
            status=status,
            connection_id=path_uuid(sdk_connection_id) if sdk_connection_id else None,
        )
    return json_response(result)


async def get_tool_call(call_id: str, token_info: dict[str, Any]) -> ConnexionResponse:
    async with platform.current().db.session() as db:
        result = await tool_calls.get(
            db, principal=principal_of(token_info), call_id=path_uuid(call_id)
        )
    return json_response(result)
