"""Accounts and server-side sessions: register, login, refresh, logout, me.

A session is one row in `auth_sessions`. Access tokens name it (`sid`), so
revoking the row stops its tokens at the next request. Refresh tokens rotate:
only the newest may be spent, and spending an older one revokes the session.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from core.clock import utcnow
from core.errors import EmailTaken, Forbidden, InvalidCredentials, Unauthenticated
from core.platform import Platform
from core.principal import Principal
from core.security.tokens import TokenInvalid
from core.services.names import clean_name
from core.services.views import org_view, session_view, user_view
from core.tables import AuthSession, Membership, Organization, User
from generated import models as api

REVOKED_LOGOUT = "logout"
REVOKED_REFRESH_REUSE = "refresh_reuse"
REVOKED_MEMBERSHIP = "membership_changed"


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def authenticate_access_token(p: Platform, token: str) -> Principal:
    """The hot path of every user request: verify the JWT, then one indexed lookup
    that proves the session is alive and the membership still exists."""
    try:
        claims = p.tokens.verify_access(token)
    except TokenInvalid as exc:
        raise Unauthenticated("The token is invalid, expired or revoked.") from exc
    role = await p.session_check.live_role(
        session_id=claims.session_id, user_id=claims.user_id, org_id=claims.org_id, now=utcnow()
    )
    if role is None:
        raise Unauthenticated("The token is invalid, expired or revoked.")
    return Principal(
        org_id=claims.org_id, user_id=claims.user_id, session_id=claims.session_id, role=role
    )


async def _open_session(
    p: Platform, db: AsyncSession, *, user: User, org: Organization
) -> tuple[AuthSession, str, str]:
    """Create a session row and its first token pair."""
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
    return session, *_token_pair(p, session)


def _token_pair(p: Platform, session: AuthSession) -> tuple[str, str]:
    access = p.tokens.issue_access(
        user_id=session.user_id, org_id=session.org_id, session_id=session.id
    )
    refresh = p.tokens.issue_refresh(
        user_id=session.user_id,
        session_id=session.id,
        jti=session.refresh_jti,
        expires_at=session.expires_at,
    )
    return access, refresh


def _result(
    p: Platform, user: User, org: Organization, access: str, refresh: str
) -> api.AuthResult:
    return api.AuthResult(
        user=user_view(user),
        organization=org_view(org),
        access_token=access,
        refresh_token=refresh,
        token_type="bearer",  # noqa: S106 (the OAuth token type, not a secret)
        expires_in=p.tokens.access_ttl,
    )


async def register(
    p: Platform, db: AsyncSession, *, body: api.RegisterRequest, client_ip: str
) -> api.AuthResult:
    """Create a user and a new org they own, and log them in."""
    email = body.email.root  # the spec's pattern admits no white space
    await p.auth_limiter.hit("register", client_ip=client_ip, email=email)
    normalized = normalize_email(email)
    taken = await db.exec(select(User.id).where(User.email_normalized == normalized))
    if taken.first() is not None:
        raise EmailTaken("An account with this email already exists.")
    user = User(
        email=email,
        email_normalized=normalized,
        name=clean_name(body.name.root),
        password_hash=await p.passwords.hash(body.password.root),
    )
    org = Organization(name=clean_name(body.organization_name.root), settings={})
    db.add(user)
    db.add(org)
    try:
        await db.flush()
    except IntegrityError as exc:  # a concurrent register of the same email won the race
        raise EmailTaken("An account with this email already exists.") from exc
    db.add(Membership(org_id=org.id, user_id=user.id, role="owner"))
    _, access, refresh = await _open_session(p, db, user=user, org=org)
    return _result(p, user, org, access, refresh)


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
        raise InvalidCredentials()
    org = await _pick_org(db, user_id=user.id, wanted=body.organization_id)
    _, access, refresh = await _open_session(p, db, user=user, org=org)
    return _result(p, user, org, access, refresh)


async def _pick_org(
    db: AsyncSession, *, user_id: uuid.UUID, wanted: uuid.UUID | None
) -> Organization:
    """The org asked for if the user belongs to it, else the user's oldest membership."""
    stmt = (
        select(Organization)
        .join(Membership, Membership.org_id == Organization.id)
        .where(Membership.user_id == user_id)
    )
    if wanted is not None:
        org = (await db.exec(stmt.where(Organization.id == wanted))).scalar_one_or_none()
        if org is not None:
            return org
    org = (await db.exec(stmt.order_by(Membership.created_at).limit(1))).scalar_one_or_none()
    if org is None:
        raise Forbidden("This account is not a member of any organization.")
    return org


async def refresh(p: Platform, db: AsyncSession, *, token: str) -> api.AuthResult:
    """Rotate the refresh token; a spent token revokes its whole session."""
    try:
        claims = p.tokens.verify_refresh(token)
    except TokenInvalid as exc:
        raise Unauthenticated("The refresh token is invalid or expired.") from exc
    now = utcnow()
    new_jti = uuid.uuid4().hex
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
        .values(refresh_jti=new_jti, refreshed_at=now)
    )
    if rotated.rowcount != 1:
        await revoke_session(db, session_id=claims.session_id, reason=REVOKED_REFRESH_REUSE)
        await db.commit()  # the revocation must outlive the error raised below
        raise Unauthenticated("The refresh token is invalid, spent or revoked.")
    session = await db.get(AuthSession, claims.session_id, populate_existing=True)
    user = await db.get(User, claims.user_id)
    org = await db.get(Organization, session.org_id) if session else None
    member = (
        await _membership(db, user_id=claims.user_id, org_id=session.org_id) if session else None
    )
    if session is None or user is None or org is None or member is None:
        raise Unauthenticated("The session is no longer valid.")
    access, refresh_token = _token_pair(p, session)
    return _result(p, user, org, access, refresh_token)


async def _membership(
    db: AsyncSession, *, user_id: uuid.UUID, org_id: uuid.UUID
) -> Membership | None:
    stmt = select(Membership).where(Membership.user_id == user_id, Membership.org_id == org_id)
    return (await db.exec(stmt)).scalar_one_or_none()


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
    await revoke_session(db, session_id=principal.session_id, reason=REVOKED_LOGOUT)


async def me(db: AsyncSession, *, principal: Principal) -> api.Me:
    """The caller's user, org, role and session."""
    user = await db.get(User, principal.user_id)
    org = await db.get(Organization, principal.org_id)
    session = await db.get(AuthSession, principal.session_id)
    if user is None or org is None or session is None:
        raise Unauthenticated("The session is no longer valid.")
    return api.Me(
        user=user_view(user),
        organization=org_view(org),
        role=api.Role(principal.role),
        session=session_view(session),
    )
