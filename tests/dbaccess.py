"""Direct access to a test server's database, for state the API cannot build (or time
that cannot pass) in a test."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from tests.live import LiveServer


def _uuid(server: LiveServer, value: str | uuid.UUID) -> str | uuid.UUID:
    # SQLAlchemy stores UUIDs on SQLite as 32 hex characters without dashes.
    value = uuid.UUID(str(value))
    return value.hex if server.backend == "sqlite" else value


def _time(server: LiveServer, value: datetime) -> Any:
    # ...and times as naive UTC text.
    if server.backend == "sqlite":
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def add_membership(server: LiveServer, *, org_id: str, user_id: str, role: str) -> None:
    with server.db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO memberships (id, org_id, user_id, role, created_at)"
                " VALUES (:id, :org, :user, :role, :ts)"
            ),
            {
                "id": _uuid(server, uuid.uuid4()),
                "org": _uuid(server, org_id),
                "user": _uuid(server, user_id),
                "role": role,
                "ts": _time(server, datetime.now(UTC)),
            },
        )


def set_timestamp(
    server: LiveServer, *, table: str, column: str, row_id: str, value: datetime
) -> None:
    """Move a stored time (an expiry, say) as if time had passed."""
    with server.db.begin() as conn:
        conn.execute(
            text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
            {"value": _time(server, value), "id": _uuid(server, row_id)},
        )


def insert_running_call(
    server: LiveServer,
    *,
    call_id: uuid.UUID,
    org_id: str,
    connection_id: str,
    created_at: datetime,
) -> None:
    with server.db.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO tool_calls (id, org_id, sdk_connection_id, tool_name, status,"
                " invoked_by_type, invoked_by_id, created_at) VALUES"
                " (:id, :org, :conn, 'add', 'running', 'user', :by, :ts)"
            ),
            {
                "id": _uuid(server, call_id),
                "org": _uuid(server, org_id),
                "conn": _uuid(server, connection_id),
                "by": _uuid(server, uuid.uuid4()),
                "ts": _time(server, created_at),
            },
        )
