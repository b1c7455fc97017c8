"""Per-request credential lookups, kept off the ORM and out of transactions.

Every authenticated request (and every SDK handshake) runs exactly one read
here, so these get their own connections tuned for a single indexed read:

* SQLite (embedded, one process): a synchronous read with the stdlib driver
  on the event loop. In WAL mode readers never wait for the writer, and a
  primary-key read takes about 0.01 ms, far less than a hop to aiosqlite's
  thread and back (0.5 to 1.5 ms, and GIL contention under load).
* PostgreSQL: an async engine in autocommit mode, so the read is one round
  trip with no BEGIN or ROLLBACK around it (and plain SQL: no ORM work).

The SQL is written once, with named parameters, for both. On SQLite the values
follow SQLAlchemy's storage: UUIDs as 32 hex digits and timestamps as
'YYYY-MM-DD HH:MM:SS.ffffff' UTC text, which sorts like time.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.db import driver_urls, sqlite_pragmas
from core.settings import Settings

_SESSION_ROLE = """
SELECT m.role FROM auth_sessions AS s
JOIN memberships AS m ON m.user_id = s.user_id AND m.org_id = s.org_id AND m.status = 'active'
WHERE s.id = :sid AND s.user_id = :uid AND s.org_id = :oid AND s.revoked_at IS NULL
  AND s.expires_at > :now
"""
_API_KEY = """
SELECT id, org_id, last_used_at FROM api_keys
WHERE key_hash = :key_hash AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > :now)
"""
_SDK_CONNECTION = """
SELECT name FROM sdk_connections
WHERE id = :cid AND org_id = :oid AND secret_jti = :jti AND revoked_at IS NULL
"""
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


@dataclass(frozen=True, slots=True)
class LiveApiKey:
    id: uuid.UUID
    org_id: uuid.UUID
    last_used_at: datetime | None


class CredentialCheck:
    def __init__(self, settings: Settings) -> None:
        async_url, _ = driver_urls(settings.database_url)
        self._sqlite: sqlite3.Connection | None = None
        self._async: AsyncEngine | None = None
        if settings.is_sqlite:
            path = settings.database_url.split(":///", 1)[1]
            # Autocommit (isolation_level=None): each read sees the newest commit.
            self._sqlite = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            sqlite_pragmas(self._sqlite, None)
        else:
            self._async = create_async_engine(
                async_url, isolation_level="AUTOCOMMIT", pool_reset_on_return=None, pool_size=10
            )

    def _sqlite_value(self, value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return value.hex
        if isinstance(value, datetime):
            return value.strftime(_SQLITE_TIME)
        return value

    async def _first(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        if self._sqlite is not None:
            args = {k: self._sqlite_value(v) for k, v in params.items()}
            row = self._sqlite.execute(sql, args).fetchone()
            return tuple(row) if row is not None else None
        assert self._async is not None
        async with self._async.connect() as conn:
            result = (await conn.execute(text(sql), params)).first()
        return tuple(result) if result is not None else None

    async def session_role(
        self, *, session_id: uuid.UUID, user_id: uuid.UUID, org_id: uuid.UUID, now: datetime
    ) -> str | None:
        """The caller's role if the session is live and the membership active, else None."""
        row = await self._first(
            _SESSION_ROLE, {"sid": session_id, "uid": user_id, "oid": org_id, "now": now}
        )
        return str(row[0]) if row else None

    async def api_key(self, *, key_hash: str, now: datetime) -> LiveApiKey | None:
        """The live (not revoked, not expired) key with this hash, if any."""
        row = await self._first(_API_KEY, {"key_hash": key_hash, "now": now})
        if row is None:
            return None
        key_id, org_id, last_used = row
        if self._sqlite is not None:  # raw sqlite3 returns the stored text
            key_id, org_id = uuid.UUID(hex=key_id), uuid.UUID(hex=org_id)
            last_used = datetime.fromisoformat(last_used + "+00:00") if last_used else None
        return LiveApiKey(key_id, org_id, last_used)

    async def sdk_connection_live(
        self, *, connection_id: uuid.UUID, org_id: uuid.UUID, jti: str
    ) -> bool:
        """True if the connection exists, is not revoked, and `jti` is its current secret."""
        row = await self._first(_SDK_CONNECTION, {"cid": connection_id, "oid": org_id, "jti": jti})
        return row is not None

    async def dispose(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._async is not None:
            await self._async.dispose()
