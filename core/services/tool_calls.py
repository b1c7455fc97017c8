"""Call records: opened before dispatch, closed with the outcome; history for monitoring."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.clock import utcnow
from core.errors import NotFound
from core.platform import Platform
from core.principal import Principal
from core.services.paging import fetch_page
from core.tables import ToolCallRecord
from generated import models as api

log = logging.getLogger("platos.calls")


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


_OPEN = """
INSERT INTO tool_calls (id, org_id, sdk_connection_id, tool_name, status, invoked_by_type,
                        invoked_by_id, created_at)
VALUES (:id, :org_id, :connection_id, :tool_name, 'running', :by_type, :by_id, :now)
"""
_CLOSE = """
UPDATE tool_calls SET status = :status, latency_ms = :latency, error = :error, completed_at = :now
WHERE id = :id AND org_id = :org_id AND status = 'running'
"""


async def open_call(
    p: Platform,
    *,
    principal: Principal,
    call_id: uuid.UUID,
    connection_id: uuid.UUID,
    tool_name: str,
) -> None:
    """Record the call as running before it is dispatched (one statement: the hot path)."""
    await p.sql.execute(
        _OPEN,
        {
            "id": call_id,
            "org_id": principal.org_id,
            "connection_id": connection_id,
            "tool_name": tool_name,
            "by_type": principal.kind,
            "by_id": principal.actor_id,
            "now": utcnow(),
        },
    )


async def close_call(
    p: Platform,
    *,
    principal: Principal,
    call_id: uuid.UUID,
    status: str,
    latency_ms: int | None,
    error: str | None,
) -> None:
    """Record the outcome; only a call still running can be closed (once)."""
    await p.sql.execute(
        _CLOSE,
        {
            "id": call_id,
            "org_id": principal.org_id,
            "status": status,
            "latency": latency_ms,
            "error": error,
            "now": utcnow(),
        },
    )


_ABANDON = """
UPDATE tool_calls SET status = 'failed', error = :error, completed_at = :now
WHERE status = 'running' AND created_at < :cutoff
"""
MAX_TIMEOUT_MS = 300_000  # the spec's maximum timeout_ms
# No call may legitimately run longer than the largest timeout; past it plus a margin,
# a `running` record belongs to an API process that died mid-call.
ABANDONED_AFTER = timedelta(milliseconds=MAX_TIMEOUT_MS) + timedelta(minutes=1)


async def fail_abandoned(p: Platform) -> int:
    """Close the records of calls whose API process died mid-call, so none stays running."""
    now = utcnow()
    return await p.sql.execute(
        _ABANDON,
        {
            "error": "abandoned: the API process handling the call stopped",
            "now": now,
            "cutoff": now - ABANDONED_AFTER,
        },
    )


SWEEP_EVERY_S = 60.0


async def sweep_abandoned(p: Platform) -> None:
    """`fail_abandoned` every minute, for as long as the process runs (it also runs once at
    start): a record left by an API process that died is closed even if none restarts."""
    while True:
        await asyncio.sleep(SWEEP_EVERY_S)
        try:
            closed = await fail_abandoned(p)
            if closed:
                log.warning("closed %d call records abandoned by a stopped API process", closed)
        except Exception:
            log.exception("could not sweep abandoned call records")


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
