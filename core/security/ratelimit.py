"""Rate limits for login and register, per client address and per email (the `limits` library).

In memory for the embedded single process; in Redis when REDIS_URL is set,
so that every API process counts against the same window.
"""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from core.errors import RateLimited
from core.settings import Settings


class AuthRateLimiter:
    def __init__(self, settings: Settings) -> None:
        storage: Storage
        if settings.redis_url:
            storage = RedisStorage(
                settings.redis_url.replace("redis://", "async+redis://", 1),
                implementation="redispy",
            )
        else:
            storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_ip = parse(settings.auth_rate_limit_ip)
        self._per_email = parse(settings.auth_rate_limit_email)

    async def hit(self, action: str, *, client_ip: str, email: str) -> None:
        """Count one attempt; raise RateLimited (with Retry-After) when over either limit."""
        checks = (
            (self._per_ip, ("ip", action, client_ip)),
            (self._per_email, ("email", action, email.strip().lower())),
        )
        for limit, key in checks:
            if not await self._limiter.hit(limit, *key):
                stats = await self._limiter.get_window_stats(limit, *key)
                raise RateLimited(max(1, math.ceil(stats.reset_time - time.time())))
