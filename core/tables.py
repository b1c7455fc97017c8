"""Database tables (SQLModel). Every org-scoped table carries `org_id`.

The schema itself is created and evolved by Alembic (core/migrations);
these classes describe it for queries.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from core.clock import UTCDateTime, utcnow


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, **kw)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(sa_type=String(254))
    # Lower-cased email: the unique key, so that Ada@x.com and ada@x.com are one account.
    email_normalized: str = Field(sa_type=String(254), unique=True, index=True)
    name: str = Field(sa_type=String(200))
    password_hash: str = Field(sa_type=String(255))
    created_at: datetime = _ts()


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(sa_type=String(200))
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Membership(SQLModel, table=True):
    """A user's role in an org, or (status `pending`, no user yet) an invitation to one."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("org_id", "user_id", name="uq_memberships_org_user"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True, ondelete="CASCADE")
    user_id: uuid.UUID | None = Field(
        default=None, foreign_key="users.id", index=True, ondelete="CASCADE"
    )
    role: str = Field(sa_type=String(16))
    status: str = Field(default="active", sa_type=String(16))
    # Invitations: the invited address (lower-cased), the token's SHA-256 and its expiry.
    invite_email: str | None = Field(default=None, sa_type=String(254))
    invite_token_hash: str | None = Field(default=None, sa_type=String(64), unique=True, index=True)
    invite_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    invited_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = _ts()


class AuthSession(SQLModel, table=True):
    """A login: the family of one refresh-token chain and the access tokens it issued.

    `refresh_jti` is the id of the only refresh token that may be spent next;
    presenting any older one of the family revokes the whole session.
    """

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_user_org", "user_id", "org_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    user_id: uuid.UUID = Field(foreign_key="users.id", ondelete="CASCADE")
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE")
    refresh_jti: str = Field(sa_type=String(64))
    created_at: datetime = _ts()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    refreshed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_reason: str | None = Field(default=None, sa_type=String(32))


class ApiKey(SQLModel, table=True):
    """An org API key. Only the SHA-256 of the key is kept (it has 256 bits of entropy)."""

    __tablename__ = "api_keys"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True, ondelete="CASCADE")
    name: str = Field(sa_type=String(200))
    prefix: str = Field(sa_type=String(32))
    key_hash: str = Field(sa_type=String(64), unique=True, index=True)
    created_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = _ts()
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SdkConnection(SQLModel, table=True):
    """An SDK connection: the identity behind one PLATOS_SECRET.

    The secret is a signed JWT; only its `jti` is kept, so that rotation (a new
    jti) and revocation kill the old secret at once.
    """

    __tablename__ = "sdk_connections"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True, ondelete="CASCADE")
    name: str = Field(sa_type=String(200))
    secret_jti: str = Field(sa_type=String(64))
    created_by: uuid.UUID | None = Field(default=None)
    created_at: datetime = _ts()
    rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEvent(SQLModel, table=True):
    """A security event. Never holds a secret; `org_id` is null when no org is known."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_org_created", "org_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID | None = Field(
        default=None, foreign_key="organizations.id", ondelete="CASCADE"
    )
    action: str = Field(sa_type=String(64))
    actor_type: str = Field(sa_type=String(16))
    actor_id: uuid.UUID | None = Field(default=None)
    target_type: str | None = Field(default=None, sa_type=String(32))
    target_id: str | None = Field(default=None, sa_type=String(64))
    client_ip: str | None = Field(default=None, sa_type=String(64))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts()


class ToolDeclaration(SQLModel, table=True):
    """The newest declaration of one tool by one SDK connection (last registration wins)."""

    __tablename__ = "tools"
    __table_args__ = (
        UniqueConstraint("sdk_connection_id", "name", name="uq_tools_connection_name"),
        Index("ix_tools_org_name", "org_id", "name"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE")
    sdk_connection_id: uuid.UUID = Field(foreign_key="sdk_connections.id", ondelete="CASCADE")
    name: str = Field(sa_type=String(64))
    description: str = Field(default="", sa_type=Text)
    input_schema: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    output_schema: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    auth: str = Field(default="none", sa_type=String(8))
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    annotations: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    registered_at: datetime = _ts()


class ToolCallRecord(SQLModel, table=True):
    """One invocation: who asked, which connection ran it, how it ended. Neither the
    arguments nor the result are kept (they may hold customers' data)."""

    __tablename__ = "tool_calls"
    __table_args__ = (Index("ix_tool_calls_org_created", "org_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", ondelete="CASCADE")
    sdk_connection_id: uuid.UUID = Field(foreign_key="sdk_connections.id", ondelete="CASCADE")
    tool_name: str = Field(sa_type=String(64))
    status: str = Field(default="running", sa_type=String(16))
    latency_ms: int | None = Field(default=None)
    error: str | None = Field(default=None, sa_type=Text)
    invoked_by_type: str = Field(sa_type=String(16))
    invoked_by_id: uuid.UUID
    created_at: datetime = _ts()
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
