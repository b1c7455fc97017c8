"""/api/v1/org: the caller's organization."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionResponse

from core import platform
from core.services import orgs
from generated import models as api
from handlers.respond import json_response, principal_of


async def get_org(token_info: dict[str, Any]) -> ConnexionResponse:
    async with platform.current().db.session() as db:
        result = await orgs.get(db, principal=principal_of(token_info))
    return json_response(result)


async def update_org(body: dict[str, Any], token_info: dict[str, Any]) -> ConnexionResponse:
    patch = api.OrganizationUpdate.model_validate(body)
    async with platform.current().db.session() as db:
        result = await orgs.update(db, principal=principal_of(token_info), patch=patch)
    return json_response(result)
