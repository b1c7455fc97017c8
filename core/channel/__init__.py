"""The channel between the REST API and the WebSocket server.

The API asks it which sockets are live for an org and hands it calls; the
socket server answers through it. Two implementations:

* `memory.MemoryChannel`: API and socket server in one process (`platos serve`);
  a call is a direct await on the local socket hub.
* `redis.RedisChannel`: any number of `platos api` and `platos ws` processes;
  presence, calls and results travel through Redis.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

# Close codes the socket server uses (docs/sdk-protocol.md).
CLOSE_GOING_AWAY = 1001  # graceful shutdown: reconnect elsewhere
CLOSE_UNSUPPORTED = 1003  # binary frame
CLOSE_POLICY = 1008  # register flood
CLOSE_TOO_BIG = 1009  # frame above the hard limit
CLOSE_REVOKED = 4001  # the connection was revoked or its secret rotated
CLOSE_IDLE = 4008  # nothing received for the idle limit


class CallFailed(Exception):
    """The call cannot complete: the socket dropped, or its process went away."""


class CallTimedOut(Exception):
    """No answer before the deadline."""


@dataclass(frozen=True, slots=True)
class SocketInfo:
    """A live SDK socket, as the API sees it (for routing and monitoring)."""

    process_id: str
    socket_id: str
    org_id: uuid.UUID
    connection_id: uuid.UUID
    tools: frozenset[str]
    inflight: int
    health: dict[str, Any] = field(default_factory=dict)
    last_seen: float = 0.0  # epoch seconds


@dataclass(frozen=True, slots=True)
class CallRequest:
    """What the API asks a socket to run. The socket server adds the signed envelope."""

    call_id: str
    org_id: uuid.UUID
    tool_name: str
    arguments: dict[str, Any]
    invoked_by: str  # the user's id or the API key's id: the envelope's userId
    deadline: float  # epoch seconds; a call still queued after it is not run


@dataclass(frozen=True, slots=True)
class CallOutcome:
    status: Literal["succeeded", "failed"]
    result: Any = None
    error: str | None = None


class LocalSockets(Protocol):
    """What a socket server in this process offers the channel (implemented in ws/)."""

    def sockets_for_org(self, org_id: uuid.UUID) -> list[SocketInfo]: ...

    def all_sockets(self) -> list[SocketInfo]: ...

    async def deliver(self, socket_id: str, request: CallRequest) -> CallOutcome: ...

    async def close_connection(self, connection_id: uuid.UUID, code: int, reason: str) -> None: ...


class Channel(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def attach(self, sockets: LocalSockets) -> None:
        """Called by a socket server running in this process."""

    async def live_sockets(self, org_id: uuid.UUID) -> list[SocketInfo]: ...

    async def dispatch(self, target: SocketInfo, request: CallRequest) -> CallOutcome:
        """Run `request` on `target`; raise CallTimedOut at the deadline, CallFailed if lost."""

    async def close_connection(self, connection_id: uuid.UUID, code: int, reason: str) -> None:
        """Close every live socket of a connection, wherever it is (revocation, rotation)."""

    async def presence_changed(self) -> None:
        """Called by the local socket server when its sockets or their tools changed."""
