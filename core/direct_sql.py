"""Single SQL statements outside the ORM, for the hot paths (credential checks, the
invoke path). One per process, shared.

* SQLite (embedded, one process): the stdlib driver, synchronously on the event loop.
  A primary-key read or a one-row write takes 0.01 to 0.3 ms, far less than a hop to
  aiosqlite's thread and back (1.5 to 3 ms per unit of work, measured). In WAL mode a
  reader never waits. A writer can meet the lock of an ORM transaction in flight: it
  waits at most WRITE_BUSY_MS on the loop, then hands the statement to the async
  engine instead, so the loop is never held longer than that.
* PostgreSQL: an async engine in autocommit mode: one round trip per statement, with
  no BEGIN, COMMIT or ROLLBACK around it.

Values are converted to SQLAlchemy's SQLite storage (UUIDs as 32 hex digits, times as
'YYYY-MM-DD HH:MM:SS.ffffff' UTC text, which sorts like time), so both paths read and
write what the ORM does.
"""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.db import Database, driver_urls, sqlite_pragmas
from core.settings import Settings

SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
WRITE_BUSY_MS = 20


def sqlite_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(hex=str(value))


def sqlite_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


class DirectSQL:
    def __init__(self, settings: Settings, db: Database) -> None:
        async_url, _ = driver_urls(settings.database_url)
        self._db = db
        self._sqlite: sqlite3.Connection | None = None
        self._async: AsyncEngine | None = None
        if settings.is_sqlite:
            path = settings.database_url.split(":///", 1)[1]
            # Autocommit (isolation_level=None): each read sees the newest commit.
            self._sqlite = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            sqlite_pragmas(self._sqlite, None)
            self._sqlite.execute(f"PRAGMA busy_timeout={WRITE_BUSY_MS}")
        else:
            self._async = create_async_engine(
                async_url,
                isolation_level="AUTOCOMMIT",
                pool_reset_on_return=None,
                pool_size=10,
                hide_parameters=True,
            )

    @property
    def is_sqlite(self) -> bool:
        return self._sqlite is not None

    @staticmethod
    def _sqlite_value(value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return value.hex
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime(SQLITE_TIME)
        return value

    async def all(self, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        if self._sqlite is not None:
            args = {k: self._sqlite_value(v) for k, v in params.items()}
            return [tuple(row) for row in self._sqlite.execute(sql, args).fetchall()]
        assert self._async is not None
        async with self._async.connect() as conn:
            return [tuple(row) for row in (await conn.execute(text(sql), params)).all()]

    async def first(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    async def execute(self, sql: str, params: dict[str, Any]) -> int:
        """One write, committed at once; the number of rows it touched."""
        if self._sqlite is not None:
            args = {k: self._sqlite_value(v) for k, v in params.items()}
            try:
                return self._sqlite.execute(sql, args).rowcount
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
            # An ORM transaction holds the lock: wait for it off the loop instead.
            async with self._db.engine.begin() as conn:
                return (await conn.execute(text(sql), args)).rowcount
        assert self._async is not None
        async with self._async.connect() as conn:
            return (await conn.execute(text(sql), params)).rowcount

    async def dispose(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._async is not None:
            await self._async.dispose()
