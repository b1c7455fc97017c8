"""Accounts and server-side sessions: register, login, refresh, logout, me.

A session is one row in `auth_sessions`. Access tokens name it (`sid`), so
revoking the row stops its tokens at the next request. Refresh tokens rotate:
only the newest may be spent, and spending an older one revokes the session.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from core.clock import utcnow
from core.errors import (
    EmailTaken,
    Forbidden,
    InvalidCredentials,
    InvalidInvitation,
    Unauthenticated,
)
from core.platform import Platform
from core.principal import ROLES, Principal, Role
from core.security.opaque import digest
from core.security.tokens import TokenInvalid
from core.services import audit
from core.services.names import clean_name
from core.services.views import org_view, session_view, user_view
from core.tables import AuthSession, Membership, Organization, User
from generated import models as api

REVOKED_LOGOUT = "logout"
REVOKED_REFRESH_REUSE = "refresh_reuse"


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def authenticate_access_token(
    p: Platform, token: str, *, client_ip: str | None = None
) -> Principal | None:
    """The hot path of every user request: verify the JWT, then one indexed read that
    proves the session is alive and the membership still active. None if not."""
    try:
        claims = p.tokens.verify_access(token)
    except TokenInvalid:
        return None
    role = await p.credentials.session_role(
        session_id=claims.session_id, user_id=claims.user_id, org_id=claims.org_id, now=utcnow()
    )
    if role not in ROLES:
        return None
    return Principal(
        org_id=claims.org_id,
        kind="user",
        actor_id=claims.user_id,
        role=cast(Role, role),
        session_id=claims.session_id,
        client_ip=client_ip,
    )


async def _open_session(
    p: Platform, db: AsyncSession, *, user: User, org: Organization
) -> api.AuthResult:
    """Create a session row and return it with its first token pair."""
    now = utcnow()
    session = AuthSession(
        user_id=user.id,
        org_id=org.id,
        refresh_jti=uuid.uuid4().hex,
        created_at=now,
        expires_at=now + timedelta(seconds=p.settings.refresh_token_ttl),
    )
    db.add(session)
    await db.flush()
    return _result(p, user, org, session)


def _result(p: Platform, user: User, org: Organization, session: AuthSession) -> api.AuthResult:
    access = p.tokens.issue_access(
        user_id=session.user_id, org_id=session.org_id, session_id=session.id
    )
    refresh = p.tokens.issue_refresh(
        user_id=session.user_id,
        session_id=session.id,
        jti=session.refresh_jti,
        expires_at=session.expires_at,
    )
    return api.AuthResult(
        user=user_view(user),
        organization=org_view(org),
        access_token=access,
        refresh_token=refresh,
        token_type="bearer",  # noqa: S106 (the OAuth token type, not a secret)
        expires_in=p.tokens.access_ttl,
    )


async def _claim_invitation(db: AsyncSession, *, token: str, email: str) -> Membership:
    """The pending invitation this token opens, for this email; anything else is refused."""
    stmt = select(Membership).where(
        Membership.invite_token_hash == digest(token), Membership.status == "pending"
    )
    member = (await db.exec(stmt)).scalar_one_or_none()
    if (
        member is None
        or member.invite_expires_at is None
        or member.invite_expires_at <= utcnow()
        or member.invite_email != email
    ):
        raise InvalidInvitation("The invitation is unknown, used, expired, or for another email.")
    return member


async def register(
    p: Platform, db: AsyncSession, *, body: api.RegisterRequest, client_ip: str
) -> api.AuthResult:
    """Create a user, and either a new org they own or the membership they were invited to."""
    email = body.email.root  # the spec's pattern admits no white space
    await p.auth_limiter.hit("register", client_ip=client_ip, email=email)
    normalized = normalize_email(email)
    taken = await db.exec(select(User.id).where(User.email_normalized == normalized))
    if taken.first() is not None:
        raise EmailTaken("An account with this email already exists.")
    invitation = None
    if body.invite_token is not None:
        invitation = await _claim_invitation(db, token=body.invite_token.root, email=normalized)
    password_hash = await p.passwords.hash(body.password.root)
    user = User(
        email=email,
        email_normalized=normalized,
        name=clean_name(body.name.root),
        password_hash=password_hash,
    )
    db.add(user)
    try:
        await db.flush()
    except IntegrityError as exc:  # a concurrent register of the same email won the race
        raise EmailTaken("An account with this email already exists.") from exc
    if invitation is not None:
        org = await db.get(Organization, invitation.org_id)
        assert org is not None
        invitation.user_id = user.id
        invitation.status = "active"
        invitation.invite_token_hash = None  # one use only
        db.add(invitation)
        action, target = "auth.registered_by_invitation", ("member", invitation.id)
    else:
        assert body.organization_name is not None
        org = Organization(name=clean_name(body.organization_name.root), settings={})
        db.add(org)
        await db.flush()
        db.add(Membership(org_id=org.id, user_id=user.id, role="owner"))
        action, target = "auth.registered", ("user", user.id)
    await audit.record(
        db, action=action, org_id=org.id, actor_id=user.id, client_ip=client_ip, target=target
    )
    return await _open_session(p, db, user=user, org=org)


async def login(
    p: Platform, db: AsyncSession, *, body: api.LoginRequest, client_ip: str
) -> api.AuthResult:
    """Check the password and open a session in the requested (or first) org."""
    await p.auth_limiter.hit("login", client_ip=client_ip, email=body.email)
    user = (
        await db.exec(select(User).where(User.email_normalized == normalize_email(body.email)))
    ).scalar_one_or_none()
    ok = await p.passwords.verify(user.password_hash if user else None, body.password)
    if user is None or not ok:
        org_id = None
        if user is not None:  # file the failure under the org the login was aimed at
            try:
                org_id = (await _pick_org(db, user_id=user.id, wanted=body.organization_id)).id
            except Forbidden:
                org_id = None
        await audit.record(
            db,
            action="auth.login_failed",
            org_id=org_id,
            client_ip=client_ip,
            target=("user", user.id) if user else None,
        )
        await db.commit()  # the event must outlive the error raised below
        raise InvalidCredentials()
    org = await _pick_org(db, user_id=user.id, wanted=body.organization_id)
    result = await _open_session(p, db, user=user, org=org)
    await audit.record(
        db,
        action="auth.login_succeeded",
        org_id=org.id,
        actor_id=user.id,
        client_ip=client_ip,
        target=("user", user.id),
    )
    return result


async def _pick_org(
    db: AsyncSession, *, user_id: uuid.UUID, wanted: uuid.UUID | None
) -> Organization:
    """The org asked for if the user is an active member, else the user's oldest membership."""
    stmt = (
        select(Organization)
        .join(Membership, Membership.org_id == Organization.id)
        .where(Membership.user_id == user_id, Membership.status == "active")
    )
    if wanted is not None:
        org = (await db.exec(stmt.where(Organization.id == wanted))).scalar_one_or_none()
        if org is not None:
            return org
    org = (await db.exec(stmt.order_by(Membership.created_at).limit(1))).scalar_one_or_none()
    if org is None:
        raise Forbidden("This account is not a member of any organization.")
    return org


async def refresh(p: Platform, db: AsyncSession, *, token: str, client_ip: str) -> api.AuthResult:
    """Rotate the refresh token; a spent token revokes its whole session."""
    try:
        claims = p.tokens.verify_refresh(token)
    except TokenInvalid as exc:
        raise Unauthenticated("The refresh token is invalid or expired.") from exc
    now = utcnow()
    # Compare-and-swap on the current jti: of two concurrent refreshes, one wins.
    rotated = await db.exec(
        update(AuthSession)
        .where(
            AuthSession.id == claims.session_id,
            AuthSession.user_id == claims.user_id,
            AuthSession.refresh_jti == claims.jti,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
        )
        .values(refresh_jti=uuid.uuid4().hex, refreshed_at=now)
    )
    if rotated.rowcount != 1:
        session = await db.get(AuthSession, claims.session_id)
        if await revoke_session(db, session_id=claims.session_id, reason=REVOKED_REFRESH_REUSE):
            await audit.record(
                db,
                action="auth.refresh_reuse_detected",
                org_id=session.org_id if session else None,
                actor_id=claims.user_id,
                client_ip=client_ip,
                target=("session", claims.session_id),
            )
        await db.commit()  # the revocation must outlive the error raised below
        raise Unauthenticated("The refresh token is invalid, spent or revoked.")
    session = await db.get(AuthSession, claims.session_id, populate_existing=True)
    assert session is not None
    user = await db.get(User, claims.user_id)
    org = await db.get(Organization, session.org_id)
    active = await db.exec(
        select(Membership.id).where(
            Membership.user_id == claims.user_id,
            Membership.org_id == session.org_id,
            Membership.status == "active",
        )
    )
    if user is None or org is None or active.first() is None:
        raise Unauthenticated("The session is no longer valid.")
    return _result(p, user, org, session)


async def revoke_session(db: AsyncSession, *, session_id: uuid.UUID, reason: str) -> bool:
    """Mark a session revoked; its access and refresh tokens die at once. True if it was live."""
    result = await db.exec(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    return result.rowcount == 1


async def logout(db: AsyncSession, *, principal: Principal) -> None:
    """Revoke the caller's current session."""
    assert principal.session_id is not None
    await revoke_session(db, session_id=principal.session_id, reason=REVOKED_LOGOUT)
    await audit.record(
        db,
        action="auth.logout",
        org_id=principal.org_id,
        principal=principal,
        target=("session", principal.session_id),
    )


async def me(db: AsyncSession, *, principal: Principal) -> api.Me:
    """The caller's user, org, role and session."""
    user = await db.get(User, principal.user_id)
    org = await db.get(Organization, principal.org_id)
    session = await db.get(AuthSession, principal.session_id)
    if user is None or org is None or session is None or principal.role is None:
        raise Unauthenticated("The session is no longer valid.")
    return api.Me(
        user=user_view(user),
        organization=org_view(org),
        role=api.Role(principal.role),
        session=session_view(session),
    )
