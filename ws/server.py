"""The standalone socket server (websockets): handshake auth, /health, graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from http import HTTPStatus

from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from core.background import spawn
from core.channel import CLOSE_GOING_AWAY, CLOSE_REVOKED
from core.platform import Platform
from core.security.tokens import SdkClaims
from core.services import sdk_connections
from ws import limits
from ws.connection import secret_is_current, serve_socket
from ws.hub import Hub

log = logging.getLogger("platos.ws")
SDK_PATH = "/ws/sdk"
HANDSHAKE_LEFTOVER_S = 60.0


def _plain(connection: ServerConnection, status: HTTPStatus, body: str) -> Response:
    response = connection.respond(status, body + "\n")
    # respond() already set a Content-Type: replace it rather than add a second one.
    del response.headers["Content-Type"]
    response.headers["Content-Type"] = "application/json" if body.startswith("{") else "text/plain"
    return response


class SocketServer:
    def __init__(self, p: Platform, process_id: str) -> None:
        self._p = p
        self.hub = Hub(process_id)
        self._server: Server | None = None
        # Handshake results, kept from process_request to the handler. A handshake that
        # fails after process_request never reaches the handler: such entries are pruned.
        self._claims: dict[int, tuple[float, SdkClaims, str]] = {}
        # A client reconnecting in a loop costs a handshake each time: bounded per connection.
        self._handshakes = MovingWindowRateLimiter(MemoryStorage())
        self._handshake_limit = parse(limits.HANDSHAKES_PER_CONNECTION)
        self._recheck: asyncio.Task[None] | None = None
        p.channel.attach(self.hub)

    async def start(self, host: str, port: int) -> None:
        self._server = await serve(
            self._handler,
            host,
            port,
            process_request=self._process_request,
            max_size=limits.MAX_FRAME_BYTES,
            ping_interval=limits.PING_INTERVAL_S,
            ping_timeout=limits.PING_TIMEOUT_S,
            compression=None,
            server_header=None,
        )
        self._recheck = spawn(self._recheck_secrets())
        log.info("socket server listening on %s:%s%s", host, port, SDK_PATH)

    async def stop(self) -> None:
        """Close every socket with 1001 (going away) so that SDKs reconnect elsewhere."""
        if self._server is None:
            return
        if self._recheck is not None:
            self._recheck.cancel()
        await self.hub.close_all(CLOSE_GOING_AWAY, "server shutting down")
        self._server.close(close_connections=True)
        await self._server.wait_closed()

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == "/health":
            return _plain(connection, HTTPStatus.OK, '{"status": "ok"}')
        if path != SDK_PATH:
            return _plain(connection, HTTPStatus.NOT_FOUND, "not found")
        secret = _bearer(request.headers)
        claims = await sdk_connections.authenticate_secret(self._p, secret) if secret else None
        if claims is None:
            # Never upgraded, so never welcomed: missing, forged, revoked or rotated secrets,
            # user tokens and API keys all end here.
            return _plain(connection, HTTPStatus.UNAUTHORIZED, "a valid PLATOS_SECRET is required")
        assert secret is not None
        cid = claims.sdk_connection_id
        if (
            not await self._handshakes.hit(self._handshake_limit, str(cid))
            or self.hub.count(cid) >= limits.MAX_SOCKETS_PER_CONNECTION
        ):
            return _plain(connection, HTTPStatus.TOO_MANY_REQUESTS, "too many sockets or attempts")
        now = time.monotonic()
        for key in [k for k, v in self._claims.items() if now - v[0] > HANDSHAKE_LEFTOVER_S]:
            del self._claims[key]
        self._claims[id(connection)] = (now, claims, secret)
        return None

    async def _recheck_secrets(self) -> None:
        """Close sockets whose secret was revoked or rotated away. Revocation closes them at
        once through the channel; this catches a socket server that missed that message
        (cut off from Redis at the time, say)."""
        while True:
            await asyncio.sleep(self._p.settings.ws_secret_recheck)
            try:
                verdicts: dict[tuple[uuid.UUID, str], bool] = {}
                dead = []
                for sock in self.hub.live():
                    key = (sock.connection_id, sock.jti)
                    if key not in verdicts:
                        verdicts[key] = await secret_is_current(self._p, sock)
                    if not verdicts[key]:
                        dead.append(sock)
                if dead:
                    await self.hub.close_sockets(dead, CLOSE_REVOKED, "connection revoked")
            except Exception:
                log.exception("could not re-check the live sockets' secrets")

    async def _handler(self, connection: ServerConnection) -> None:
        _, claims, secret = self._claims.pop(id(connection))
        await serve_socket(self._p, self.hub, connection, claims, secret)


def _bearer(headers: Headers) -> str | None:
    values = headers.get_all("Authorization")
    if len(values) != 1:
        return None
    scheme, _, token = values[0].partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 4096:
        return None
    return token.strip()
