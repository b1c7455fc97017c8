"""The live SDK sockets of this process, their tools and the calls in flight on them."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from core import signing
from core.channel import CallFailed, CallOutcome, CallRequest, CallTimedOut, SocketInfo
from ws import frames, limits

log = logging.getLogger("platos.ws")


@dataclass(eq=False)
class LiveSocket:
    ws: ServerConnection
    org_id: uuid.UUID
    connection_id: uuid.UUID
    secret: str  # the PLATOS_SECRET it authenticated with: the envelope's signing key
    jti: str  # the secret's id, to re-check that it is still the connection's
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    tools: frozenset[str] = frozenset()
    health: dict[str, Any] = field(default_factory=dict)
    last_seen: float = field(default_factory=time.time)
    pending: dict[str, asyncio.Future[CallOutcome]] = field(default_factory=dict)
    # Calls sent to the SDK and not answered yet are capped (see limits); the rest wait here.
    slots: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(limits.MAX_CALLS_SENT_PER_SOCKET)
    )
    waiting: int = 0
    closing: bool = False  # being closed: no new calls
    closed: bool = False

    def info(self, process_id: str) -> SocketInfo:
        return SocketInfo(
            process_id=process_id,
            socket_id=self.id,
            org_id=self.org_id,
            connection_id=self.connection_id,
            tools=self.tools,
            inflight=len(self.pending) + self.waiting,
            health=dict(self.health),
            last_seen=self.last_seen,
        )


class Hub:
    """Implements `core.channel.LocalSockets` for the channel."""

    def __init__(self, process_id: str) -> None:
        self.process_id = process_id
        self._sockets: dict[str, LiveSocket] = {}

    def count(self, connection_id: uuid.UUID) -> int:
        return sum(1 for s in self._sockets.values() if s.connection_id == connection_id)

    def add(self, sock: LiveSocket) -> None:
        self._sockets[sock.id] = sock

    def remove(self, sock: LiveSocket, reason: str) -> None:
        """Forget the socket; every call in flight on it fails now, not at its timeout."""
        sock.closed = True
        self._sockets.pop(sock.id, None)
        for call_id, future in list(sock.pending.items()):
            if not future.done():
                future.set_exception(CallFailed(f"the SDK disconnected during the call ({reason})"))
            sock.pending.pop(call_id, None)

    def sockets_for_org(self, org_id: uuid.UUID) -> list[SocketInfo]:
        return [
            s.info(self.process_id)
            for s in self._sockets.values()
            if s.org_id == org_id and not s.closing
        ]

    def all_sockets(self) -> list[SocketInfo]:
        return [s.info(self.process_id) for s in self._sockets.values() if not s.closing]

    def live(self) -> list[LiveSocket]:
        return list(self._sockets.values())

    async def deliver(self, socket_id: str, request: CallRequest) -> CallOutcome:
        sock = self._sockets.get(socket_id)
        if sock is None or sock.closed or sock.closing:
            raise CallFailed("the SDK socket is gone")
        # The SDK reads one frame at a time, and its client stops reading (pings included)
        # once 16 frames queue up: past the cap, calls wait here, not in the SDK's buffer.
        sock.waiting += 1
        try:
            await sock.slots.acquire()
        finally:
            sock.waiting -= 1
        try:
            return await self._send_and_wait(sock, request)
        finally:
            sock.slots.release()

    async def _send_and_wait(self, sock: LiveSocket, request: CallRequest) -> CallOutcome:
        if sock.closed or sock.closing:
            raise CallFailed("the SDK disconnected before the call was sent")
        if time.time() >= request.deadline:
            raise CallTimedOut()  # queued past its deadline: never run a late call
        envelope = signing.envelope(
            sock.secret,
            org_id=str(sock.org_id),
            entity_id=str(sock.connection_id),
            user_id=request.invoked_by,
            call_id=request.call_id,
            tool_name=request.tool_name,
            arguments=request.arguments,
        )
        future: asyncio.Future[CallOutcome] = asyncio.get_running_loop().create_future()
        sock.pending[request.call_id] = future
        try:
            frame = frames.tool_call(
                request.call_id, request.tool_name, {**request.arguments, "__platos": envelope}
            )
            await sock.ws.send(frame)
            return await future
        except ConnectionClosed as exc:
            raise CallFailed("the SDK disconnected during the call") from exc
        finally:
            sock.pending.pop(request.call_id, None)

    def complete(self, sock: LiveSocket, call_id: str, outcome: CallOutcome) -> None:
        """An answer from `sock`. Calls are looked up on that socket only, so an answer
        for another socket's (or another org's) call is unknown here, and dropped."""
        future = sock.pending.get(call_id)
        if future is None or future.done():
            log.warning(
                "dropped an answer for unknown call %s on connection %s",
                call_id[:64],
                sock.connection_id,
            )
            return
        future.set_result(outcome)

    async def close_connection(self, connection_id: uuid.UUID, code: int, reason: str) -> None:
        """Close a revoked or rotated connection's sockets; its calls in flight fail now."""
        targets = [s for s in self._sockets.values() if s.connection_id == connection_id]
        await self.close_sockets(targets, code, reason)

    async def close_sockets(self, targets: list[LiveSocket], code: int, reason: str) -> None:
        for sock in targets:
            self.remove(sock, reason)
        await asyncio.gather(*(s.ws.close(code, reason) for s in targets), return_exceptions=True)

    async def close_all(self, code: int, reason: str) -> None:
        """Shutdown: no new calls; those in flight may still finish during the close."""
        targets = list(self._sockets.values())
        for sock in targets:
            sock.closing = True
        await asyncio.gather(*(s.ws.close(code, reason) for s in targets), return_exceptions=True)
