"""Per-request credential lookups: one indexed read each, through `DirectSQL`.

Every authenticated request (and every SDK handshake) runs exactly one of these.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from core.direct_sql import DirectSQL, sqlite_time, sqlite_uuid

_SESSION_ROLE = """
SELECT m.role FROM auth_sessions AS s
JOIN memberships AS m ON m.user_id = s.user_id AND m.org_id = s.org_id AND m.status = 'active'
WHERE s.id = :sid AND s.user_id = :uid AND s.org_id = :oid AND s.revoked_at IS NULL
  AND s.expires_at > :now
"""
_API_KEY = """
SELECT id, org_id, last_used_at FROM api_keys
WHERE key_hash = :key_hash AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > :now)
"""
_SDK_CONNECTION = """
SELECT name FROM sdk_connections
WHERE id = :cid AND org_id = :oid AND secret_jti = :jti AND revoked_at IS NULL
"""


@dataclass(frozen=True, slots=True)
class LiveApiKey:
    id: uuid.UUID
    org_id: uuid.UUID
    last_used_at: datetime | None


class CredentialCheck:
    def __init__(self, sql: DirectSQL) -> None:
        self._sql = sql

    async def session_role(
        self, *, session_id: uuid.UUID, user_id: uuid.UUID, org_id: uuid.UUID, now: datetime
    ) -> str | None:
        """The caller's role if the session is live and the membership active, else None."""
        row = await self._sql.first(
            _SESSION_ROLE, {"sid": session_id, "uid": user_id, "oid": org_id, "now": now}
        )
        return str(row[0]) if row else None

    async def api_key(self, *, key_hash: str, now: datetime) -> LiveApiKey | None:
        """The live (not revoked, not expired) key with this hash, if any."""
        row = await self._sql.first(_API_KEY, {"key_hash": key_hash, "now": now})
        if row is None:
            return None
        key_id, org_id, last_used = row
        return LiveApiKey(sqlite_uuid(key_id), sqlite_uuid(org_id), sqlite_time(last_used))

    async def sdk_connection_live(
        self, *, connection_id: uuid.UUID, org_id: uuid.UUID, jti: str
    ) -> bool:
        """True if the connection exists, is not revoked, and `jti` is its current secret."""
        row = await self._sql.first(
            _SDK_CONNECTION, {"cid": connection_id, "oid": org_id, "jti": jti}
        )
        return row is not None
