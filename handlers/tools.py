"""/api/v1/tools: list and invoke."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionResponse

from core import platform
from core.services import tools
from generated import models as api
from handlers.respond import json_response, principal_of


async def list_tools(
    token_info: dict[str, Any], limit: int = 50, offset: int = 0
) -> ConnexionResponse:
    p = platform.current()
    async with p.db.session() as db:
        result = await tools.page(
            p, db, principal=principal_of(token_info), limit=limit, offset=offset
        )
    return json_response(result)


async def invoke_tool(
    tool_name: str, body: dict[str, Any], token_info: dict[str, Any]
) -> ConnexionResponse:
    request = api.InvokeRequest.model_validate(body)
    result = await tools.invoke(
        platform.current(), principal=principal_of(token_info), tool_name=tool_name, body=request
    )
    return json_response(result)
