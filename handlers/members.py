"""/api/v1/org/members: members, roles and invitations."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionResponse

from core import platform
from core.services import members
from generated import models as api
from handlers.respond import json_response, no_content, path_uuid, principal_of


async def list_members(
    token_info: dict[str, Any], limit: int = 50, offset: int = 0
) -> ConnexionResponse:
    async with platform.current().db.session() as db:
        result = await members.page(
            db, principal=principal_of(token_info), limit=limit, offset=offset
        )
    return json_response(result)


async def invite_member(body: dict[str, Any], token_info: dict[str, Any]) -> ConnexionResponse:
    invite = api.MemberInvite.model_validate(body)
    async with platform.current().db.session() as db:
        result = await members.invite(db, principal=principal_of(token_info), body=invite)
    return json_response(result, 201)


async def change_role(
    member_id: str, body: dict[str, Any], token_info: dict[str, Any]
) -> ConnexionResponse:
    change = api.RoleChange.model_validate(body)
    async with platform.current().db.session() as db:
        result = await members.change_role(
            db, principal=principal_of(token_info), member_id=path_uuid(member_id), body=change
        )
    return json_response(result)


async def remove_member(member_id: str, token_info: dict[str, Any]) -> ConnexionResponse:
    async with platform.current().db.session() as db:
        await members.remove(db, principal=principal_of(token_info), member_id=path_uuid(member_id))
    return no_content()
