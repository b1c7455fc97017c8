"""Database engines: SQLite (embedded default, WAL mode) or PostgreSQL via DATABASE_URL.

The services use one async engine per process (aiosqlite / psycopg async);
Alembic uses a sync engine on the same URL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from core.settings import Settings

SQLITE_BUSY_TIMEOUT_MS = 5000


def driver_urls(url: str) -> tuple[str, str]:
    """Map a user-facing URL to (async URL, sync URL) with our pinned drivers."""
    if url.startswith("sqlite"):
        path = url.split("://", 1)[1]
        return f"sqlite+aiosqlite://{path}", f"sqlite://{path}"
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            rest = url[len(prefix) :]
            return f"postgresql+psycopg://{rest}", f"postgresql+psycopg://{rest}"
    raise SystemExit("DATABASE_URL must be a sqlite:// or postgresql:// URL")


def sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; busy_timeout makes a
    # writer wait for the lock instead of failing at once.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def sync_engine(settings: Settings) -> Engine:
    """A sync engine, for migrations and maintenance commands."""
    _, sync_url = driver_urls(settings.database_url)
    engine = create_engine(sync_url, hide_parameters=True)
    if settings.is_sqlite:
        event.listen(engine, "connect", sqlite_pragmas)
    return engine


# hide_parameters: a failing statement's error (and so its logged traceback) names no
# bound value; they are password hashes, token digests and customers' data.
def async_engine(settings: Settings) -> AsyncEngine:
    async_url, _ = driver_urls(settings.database_url)
    if settings.is_sqlite:
        engine = create_async_engine(async_url, pool_size=8, max_overflow=8, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", sqlite_pragmas)
    else:
        # No pre-ping: it costs a round trip on every checkout of every request;
        # recycling bounds the life of a connection instead.
        engine = create_async_engine(
            async_url, pool_size=10, max_overflow=20, pool_recycle=1800, hide_parameters=True
        )
    return engine


class Database:
    """The process's async engine and its session factory."""

    def __init__(self, settings: Settings) -> None:
        self.engine = async_engine(settings)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed on success, rolled back on error."""
        async with AsyncSession(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()
