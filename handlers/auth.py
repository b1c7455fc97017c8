"""/api/v1/auth/*: register, login, refresh, logout, me."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionResponse

from core import platform
from core.services import auth
from generated import models as api
from handlers.respond import client_ip, json_response, no_content, principal_of


async def register(body: dict[str, Any]) -> ConnexionResponse:
    p = platform.current()
    async with p.db.session() as db:
        result = await auth.register(
            p, db, body=api.RegisterRequest.model_validate(body), client_ip=client_ip()
        )
    return json_response(result, 201)


async def login(body: dict[str, Any]) -> ConnexionResponse:
    p = platform.current()
    async with p.db.session() as db:
        result = await auth.login(
            p, db, body=api.LoginRequest.model_validate(body), client_ip=client_ip()
        )
    return json_response(result)


async def refresh(body: dict[str, Any]) -> ConnexionResponse:
    p = platform.current()
    request = api.RefreshRequest.model_validate(body)
    async with p.db.session() as db:
        result = await auth.refresh(p, db, token=request.refresh_token, client_ip=client_ip())
    return json_response(result)


async def logout(token_info: dict[str, Any]) -> ConnexionResponse:
    async with platform.current().db.session() as db:
        await auth.logout(db, principal=principal_of(token_info))
    return no_content()


async def me(token_info: dict[str, Any]) -> ConnexionResponse:
    async with platform.current().db.session() as db:
        result = await auth.me(db, principal=principal_of(token_info))
    return json_response(result)
