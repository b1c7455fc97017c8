"""Calls between separate `platos api` and `platos ws` processes, through Redis.

* Presence: every socket process writes, per org it serves, the list of its live
  sockets (`platos:presence:{org}:{process}`, TTL PRESENCE_TTL_S, refreshed every
  PRESENCE_REFRESH_S and on every change), indexed by `platos:presence-procs:{org}`,
  plus a liveness key `platos:proc:{process}` with the same TTL.
* A call: the API process pushes it on the owning process's list
  `platos:calls:{process}`; that process pops it (exactly one pop, so it never runs
  twice), runs it, and pushes the outcome on the API process's own reply list
  `platos:replies:{process}`, where one loop per API process hands each outcome to
  the call waiting for it. While waiting, the API process checks every second that
  the owner is still alive: if it vanished, the call fails then, not at its timeout.
  A call still queued after its deadline is never run.
* Revocation: a message on `platos:close-connection` makes every socket process close
  that connection's sockets (a socket server also re-checks its sockets' secrets on
  a timer, for a process that was cut off from Redis when the message went out).
* Every blocking wait (the reply loop, the call loop, the subscription) holds one
  connection for itself, whatever the number of calls in flight; the pool for the
  short commands blocks when it is exhausted instead of failing. Each loop survives
  a lost Redis connection and carries on once it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from core.background import spawn
from core.channel import (
    CallFailed,
    CallOutcome,
    CallRequest,
    CallTimedOut,
    LocalSockets,
    SocketInfo,
)
from core.process import process_id
from core.settings import Settings

log = logging.getLogger("platos.channel")

PRESENCE_TTL_S = 6
PRESENCE_REFRESH_S = 2.0
REPLY_TTL_S = 60
# A queue or index of a process that died is dropped by Redis after this long.
QUEUE_TTL_S = 600
POOL_SIZE = 64
POOL_WAIT_S = 5.0
RETRY_S = 1.0
CLOSE_TOPIC = "platos:close-connection"


def _presence_key(org_id: str, proc: str) -> str:
    return f"platos:presence:{org_id}:{proc}"


def _procs_key(org_id: str) -> str:
    return f"platos:presence-procs:{org_id}"


def _encode_socket(s: SocketInfo) -> dict[str, Any]:
    return {
        "process_id": s.process_id,
        "socket_id": s.socket_id,
        "org_id": str(s.org_id),
        "connection_id": str(s.connection_id),
        "tools": sorted(s.tools),
        "inflight": s.inflight,
        "health": s.health,
        "last_seen": s.last_seen,
    }


def _decode_socket(d: dict[str, Any]) -> SocketInfo:
    return SocketInfo(
        process_id=d["process_id"],
        socket_id=d["socket_id"],
        org_id=uuid.UUID(d["org_id"]),
        connection_id=uuid.UUID(d["connection_id"]),
        tools=frozenset(d["tools"]),
        inflight=int(d["inflight"]),
        health=d.get("health") or {},
        last_seen=float(d.get("last_seen") or 0),
    )


def _replies_key(proc: str) -> str:
    return f"platos:replies:{proc}"


async def _forever(name: str, step: Callable[[], Awaitable[None]]) -> None:
    """Run `step` again and again; a failure (Redis gone, say) is logged, then retried."""
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed; retrying in %.0f s", name, RETRY_S)
            await asyncio.sleep(RETRY_S)


class RedisChannel:
    def __init__(self, settings: Settings) -> None:
        assert settings.redis_url
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.redis_url,
            decode_responses=True,
            max_connections=POOL_SIZE,
            timeout=POOL_WAIT_S,
        )
        self._redis = aioredis.Redis(connection_pool=pool)
        self._sockets: LocalSockets | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._published_orgs: set[str] = set()
        self._changed = asyncio.Event()
        # API side: calls waiting for their outcome, and this process's calls per socket
        # (presence counts are up to PRESENCE_REFRESH_S old; these are now).
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._local_inflight: Counter[str] = Counter()
        self._reply_task: asyncio.Task[None] | None = None

    # --- lifecycle ---

    async def start(self) -> None:
        await self._redis.ping()

    def attach(self, sockets: LocalSockets) -> None:
        """This process hosts sockets: publish presence, take calls, obey revocations."""
        self._sockets = sockets
        self._tasks += [
            asyncio.create_task(self._presence_loop()),
            asyncio.create_task(_forever("the call loop", self._take_calls)),
            asyncio.create_task(_forever("the revocation subscription", self._obey_closes)),
        ]

    async def close(self) -> None:
        if self._reply_task is not None:
            self._tasks.append(self._reply_task)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._sockets is not None:
            await self._withdraw_presence()
        await self._redis.aclose()

    # --- API side ---

    async def live_sockets(self, org_id: uuid.UUID) -> list[SocketInfo]:
        org = str(org_id)
        procs = sorted(await self._redis.smembers(_procs_key(org)))
        if not procs:
            return []
        blobs = await self._redis.mget([_presence_key(org, p) for p in procs])
        found: list[SocketInfo] = []
        gone = []
        for proc, blob in zip(procs, blobs, strict=True):
            if blob is None:
                gone.append(proc)
                continue
            for d in json.loads(blob):
                s = _decode_socket(d)
                local = self._local_inflight.get(s.socket_id, 0)
                found.append(replace(s, inflight=max(s.inflight, local)))
        if gone:
            await self._redis.srem(_procs_key(org), *gone)
        return found

    async def dispatch(self, target: SocketInfo, request: CallRequest) -> CallOutcome:
        self._ensure_reply_loop()
        message = {
            "socket_id": target.socket_id,
            "call_id": request.call_id,
            "org_id": str(request.org_id),
            "tool_name": request.tool_name,
            "arguments": request.arguments,
            "invoked_by": request.invoked_by,
            "deadline": request.deadline,
            "reply_to": _replies_key(process_id()),
        }
        reply = asyncio.get_running_loop().create_future()
        self._waiting[request.call_id] = reply
        self._local_inflight[target.socket_id] += 1
        try:
            queue = f"platos:calls:{target.process_id}"
            try:
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.rpush(queue, json.dumps(message))
                    pipe.expire(queue, QUEUE_TTL_S)
                    await pipe.execute()
            except RedisError as exc:
                raise CallFailed("the call could not be handed to the socket process") from exc
            return await self._await_reply(reply, target, request)
        finally:
            self._waiting.pop(request.call_id, None)
            self._local_inflight[target.socket_id] -= 1
            if self._local_inflight[target.socket_id] <= 0:
                del self._local_inflight[target.socket_id]

    async def _await_reply(
        self, reply: asyncio.Future[dict[str, Any]], target: SocketInfo, request: CallRequest
    ) -> CallOutcome:
        while True:
            remaining = request.deadline - time.time()
            if remaining <= 0:
                raise CallTimedOut()
            done, _ = await asyncio.wait({reply}, timeout=min(1.0, remaining))
            if done:
                return _decode_outcome(reply.result())
            try:
                owner_alive = await self._redis.exists(f"platos:proc:{target.process_id}")
            except RedisError:
                continue  # Redis is away; the deadline still bounds the wait
            if not owner_alive:
                raise CallFailed("the socket process holding the SDK went away")

    def _ensure_reply_loop(self) -> None:
        if self._reply_task is None or self._reply_task.done():
            self._reply_task = asyncio.create_task(_forever("the reply loop", self._take_replies))

    async def _take_replies(self) -> None:
        """One blocking pop at a time on this process's reply list, for all its calls."""
        popped = await self._redis.blpop([_replies_key(process_id())], timeout=1)
        if popped is None:
            return
        reply = json.loads(popped[1])
        waiting = self._waiting.get(reply.get("call_id", ""))
        if waiting is None or waiting.done():
            return  # its caller gave up (timed out) already
        waiting.set_result(reply)

    async def close_connection(self, connection_id: uuid.UUID, code: int, reason: str) -> None:
        payload = {"connection_id": str(connection_id), "code": code, "reason": reason}
        await self._redis.publish(CLOSE_TOPIC, json.dumps(payload))

    # --- socket-process side ---

    async def presence_changed(self) -> None:
        self._changed.set()

    async def _publish_presence(self) -> None:
        assert self._sockets is not None
        proc = process_id()
        by_org: dict[str, list[dict[str, Any]]] = {}
        for s in self._sockets.all_sockets():
            by_org.setdefault(str(s.org_id), []).append(_encode_socket(s))
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(f"platos:proc:{proc}", "1", ex=PRESENCE_TTL_S)
            for org, sockets in by_org.items():
                pipe.set(_presence_key(org, proc), json.dumps(sockets), ex=PRESENCE_TTL_S)
                pipe.sadd(_procs_key(org), proc)
                pipe.expire(_procs_key(org), QUEUE_TTL_S)
            for org in self._published_orgs - set(by_org):
                pipe.delete(_presence_key(org, proc))
            await pipe.execute()
        self._published_orgs = set(by_org)

    async def _withdraw_presence(self) -> None:
        proc = process_id()
        with contextlib.suppress(Exception):
            keys = [_presence_key(org, proc) for org in self._published_orgs]
            await self._redis.delete(f"platos:proc:{proc}", *keys)

    async def _presence_loop(self) -> None:
        while True:
            # Cleared before publishing: a change made while we publish triggers another.
            self._changed.clear()
            try:
                await self._publish_presence()
            except Exception:
                log.exception("could not publish presence")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), PRESENCE_REFRESH_S)

    async def _take_calls(self) -> None:
        popped = await self._redis.blpop([f"platos:calls:{process_id()}"], timeout=1)
        if popped is not None:
            spawn(self._run_call(json.loads(popped[1])))

    async def _run_call(self, message: dict[str, Any]) -> None:
        assert self._sockets is not None
        request = CallRequest(
            call_id=message["call_id"],
            org_id=uuid.UUID(message["org_id"]),
            tool_name=message["tool_name"],
            arguments=message["arguments"],
            invoked_by=message["invoked_by"],
            deadline=float(message["deadline"]),
        )
        reply: dict[str, Any] = {"call_id": request.call_id}
        try:
            remaining = max(request.deadline - time.time(), 0)
            outcome = await asyncio.wait_for(
                self._sockets.deliver(message["socket_id"], request), timeout=remaining
            )
            reply |= {
                "kind": "outcome",
                "status": outcome.status,
                "result": outcome.result,
                "error": outcome.error,
            }
        except (TimeoutError, CallTimedOut):
            reply |= {"kind": "timed_out"}
        except CallFailed as exc:
            reply |= {"kind": "failed", "error": str(exc)}
        except Exception:
            log.exception("call %s failed in the socket process", request.call_id)
            reply |= {"kind": "failed", "error": "the socket process could not run the call"}
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.rpush(message["reply_to"], json.dumps(reply))
            pipe.expire(message["reply_to"], REPLY_TTL_S)
            await pipe.execute()

    async def _obey_closes(self) -> None:
        assert self._sockets is not None
        pubsub = self._redis.pubsub()
        try:
            await pubsub.subscribe(CLOSE_TOPIC)
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                data = json.loads(message["data"])
                await self._sockets.close_connection(
                    uuid.UUID(data["connection_id"]), int(data["code"]), str(data["reason"])
                )
        finally:
            await pubsub.aclose()


def _decode_outcome(reply: dict[str, Any]) -> CallOutcome:
    if reply["kind"] == "timed_out":
        raise CallTimedOut()
    if reply["kind"] == "failed":
        raise CallFailed(reply["error"])
    return CallOutcome(reply["status"], result=reply.get("result"), error=reply.get("error"))
