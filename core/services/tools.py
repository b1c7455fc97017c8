"""Tools: what connected SDKs declared, and invoking them.

Declarations are stored per connection (the newest registration wins) so the
org can see its tools while offline; which socket hosts what right now comes
from the channel's presence.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from core.channel import CallFailed, CallOutcome, CallRequest, CallTimedOut, SocketInfo
from core.clock import utcnow
from core.direct_sql import sqlite_uuid
from core.errors import NotFound, ToolTimeout, ToolUnavailable, ValidationFailed
from core.platform import Platform
from core.principal import Principal
from core.services import tool_calls
from core.services.paging import fetch_page
from core.tables import SdkConnection, ToolDeclaration
from core.tool_schemas import InvalidToolSchema, compile_schema, params_error
from generated import models as api

log = logging.getLogger("platos.tools")
DEFAULT_TIMEOUT_MS = 30_000

# Keys of `params` the SDK takes for itself (docs/sdk-protocol.md): a caller may not set them.
RESERVED_PARAMS = ("__platos", "_context")

# (declaration id, registered_at) -> (its input_schema, compiled by core.tool_schemas)
_validators: dict[tuple[uuid.UUID, str], tuple[dict[str, Any], Any]] = {}


_DECLARED = ("name", "description", "input_schema", "output_schema", "auth", "roles", "annotations")


def _declaration_row(tool: api.SdkToolDeclaration) -> dict[str, Any]:
    return {
        "name": tool.name.root,
        "description": tool.description or "",
        "input_schema": tool.input_schema,
        "output_schema": tool.output_schema,
        "auth": tool.auth or "none",
        "roles": [r.root for r in tool.roles or []],
        "annotations": tool.annotations or {},
    }


async def replace_declarations(
    p: Platform,
    *,
    org_id: uuid.UUID,
    connection_id: uuid.UUID,
    tools: list[api.SdkToolDeclaration],
) -> None:
    """Make `tools` the connection's whole declaration, in one transaction. A connection
    revoked meanwhile keeps none (a write can trail its socket by up to a second).

    An unchanged declaration (every socket of a scaled-out backend sends the same one,
    and again at every reconnect) costs one read and writes nothing: on SQLite a write
    transaction holds the database's only write lock."""
    rows = sorted((_declaration_row(t) for t in tools), key=lambda r: r["name"])
    async with p.db.session() as db:
        stored = await db.exec(
            select(ToolDeclaration)
            .where(
                ToolDeclaration.org_id == org_id,
                ToolDeclaration.sdk_connection_id == connection_id,
            )
            .order_by(ToolDeclaration.name)
        )
        current = [{key: getattr(t, key) for key in _DECLARED} for (t,) in stored.all()]
        if current == rows:
            return
        # A no-op write on the connection's row, first: it locks the row (PostgreSQL) or
        # the database (SQLite) until commit, so a revocation is wholly before or after us.
        locked = await db.exec(
            update(SdkConnection)
            .where(
                SdkConnection.id == connection_id,
                SdkConnection.org_id == org_id,
                SdkConnection.revoked_at.is_(None),
            )
            .values(name=SdkConnection.name)
        )
        if locked.rowcount == 0:
            return
        await db.exec(
            delete(ToolDeclaration).where(
                ToolDeclaration.org_id == org_id, ToolDeclaration.sdk_connection_id == connection_id
            )
        )
        now = utcnow()
        for row in rows:
            db.add(
                ToolDeclaration(
                    org_id=org_id, sdk_connection_id=connection_id, registered_at=now, **row
                )
            )


async def forget_declarations(
    db: AsyncSession, *, org_id: uuid.UUID, connection_id: uuid.UUID
) -> None:
    """A revoked connection's tools are gone from the org's list."""
    await db.exec(
        delete(ToolDeclaration).where(
            ToolDeclaration.org_id == org_id, ToolDeclaration.sdk_connection_id == connection_id
        )
    )


async def touch_connection(p: Platform, *, org_id: uuid.UUID, connection_id: uuid.UUID) -> None:
    async with p.db.session() as db:
        await db.exec(
            update(SdkConnection)
            .where(SdkConnection.id == connection_id, SdkConnection.org_id == org_id)
            .values(last_seen_at=utcnow())
        )


def _health(sockets: list[SocketInfo]) -> dict[tuple[uuid.UUID, str], Any]:
    """(connection, tool) -> the newest health report among the live sockets."""
    newest: dict[tuple[uuid.UUID, str], tuple[float, Any]] = {}
    for s in sockets:
        for name, report in s.health.items():
            key = (s.connection_id, name)
            if key not in newest or newest[key][0] < s.last_seen:
                newest[key] = (s.last_seen, report)
    return {k: v for k, (_, v) in newest.items()}


async def page(
    p: Platform, db: AsyncSession, *, principal: Principal, limit: int, offset: int
) -> api.ToolPage:
    """The org's declared tools with their live status. Any member or API key."""
    total, rows = await fetch_page(
        db,
        select(ToolDeclaration),
        where=ToolDeclaration.org_id == principal.org_id,
        order_by=(ToolDeclaration.name, ToolDeclaration.sdk_connection_id),
        limit=limit,
        offset=offset,
    )
    live = await p.channel.live_sockets(principal.org_id)
    online = {(s.connection_id, name) for s in live for name in s.tools}
    health = _health(live)
    items = [
        api.Tool.model_validate(
            {
                "name": t.name,
                "description": t.description,
                "input_schema": t.input_schema,
                "output_schema": t.output_schema,
                "auth": t.auth,
                "roles": t.roles,
                "annotations": t.annotations,
                "sdk_connection_id": t.sdk_connection_id,
                "online": (t.sdk_connection_id, t.name) in online,
                "health": health.get((t.sdk_connection_id, t.name)),
            }
        )
        for (t,) in rows
    ]
    return api.ToolPage(items=items, total=total, limit=limit, offset=offset)


async def connection_status(
    p: Platform, db: AsyncSession, *, org_id: uuid.UUID
) -> dict[uuid.UUID, tuple[int, float | None, int]]:
    """connection -> (live sockets, newest last_seen of a live socket, declared tools)."""
    live = await p.channel.live_sockets(org_id)
    sockets: dict[uuid.UUID, int] = defaultdict(int)
    seen: dict[uuid.UUID, float] = {}
    for s in live:
        sockets[s.connection_id] += 1
        seen[s.connection_id] = max(seen.get(s.connection_id, 0.0), s.last_seen)
    counts = await db.exec(
        select(ToolDeclaration.sdk_connection_id, func.count())
        .where(ToolDeclaration.org_id == org_id)
        .group_by(ToolDeclaration.sdk_connection_id)
    )
    tools = {cid: int(n) for cid, n in counts.all()}
    ids = set(sockets) | set(tools)
    return {cid: (sockets.get(cid, 0), seen.get(cid), tools.get(cid, 0)) for cid in ids}


_DECLARATIONS = """
SELECT id, sdk_connection_id, input_schema, registered_at FROM tools
WHERE org_id = :org_id AND name = :name
"""


@dataclass(frozen=True, slots=True)
class _Declared:
    id: uuid.UUID
    connection_id: uuid.UUID
    schema: dict[str, Any]
    validator: Any  # core.tool_schemas.compile_schema

    def params_error(self, params: dict[str, Any]) -> str | None:
        return params_error(self.validator, self.schema, params)


async def _declarations(p: Platform, org_id: uuid.UUID, name: str) -> dict[uuid.UUID, _Declared]:
    """connection -> its declaration of `name`, with the compiled input validator.

    One plain read; a schema is parsed and compiled only when its declaration is new."""
    found: dict[uuid.UUID, _Declared] = {}
    for decl_id, connection_id, schema, registered_at in await p.sql.all(
        _DECLARATIONS, {"org_id": org_id, "name": name}
    ):
        key = (sqlite_uuid(decl_id), str(registered_at))
        compiled = _validators.get(key)
        if compiled is None:
            loaded = json.loads(schema) if isinstance(schema, str) else schema
            try:
                compiled = (loaded, compile_schema(loaded))
            except InvalidToolSchema as exc:  # stored before registration checked this
                log.warning("declaration %s of %r is unusable: %s", key[0], name, exc)
                continue
            if len(_validators) > 10_000:  # declarations churn; keep the cache bounded
                _validators.clear()
            _validators[key] = compiled
        connection = sqlite_uuid(connection_id)
        found[connection] = _Declared(key[0], connection, *compiled)
    return found


def _pick(candidates: list[SocketInfo]) -> SocketInfo:
    """The least busy socket; among equals, a random one so that load spreads."""
    least = min(s.inflight for s in candidates)
    return random.choice([s for s in candidates if s.inflight == least])  # noqa: S311 (not crypto)


async def invoke(
    p: Platform, *, principal: Principal, tool_name: str, body: api.InvokeRequest
) -> api.InvokeResult:
    """Validate, route to a live socket, wait for the answer, and record the call."""
    declarations = await _declarations(p, principal.org_id, tool_name)
    if body.sdk_connection_id is not None:
        declarations = {k: v for k, v in declarations.items() if k == body.sdk_connection_id}
    if not declarations:
        raise NotFound("This organization has no such tool.")
    live = [
        s
        for s in await p.channel.live_sockets(principal.org_id)
        if tool_name in s.tools and s.connection_id in declarations
    ]
    target = _pick(live) if live else None
    declared = declarations[target.connection_id] if target else next(iter(declarations.values()))
    reserved = [k for k in RESERVED_PARAMS if k in body.params]
    if reserved:
        raise ValidationFailed(f"params may not carry {', '.join(reserved)}: the platform sets it")
    error = declared.params_error(body.params)
    if error is not None:
        raise ValidationFailed(f"params do not match the tool's input_schema: {error}")
    if target is None:
        raise ToolUnavailable("No connected SDK hosts this tool.")

    call_id = uuid.uuid4()
    await tool_calls.open_call(
        p,
        principal=principal,
        call_id=call_id,
        connection_id=target.connection_id,
        tool_name=tool_name,
    )
    timeout_ms = body.timeout_ms or DEFAULT_TIMEOUT_MS
    request = CallRequest(
        call_id=str(call_id),
        org_id=principal.org_id,
        tool_name=tool_name,
        arguments=body.params,
        invoked_by=str(principal.actor_id),
        deadline=time.time() + timeout_ms / 1000,
    )
    started = time.perf_counter()
    try:
        outcome = await p.channel.dispatch(target, request)
    except CallTimedOut:
        await tool_calls.close_call(
            p,
            principal=principal,
            call_id=call_id,
            status="timed_out",
            latency_ms=None,
            error=f"no answer within {timeout_ms} ms",
        )
        raise ToolTimeout(f"No answer within {timeout_ms} ms.", call_id=str(call_id)) from None
    except CallFailed as exc:
        outcome = CallOutcome("failed", error=str(exc))
    except BaseException:
        # Anything else (the caller went away, the process is stopping, a bug) still closes
        # the record, shielded from a second cancellation: no call stays `running`.
        await asyncio.shield(
            tool_calls.close_call(
                p,
                principal=principal,
                call_id=call_id,
                status="failed",
                latency_ms=None,
                error="the API process stopped waiting for the call",
            )
        )
        raise
    latency = int((time.perf_counter() - started) * 1000)
    await tool_calls.close_call(
        p,
        principal=principal,
        call_id=call_id,
        status=outcome.status,
        latency_ms=latency,
        error=outcome.error,
    )
    if outcome.status == "succeeded":
        return api.InvokeResult(
            call_id=call_id, status="succeeded", result=outcome.result, latency_ms=latency
        )
    return api.InvokeResult(
        call_id=call_id, status="failed", error=outcome.error or "", latency_ms=latency
    )
