"""/api/v1/org/api-keys."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionResponse

from core import platform
from core.services import api_keys
from generated import models as api
from handlers.respond import json_response, no_content, path_uuid, principal_of


async def list_api_keys(
    token_info: dict[str, Any], limit: int = 50, offset: int = 0
) -> ConnexionResponse:
    async with platform.current().db.session() as db:
        result = await api_keys.page(
            db, principal=principal_of(token_info), limit=limit, offset=offset
        )
    return json_response(result)


async def create_api_key(body: dict[str, Any], token_info: dict[str, Any]) -> ConnexionResponse:
    create = api.ApiKeyCreate.model_validate(body)
    async with platform.current().db.session() as db:
        result = await api_keys.create(db, principal=principal_of(token_info), body=create)
    return json_response(result, 201)


async def revoke_api_key(key_id: str, token_info: dict[str, Any]) -> ConnexionResponse:
    async with platform.current().db.session() as db:
        await api_keys.revoke(db, principal=principal_of(token_info), key_id=path_uuid(key_id))
    return no_content()
