"""The standalone socket server (websockets): handshake auth, /health, graceful shutdown."""

from __future__ import annotations

import logging
import time
from http import HTTPStatus

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from core.channel import CLOSE_GOING_AWAY
from core.platform import Platform
from core.security.tokens import SdkClaims
from core.services import sdk_connections
from ws import limits
from ws.connection import serve_socket
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
        log.info("socket server listening on %s:%s%s", host, port, SDK_PATH)

    async def stop(self) -> None:
        """Close every socket with 1001 (going away) so that SDKs reconnect elsewhere."""
        if self._server is None:
            return
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
        now = time.monotonic()
        for key in [k for k, v in self._claims.items() if now - v[0] > HANDSHAKE_LEFTOVER_S]:
            del self._claims[key]
        self._claims[id(connection)] = (now, claims, secret)
        return None

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
