"""SDK connections: the identities behind PLATOS_SECRETs. Owners and admins manage them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core.channel import CLOSE_REVOKED
from core.clock import utcnow
from core.errors import NotFound
from core.permissions import require_admin
from core.platform import Platform
from core.principal import Principal
from core.security.tokens import SdkClaims, TokenInvalid
from core.services import audit, tools
from core.services.names import clean_name
from core.services.paging import fetch_page
from core.tables import SdkConnection
from generated import models as api

Status = dict[uuid.UUID, tuple[int, float | None, int]]


def connection_view(conn: SdkConnection, status: Status) -> api.SdkConnection:
    """The row plus its live status (sockets, newest sign of life, declared tools)."""
    sockets, seen, tool_count = status.get(conn.id, (0, None, 0))
    last_seen = conn.last_seen_at
    if seen is not None:
        live_seen = datetime.fromtimestamp(seen, UTC)
        last_seen = max(last_seen, live_seen) if last_seen else live_seen
    return api.SdkConnection(
        id=conn.id,
        name=conn.name,
        created_at=conn.created_at,
        rotated_at=conn.rotated_at,
        status="online" if sockets else "offline",
        live_sockets=sockets,
        last_seen_at=last_seen,
        tool_count=tool_count,
    )


def _secret_view(p: Platform, conn: SdkConnection) -> api.SdkConnectionSecret:
    secret = p.tokens.issue_sdk_secret(
        org_id=conn.org_id, connection_id=conn.id, jti=conn.secret_jti
    )
    return api.SdkConnectionSecret(
        id=conn.id,
        name=conn.name,
        secret=secret,
        created_at=conn.created_at,
        rotated_at=conn.rotated_at,
    )


async def _load(
    db: AsyncSession, *, principal: Principal, connection_id: uuid.UUID
) -> SdkConnection:
    stmt = select(SdkConnection).where(
        SdkConnection.id == connection_id,
        SdkConnection.org_id == principal.org_id,
        SdkConnection.revoked_at.is_(None),
    )
    conn = (await db.exec(stmt)).scalar_one_or_none()
    if conn is None:
        raise NotFound("No such SDK connection in this organization.")
    return conn


async def create(
    p: Platform, db: AsyncSession, *, principal: Principal, body: api.SdkConnectionCreate
) -> api.SdkConnectionSecret:
    """Create a connection and mint its secret (shown this once)."""
    require_admin(principal, "create SDK connections")
    conn = SdkConnection(
        org_id=principal.org_id,
        name=clean_name(body.name.root),
        secret_jti=uuid.uuid4().hex,
        created_by=principal.actor_id,
    )
    db.add(conn)
    await db.flush()
    await audit.record(
        db,
        action="sdk_connection.created",
        org_id=principal.org_id,
        principal=principal,
        target=("sdk_connection", conn.id),
        details={"name": conn.name},
    )
    return _secret_view(p, conn)


async def page(
    p: Platform, db: AsyncSession, *, principal: Principal, limit: int, offset: int
) -> api.SdkConnectionPage:
    require_admin(principal, "list SDK connections")
    total, rows = await fetch_page(
        db,
        select(SdkConnection),
        where=(SdkConnection.org_id == principal.org_id) & SdkConnection.revoked_at.is_(None),
        order_by=(SdkConnection.created_at.desc(), SdkConnection.id),
        limit=limit,
        offset=offset,
    )
    status = await tools.connection_status(p, db, org_id=principal.org_id)
    items = [connection_view(c, status) for (c,) in rows]
    return api.SdkConnectionPage(items=items, total=total, limit=limit, offset=offset)


async def get(
    p: Platform, db: AsyncSession, *, principal: Principal, connection_id: uuid.UUID
) -> api.SdkConnection:
    require_admin(principal, "read SDK connections")
    conn = await _load(db, principal=principal, connection_id=connection_id)
    return connection_view(conn, await tools.connection_status(p, db, org_id=principal.org_id))


async def rotate(
    p: Platform, db: AsyncSession, *, principal: Principal, connection_id: uuid.UUID
) -> api.SdkConnectionSecret:
    """A new secret; the old one stops working at once."""
    require_admin(principal, "rotate SDK connections")
    conn = await _load(db, principal=principal, connection_id=connection_id)
    conn.secret_jti = uuid.uuid4().hex
    conn.rotated_at = utcnow()
    db.add(conn)
    await db.flush()
    await audit.record(
        db,
        action="sdk_connection.rotated",
        org_id=principal.org_id,
        principal=principal,
        target=("sdk_connection", conn.id),
    )
    await db.commit()  # the old secret is dead before its sockets are told
    await p.channel.close_connection(conn.id, CLOSE_REVOKED, "secret rotated")
    return _secret_view(p, conn)


async def revoke(
    p: Platform, db: AsyncSession, *, principal: Principal, connection_id: uuid.UUID
) -> None:
    """Revoke the connection: its secret stops working and its live sockets are closed."""
    require_admin(principal, "revoke SDK connections")
    conn = await _load(db, principal=principal, connection_id=connection_id)
    conn.revoked_at = utcnow()
    db.add(conn)
    await db.flush()  # the row lock first: a declaration being written finishes before us
    await tools.forget_declarations(db, org_id=principal.org_id, connection_id=conn.id)
    await audit.record(
        db,
        action="sdk_connection.revoked",
        org_id=principal.org_id,
        principal=principal,
        target=("sdk_connection", conn.id),
    )
    await db.commit()  # the secret is dead before its sockets are told
    await p.channel.close_connection(conn.id, CLOSE_REVOKED, "connection revoked")


async def authenticate_secret(p: Platform, secret: str) -> SdkClaims | None:
    """The claims of a live PLATOS_SECRET, or None (forged, rotated away, revoked)."""
    try:
        claims = p.tokens.verify_sdk_secret(secret)
    except TokenInvalid:
        return None
    live = await secret_is_current(
        p, connection_id=claims.sdk_connection_id, org_id=claims.org_id, jti=claims.jti
    )
    return claims if live else None


async def secret_is_current(
    p: Platform, *, connection_id: uuid.UUID, org_id: uuid.UUID, jti: str
) -> bool:
    """Is `jti` still the connection's secret (not rotated away, not revoked)? The socket
    server asks at the handshake and again for sockets already open."""
    return await p.credentials.sdk_connection_live(
        connection_id=connection_id, org_id=org_id, jti=jti
    )
