"""The signed `__platos` envelope of every tool call (documented for customers in
docs/sdk-protocol.md, so that an SDK backend can verify what it is asked to run).

signature = hex(HMAC-SHA256(PLATOS_SECRET, f"{timestamp}.{nonce}.{body}")), where body is
the canonical JSON of {"method": "tools/call", "params": {"name": ..., "arguments": ...}}:
keys sorted, separators "," and ":", UTF-8 (non-ASCII characters not escaped).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from typing import Any


def canonical_body(tool_name: str, arguments: dict[str, Any]) -> str:
    return json.dumps(
        {"method": "tools/call", "params": {"name": tool_name, "arguments": arguments}},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def sign(secret: str, timestamp: str, nonce: str, body: str) -> str:
    message = f"{timestamp}.{nonce}.{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def envelope(
    secret: str,
    *,
    org_id: str,
    entity_id: str,
    user_id: str,
    call_id: str,
    tool_name: str,
    arguments: dict[str, Any],
) -> dict[str, str]:
    """The `__platos` member for one call, signed with the socket's secret."""
    timestamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    nonce = secrets.token_hex(16)
    return {
        "organizationId": org_id,
        "entityId": entity_id,
        "userId": user_id,
        "callId": call_id,
        # Concepts that do not exist yet on this platform; the SDK requires the keys.
        "projectId": "",
        "environmentId": "",
        "agentId": "",
        "threadId": "",
        "timestamp": timestamp,
        "nonce": nonce,
        "signature": sign(secret, timestamp, nonce, canonical_body(tool_name, arguments)),
    }
