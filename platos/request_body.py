"""Checks on a request body before anything buffers or parses it.

* Above the size limit: 413, read no further.
* A body with no `Content-Type` on a method that carries one (POST, PUT, PATCH): 415.
  Connexion would validate it as the operation's JSON and then hand the handler raw
  bytes. (A stray body on a GET or DELETE is ignored, as the spec gives them none.)
* A chunked body (no Content-Length) is read here, up to the limit, and handed on
  with its length set: Connexion's validators take a missing Content-Length for a
  missing body.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import DomainError, PayloadTooLarge, UnsupportedMediaType
from platos.problems import PROBLEM_JSON, problem_body

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class RequestBodyGuard:
    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._too_large(send)
            return
        has_body = chunked or (length is not None and int(length) > 0)
        if has_body and scope["method"] in BODY_METHODS and not headers.get(b"content-type"):
            await _refuse(send, UnsupportedMediaType, "A body needs a Content-Type header.")
            return
        if length is not None or not chunked:
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._too_large(send)
                return
            if not message.get("more_body", False):
                break
        await self.app(_with_length(scope, len(body)), _replay(bytes(body), receive), send)

    async def _too_large(self, send: Send) -> None:
        await _refuse(send, PayloadTooLarge, f"The body exceeds {self.max_bytes} bytes.")


async def _refuse(send: Send, kind: type[DomainError], detail: str) -> None:
    body = problem_body(kind, detail)
    await send(
        {
            "type": "http.response.start",
            "status": kind.status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _with_length(scope: Scope, length: int) -> Scope:
    headers = [(k, v) for k, v in scope["headers"] if k != b"transfer-encoding"]
    headers.append((b"content-length", str(length).encode()))
    return {**scope, "headers": headers}


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
