"""The per-process bundle of shared resources the services work with."""

from __future__ import annotations

from dataclasses import dataclass

from core.channel import Channel
from core.channel.memory import MemoryChannel
from core.channel.redis import RedisChannel
from core.credential_check import CredentialCheck
from core.db import Database
from core.direct_sql import DirectSQL
from core.security.passwords import Passwords
from core.security.ratelimit import AuthRateLimiter
from core.security.tokens import TokenSigner
from core.settings import Settings

_current: Platform | None = None


@dataclass(slots=True)
class Platform:
    settings: Settings
    db: Database
    passwords: Passwords
    tokens: TokenSigner
    auth_limiter: AuthRateLimiter
    sql: DirectSQL
    credentials: CredentialCheck
    channel: Channel

    @classmethod
    def create(cls, settings: Settings) -> Platform:
        db = Database(settings)
        sql = DirectSQL(settings, db)
        return cls(
            settings=settings,
            db=db,
            passwords=Passwords(settings),
            tokens=TokenSigner(settings),
            auth_limiter=AuthRateLimiter(settings),
            sql=sql,
            credentials=CredentialCheck(sql),
            channel=_channel(settings),
        )

    async def start(self) -> None:
        await self.channel.start()

    async def close(self) -> None:
        await self.channel.close()
        await self.sql.dispose()
        await self.db.dispose()


def _channel(settings: Settings) -> Channel:
    """In memory for the embedded single process; through Redis when REDIS_URL is set."""
    if settings.redis_url:
        return RedisChannel(settings)
    return MemoryChannel()


def install(platform: Platform) -> None:
    """Make `platform` the one `current()` returns (done once at start-up)."""
    global _current
    _current = platform


def current() -> Platform:
    if _current is None:
        raise RuntimeError("the platform is not started")
    return _current
