"""/api/v1/org/sdk-connections."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionResponse

from core import platform
from core.services import sdk_connections
from generated import models as api
from handlers.respond import json_response, no_content, path_uuid, principal_of


async def list_sdk_connections(
    token_info: dict[str, Any], limit: int = 50, offset: int = 0
) -> ConnexionResponse:
    p = platform.current()
    async with p.db.session() as db:
        result = await sdk_connections.page(
            p, db, principal=principal_of(token_info), limit=limit, offset=offset
        )
    return json_response(result)


async def create_sdk_connection(
    body: dict[str, Any], token_info: dict[str, Any]
) -> ConnexionResponse:
    create = api.SdkConnectionCreate.model_validate(body)
    p = platform.current()
    async with p.db.session() as db:
        result = await sdk_connections.create(
            p, db, principal=principal_of(token_info), body=create
        )
    return json_response(result, 201)


async def get_sdk_connection(connection_id: str, token_info: dict[str, Any]) -> ConnexionResponse:
    p = platform.current()
    async with p.db.session() as db:
        result = await sdk_connections.get(
            p, db, principal=principal_of(token_info), connection_id=path_uuid(connection_id)
        )
    return json_response(result)


async def rotate_sdk_connection(
    connection_id: str, token_info: dict[str, Any]
) -> ConnexionResponse:
    p = platform.current()
    async with p.db.session() as db:
        result = await sdk_connections.rotate(
            p, db, principal=principal_of(token_info), connection_id=path_uuid(connection_id)
        )
    return json_response(result)


async def revoke_sdk_connection(
    connection_id: str, token_info: dict[str, Any]
) -> ConnexionResponse:
    p = platform.current()
    async with p.db.session() as db:
        await sdk_connections.revoke(
            p, db, principal=principal_of(token_info), connection_id=path_uuid(connection_id)
        )
    return no_content()
