"""One SDK socket: welcome, then frames until it closes. Always leaves the hub clean."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from core.background import spawn
from core.channel import (
    CLOSE_IDLE,
    CLOSE_POLICY,
    CLOSE_REVOKED,
    CLOSE_UNSUPPORTED,
    CallOutcome,
)
from core.platform import Platform
from core.security.tokens import SdkClaims
from core.services import sdk_connections
from core.services import tools as tool_service
from generated import models as api
from ws import declarations, frames, limits
from ws.hub import Hub, LiveSocket

log = logging.getLogger("platos.ws")


class Registrar:
    """Applies tool declarations: live routing at once, the database at most once per
    REGISTER_INTERVAL_S (the newest declaration wins), and a flood closes the socket."""

    def __init__(self, p: Platform, hub: Hub, sock: LiveSocket) -> None:
        self._p, self._hub, self._sock = p, hub, sock
        self._recent: deque[float] = deque()
        self._latest: list[api.SdkToolRegisterFrame] = []
        self._writer: asyncio.Task[None] | None = None
        self._last_write = 0.0

    def flooding(self) -> bool:
        now = time.monotonic()
        self._recent.append(now)
        while self._recent and now - self._recent[0] > limits.REGISTER_FLOOD_WINDOW_S:
            self._recent.popleft()
        return len(self._recent) > limits.REGISTER_FLOOD_FRAMES

    async def accept(self, frame: api.SdkToolRegisterFrame) -> None:
        refused = declarations.problems(frame)
        if refused:
            log.warning(
                "refused the tool declaration of connection %s: %s",
                self._sock.connection_id,
                "; ".join(refused)[:1000],
            )
            return
        self._sock.tools = frozenset(t.name.root for t in frame.tools)
        self._latest = [frame]
        await self._p.channel.presence_changed()
        if self._writer is None or self._writer.done():
            self._writer = spawn(self._write())

    async def _write(self) -> None:
        while self._latest:
            wait = self._last_write + limits.REGISTER_INTERVAL_S - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            frame = self._latest.pop()
            self._last_write = time.monotonic()
            try:
                await tool_service.replace_declarations(
                    self._p,
                    org_id=self._sock.org_id,
                    connection_id=self._sock.connection_id,
                    tools=frame.tools,
                )
            except Exception:
                log.exception("could not store the declaration of %s", self._sock.connection_id)

    def stop(self) -> None:
        """The socket is gone. A pending write still runs (at most one, within a second),
        so the stored declaration is the last one the socket sent."""
        self._writer = None


async def serve_socket(
    p: Platform, hub: Hub, ws: ServerConnection, claims: SdkClaims, secret: str
) -> None:
    sock = LiveSocket(
        ws=ws,
        org_id=claims.org_id,
        connection_id=claims.sdk_connection_id,
        secret=secret,
        jti=claims.jti,
    )
    hub.add(sock)
    registrar = Registrar(p, hub, sock)
    reason = "closed"
    last_seen_write = 0.0
    try:
        # A revocation published between the handshake's check and hub.add missed this
        # socket: check once more now that a later one cannot miss it.
        if not await secret_is_current(p, sock):
            reason = "revoked during the handshake"
            await ws.close(CLOSE_REVOKED, "connection revoked")
            return
        await ws.send(frames.welcome(str(claims.org_id), str(claims.sdk_connection_id)))
        while True:
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=p.settings.ws_idle_timeout)
            except TimeoutError:
                reason = "idle"
                sock.closing = True
                await ws.close(CLOSE_IDLE, "idle timeout")
                break
            sock.last_seen = time.time()
            if time.monotonic() - last_seen_write > limits.LAST_SEEN_WRITE_S:
                last_seen_write = time.monotonic()
                spawn(
                    tool_service.touch_connection(
                        p, org_id=sock.org_id, connection_id=sock.connection_id
                    )
                )
            if isinstance(raw, bytes):
                reason = "binary frame"
                log.warning("binary frame from connection %s: closing", sock.connection_id)
                sock.closing = True
                await ws.close(CLOSE_UNSUPPORTED, "binary frames are not supported")
                break
            if not await _handle(p, hub, sock, registrar, raw):
                reason = "register flood"
                sock.closing = True
                await ws.close(CLOSE_POLICY, "too many tool_register frames")
                break
    except ConnectionClosed as exc:
        reason = f"connection closed ({exc.rcvd.code if exc.rcvd else 'no close frame'})"
    finally:
        registrar.stop()
        hub.remove(sock, reason)
        await p.channel.presence_changed()


async def secret_is_current(p: Platform, sock: LiveSocket) -> bool:
    return await sdk_connections.secret_is_current(
        p, connection_id=sock.connection_id, org_id=sock.org_id, jti=sock.jti
    )


async def _handle(p: Platform, hub: Hub, sock: LiveSocket, registrar: Registrar, raw: str) -> bool:
    """Handle one text frame; False means the socket must be closed (flood)."""
    frame = frames.parse(raw)
    if isinstance(frame, frames.BadFrame):
        log.warning("dropped a frame from connection %s: %s", sock.connection_id, frame.reason)
    elif isinstance(frame, api.SdkToolResultFrame):
        if len(raw.encode()) > limits.MAX_RESULT_BYTES:
            outcome = CallOutcome(
                "failed", error=f"the result exceeds {limits.MAX_RESULT_BYTES} bytes"
            )
        else:
            outcome = CallOutcome("succeeded", result=frame.result)
        hub.complete(sock, frame.call_id, outcome)
    elif isinstance(frame, api.SdkToolErrorFrame):
        hub.complete(sock, frame.call_id, CallOutcome("failed", error=frame.error[:4096]))
    elif isinstance(frame, api.SdkHeartbeatFrame):
        sock.health = {k: v.model_dump(mode="json") for k, v in (frame.tools_health or {}).items()}
        await sock.ws.send(frames.heartbeat_ack())
    elif isinstance(frame, api.SdkToolRegisterFrame):
        if registrar.flooding():
            return False
        await registrar.accept(frame)
    return True
