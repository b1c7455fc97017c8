"""Table rows to the spec's generated response models."""

from __future__ import annotations

from core.tables import AuthSession, Organization, User
from generated import models as api


def user_view(user: User) -> api.User:
    return api.User(id=user.id, email=user.email, name=user.name, created_at=user.created_at)


def org_view(org: Organization) -> api.Organization:
    return api.Organization(
        id=org.id,
        name=org.name,
        settings=api.OrganizationSettings(org.settings or {}),
        created_at=org.created_at,
        updated_at=org.updated_at,
    )


def session_view(session: AuthSession) -> api.SessionInfo:
    return api.SessionInfo(
        id=session.id, created_at=session.created_at, expires_at=session.expires_at
    )
