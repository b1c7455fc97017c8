"""API and socket server in one process: calls are direct awaits on the local hub."""

from __future__ import annotations

import asyncio
import time
import uuid

from core.channel import (
    CallFailed,
    CallOutcome,
    CallRequest,
    CallTimedOut,
    LocalSockets,
    SocketInfo,
)


class MemoryChannel:
    def __init__(self) -> None:
        self._sockets: LocalSockets | None = None

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def attach(self, sockets: LocalSockets) -> None:
        self._sockets = sockets

    async def live_sockets(self, org_id: uuid.UUID) -> list[SocketInfo]:
        return self._sockets.sockets_for_org(org_id) if self._sockets else []

    async def dispatch(self, target: SocketInfo, request: CallRequest) -> CallOutcome:
        if self._sockets is None:
            raise CallFailed("no socket server in this process")
        remaining = request.deadline - time.time()
        try:
            return await asyncio.wait_for(
                self._sockets.deliver(target.socket_id, request), timeout=max(remaining, 0)
            )
        except TimeoutError as exc:
            raise CallTimedOut() from exc

    async def close_connection(self, connection_id: uuid.UUID, code: int, reason: str) -> None:
        if self._sockets is not None:
            await self._sockets.close_connection(connection_id, code, reason)

    async def presence_changed(self) -> None:
        return None
