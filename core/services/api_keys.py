"""Org API keys: created by owners and admins, shown once, stored as a hash."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from core.clock import utcnow
from core.errors import NotFound, ValidationFailed
from core.permissions import require_admin
from core.platform import Platform
from core.principal import Principal
from core.security.opaque import API_KEY_PREFIX, digest, display_prefix, new_secret
from core.services import audit
from core.services.names import clean_name
from core.services.paging import fetch_page
from core.tables import ApiKey
from generated import models as api

# last_used_at is a hint, not a log: write it at most this often per key.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_TOUCH = "UPDATE api_keys SET last_used_at = :now WHERE id = :id"


def key_view(key: ApiKey) -> api.ApiKey:
    return api.ApiKey(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        expires_at=key.expires_at,
    )


async def create(
    db: AsyncSession, *, principal: Principal, body: api.ApiKeyCreate
) -> api.ApiKeyCreated:
    """Mint a key; the only time it is ever shown."""
    require_admin(principal, "create API keys")
    if body.expires_at is not None and body.expires_at <= utcnow():
        raise ValidationFailed("expires_at must be in the future.")
    secret = new_secret(API_KEY_PREFIX)
    key = ApiKey(
        org_id=principal.org_id,
        name=clean_name(body.name.root),
        prefix=display_prefix(secret, API_KEY_PREFIX),
        key_hash=digest(secret),
        created_by=principal.actor_id,
        expires_at=body.expires_at,
    )
    db.add(key)
    await db.flush()
    await audit.record(
        db,
        action="api_key.created",
        org_id=principal.org_id,
        principal=principal,
        target=("api_key", key.id),
        details={"name": key.name, "prefix": key.prefix},
    )
    return api.ApiKeyCreated(
        id=key.id,
        name=key.name,
        prefix=key.prefix,
        key=secret,
        created_at=key.created_at,
        expires_at=key.expires_at,
    )


async def page(
    db: AsyncSession, *, principal: Principal, limit: int, offset: int
) -> api.ApiKeyPage:
    """The org's live keys, newest first (never the keys themselves)."""
    require_admin(principal, "list API keys")
    total, rows = await fetch_page(
        db,
        select(ApiKey),
        where=(ApiKey.org_id == principal.org_id) & ApiKey.revoked_at.is_(None),
        order_by=(ApiKey.created_at.desc(), ApiKey.id),
        limit=limit,
        offset=offset,
    )
    return api.ApiKeyPage(
        items=[key_view(k) for (k,) in rows], total=total, limit=limit, offset=offset
    )


async def revoke(db: AsyncSession, *, principal: Principal, key_id: uuid.UUID) -> None:
    """Revoke a key of the caller's org; its next request is refused."""
    require_admin(principal, "revoke API keys")
    result = await db.exec(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.org_id == principal.org_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if result.rowcount != 1:
        raise NotFound("No such API key in this organization.")
    await audit.record(
        db,
        action="api_key.revoked",
        org_id=principal.org_id,
        principal=principal,
        target=("api_key", key_id),
    )


async def authenticate(p: Platform, raw_key: str, *, client_ip: str | None) -> Principal | None:
    """The principal an `X-API-Key` stands for, or None. One indexed read per request."""
    now = utcnow()
    key = await p.credentials.api_key(key_hash=digest(raw_key), now=now)
    if key is None:
        return None
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        await p.sql.execute(_TOUCH, {"id": key.id, "now": now})  # one statement, no ORM unit
    return Principal(org_id=key.org_id, kind="api_key", actor_id=key.id, client_ip=client_ip)
