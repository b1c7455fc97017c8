"""Security events: who did what to which object, from where. Never a secret."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.permissions import require_admin
from core.principal import Principal
from core.services.paging import fetch_page
from core.tables import AuditEvent
from generated import models as api


async def record(
    db: AsyncSession,
    *,
    action: str,
    org_id: uuid.UUID | None,
    principal: Principal | None = None,
    actor_id: uuid.UUID | None = None,
    client_ip: str | None = None,
    target: tuple[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add one event to the unit of work (it commits with it).

    The actor is `principal` when there is one; otherwise a user known by id
    (login), or anonymous.
    """
    if principal is not None:
        actor_type, actor_id, client_ip = principal.kind, principal.actor_id, principal.client_ip
    else:
        actor_type = "user" if actor_id else "anonymous"
    db.add(
        AuditEvent(
            org_id=org_id,
            action=action,
            actor_type=actor_type,
            actor_id=actor_id,
            target_type=target[0] if target else None,
            target_id=str(target[1]) if target else None,
            client_ip=client_ip,
            details=details or {},
        )
    )


async def page(
    db: AsyncSession, *, principal: Principal, limit: int, offset: int
) -> api.AuditEventPage:
    """The org's events, newest first; owners and admins."""
    require_admin(principal, "read the audit log")
    total, rows = await fetch_page(
        db,
        select(AuditEvent),
        where=AuditEvent.org_id == principal.org_id,
        order_by=(AuditEvent.created_at.desc(), AuditEvent.id),
        limit=limit,
        offset=offset,
    )
    items = [
        api.AuditEvent(
            id=e.id,
            action=e.action,
            actor_type=e.actor_type,  # type: ignore[arg-type]
            actor_id=e.actor_id,
            target_type=e.target_type,
            target_id=e.target_id,
            client_ip=e.client_ip,
            details=e.details,
            created_at=e.created_at,
        )
        for (e,) in rows
    ]
    return api.AuditEventPage(items=items, total=total, limit=limit, offset=offset)
