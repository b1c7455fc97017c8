"""Call records: opened before dispatch, closed with the outcome; history for monitoring."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from core.clock import utcnow
from core.errors import NotFound
from core.principal import Principal
from core.services.paging import fetch_page
from core.tables import ToolCallRecord
from generated import models as api


def call_view(c: ToolCallRecord) -> api.ToolCall:
    return api.ToolCall.model_validate(
        {
            "id": c.id,
            "tool_name": c.tool_name,
            "sdk_connection_id": c.sdk_connection_id,
            "status": c.status,
            "latency_ms": c.latency_ms,
            "error": c.error,
            "invoked_by": {"type": c.invoked_by_type, "id": c.invoked_by_id},
            "created_at": c.created_at,
            "completed_at": c.completed_at,
        }
    )


async def open_call(
    db: AsyncSession,
    *,
    principal: Principal,
    call_id: uuid.UUID,
    connection_id: uuid.UUID,
    tool_name: str,
) -> None:
    db.add(
        ToolCallRecord(
            id=call_id,
            org_id=principal.org_id,
            sdk_connection_id=connection_id,
            tool_name=tool_name,
            status="running",
            invoked_by_type=principal.kind,
            invoked_by_id=principal.actor_id,
        )
    )


async def close_call(
    db: AsyncSession,
    *,
    call_id: uuid.UUID,
    status: str,
    latency_ms: int | None,
    error: str | None,
) -> None:
    """Record the outcome; only a call still running can be closed (once)."""
    await db.exec(
        update(ToolCallRecord)
        .where(ToolCallRecord.id == call_id, ToolCallRecord.status == "running")
        .values(status=status, latency_ms=latency_ms, error=error, completed_at=utcnow())
    )


async def page(
    db: AsyncSession,
    *,
    principal: Principal,
    limit: int,
    offset: int,
    tool_name: str | None = None,
    status: str | None = None,
    connection_id: uuid.UUID | None = None,
) -> api.ToolCallPage:
    """The org's calls, newest first, filtered."""
    where = ToolCallRecord.org_id == principal.org_id
    if tool_name is not None:
        where &= ToolCallRecord.tool_name == tool_name
    if status is not None:
        where &= ToolCallRecord.status == status
    if connection_id is not None:
        where &= ToolCallRecord.sdk_connection_id == connection_id
    total, rows = await fetch_page(
        db,
        select(ToolCallRecord),
        where=where,
        order_by=(ToolCallRecord.created_at.desc(), ToolCallRecord.id),
        limit=limit,
        offset=offset,
    )
    items = [call_view(c) for (c,) in rows]
    return api.ToolCallPage(items=items, total=total, limit=limit, offset=offset)


async def get(db: AsyncSession, *, principal: Principal, call_id: uuid.UUID) -> api.ToolCall:
    stmt = select(ToolCallRecord).where(
        ToolCallRecord.id == call_id, ToolCallRecord.org_id == principal.org_id
    )
    call = (await db.exec(stmt)).scalar_one_or_none()
    if call is None:
        raise NotFound("No such call in this organization.")
    return call_view(call)
