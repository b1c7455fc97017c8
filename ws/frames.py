"""Parse SDK frames and build platform frames: pure functions, no I/O.

Every inbound frame is one JSON text message with a `type`. The answer to a
bad frame is decided here and documented in docs/sdk-protocol.md: the SDK
accepts only `welcome`, `tool_call` and `heartbeat_ack`, so the platform never
sends an error frame; it logs, and drops the frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from core import strict_json
from generated import models as api

InboundFrame = (
    api.SdkToolRegisterFrame
    | api.SdkToolResultFrame
    | api.SdkToolErrorFrame
    | api.SdkHeartbeatFrame
)

_MODELS: dict[str, type[InboundFrame]] = {
    "tool_register": api.SdkToolRegisterFrame,
    "tool_result": api.SdkToolResultFrame,
    "tool_error": api.SdkToolErrorFrame,
    "heartbeat": api.SdkHeartbeatFrame,
}


@dataclass(frozen=True, slots=True)
class BadFrame:
    """A frame that is dropped, and why (for the log; never echoes the frame)."""

    reason: str


def parse(raw: str) -> InboundFrame | BadFrame:
    try:
        data: Any = strict_json.loads(raw)
    except strict_json.NotStrictJson as exc:
        return BadFrame(f"malformed JSON: {exc}")
    if not isinstance(data, dict):
        return BadFrame("a frame must be a JSON object")
    kind = data.get("type")
    model = _MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        return BadFrame(f"unknown frame type {str(kind)[:40]!r}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "/".join(str(p) for p in first["loc"])
        return BadFrame(f"invalid {kind}: {first['msg']} at /{where}")


def dump(frame: api.WelcomeFrame | api.ToolCallFrame | api.HeartbeatAckFrame) -> str:
    return frame.model_dump_json()


def welcome(org_id: str, connection_id: str) -> str:
    return dump(
        api.WelcomeFrame(
            type="welcome",
            sdk_connection_id=connection_id,
            organization_id=org_id,
            org_id=org_id,
            entity_id=connection_id,
        )
    )


def heartbeat_ack() -> str:
    return dump(api.HeartbeatAckFrame(type="heartbeat_ack"))


def tool_call(call_id: str, tool_name: str, params: dict[str, Any]) -> str:
    return dump(
        api.ToolCallFrame(type="tool_call", call_id=call_id, tool_name=tool_name, params=params)
    )
