"""Database tables (SQLModel). Every org-scoped table carries `org_id`.

The schema itself is created and evolved by Alembic (core/migrations);
these classes describe it for queries.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint
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
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("org_id", "user_id", name="uq_memberships_org_user"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    org_id: uuid.UUID = Field(foreign_key="organizations.id", index=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    role: str = Field(sa_type=String(16))
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
