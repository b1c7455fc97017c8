"""Members, roles and invitations of the caller's org.

Role rules live in `core.permissions` plus two here: only owners touch the
owner role, and an org always keeps at least one active owner.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from core.clock import utcnow
from core.errors import AlreadyMember, Forbidden, LastOwner, NotFound
from core.permissions import require_admin, require_user
from core.principal import Principal
from core.security.opaque import INVITE_PREFIX, digest, new_secret
from core.services import audit
from core.services.paging import fetch_page
from core.tables import AuthSession, Membership, Organization, User
from generated import models as api

INVITE_TTL = timedelta(days=7)
REVOKED_MEMBERSHIP = "membership_changed"


def member_view(m: Membership, user: User | None, *, invite_token: str | None = None) -> api.Member:
    fields: dict[str, object] = {
        "id": m.id,
        "user_id": m.user_id,
        "email": user.email if user else (m.invite_email or ""),
        "name": user.name if user else None,
        "role": m.role,
        "status": m.status,
        "created_at": m.created_at,
    }
    if invite_token is not None:
        fields.update(invite_token=invite_token, invite_expires_at=m.invite_expires_at)
    return api.Member.model_validate(fields)


async def page(
    db: AsyncSession, *, principal: Principal, limit: int, offset: int
) -> api.MemberPage:
    """Members and pending invitations, oldest first; any member may read them."""
    require_user(principal, "list members")
    total, rows = await fetch_page(
        db,
        select(Membership, User).outerjoin(User, User.id == Membership.user_id),
        where=Membership.org_id == principal.org_id,
        order_by=(Membership.created_at, Membership.id),
        limit=limit,
        offset=offset,
    )
    items = [member_view(m, u) for m, u in rows]
    return api.MemberPage(items=items, total=total, limit=limit, offset=offset)


async def _load(db: AsyncSession, *, principal: Principal, member_id: uuid.UUID) -> Membership:
    """A membership of the caller's org; any other id is simply not found."""
    stmt = select(Membership).where(
        Membership.id == member_id, Membership.org_id == principal.org_id
    )
    member = (await db.exec(stmt)).scalar_one_or_none()
    if member is None:
        raise NotFound("No such member in this organization.")
    return member


def _guard_owner_role(principal: Principal, *, current: str | None, wanted: str | None) -> None:
    if "owner" in (current, wanted) and not principal.is_owner:
        raise Forbidden("Only owners may grant the owner role or change an owner.")


async def _lock_org(db: AsyncSession, org_id: uuid.UUID) -> None:
    """Serialise membership changes in one org, before anything is read.

    A write, not SELECT ... FOR UPDATE: the same statement takes the org's row lock on
    PostgreSQL and, on SQLite, opens the transaction with the database's write lock
    (pysqlite only begins a transaction at the first write, so reads before it would
    see a state another writer may change before ours commits)."""
    await db.exec(
        update(Organization)
        .where(Organization.id == org_id)
        .values(updated_at=Organization.updated_at)
    )


async def _ensure_an_owner_remains(db: AsyncSession, org_id: uuid.UUID) -> None:
    owners = await db.exec(
        select(func.count())
        .select_from(Membership)
        .where(
            Membership.org_id == org_id, Membership.role == "owner", Membership.status == "active"
        )
    )
    if owners.scalar_one() == 0:
        raise LastOwner("This is the last owner: promote another owner first.")


async def revoke_member_sessions(
    db: AsyncSession, *, org_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    """End every live session of `user_id` in `org_id` (role changed or membership gone)."""
    await db.exec(
        update(AuthSession)
        .where(
            AuthSession.org_id == org_id,
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow(), revoked_reason=REVOKED_MEMBERSHIP)
    )


async def invite(db: AsyncSession, *, principal: Principal, body: api.MemberInvite) -> api.Member:
    """Add an existing user at once, or create (or renew) a pending invitation."""
    require_admin(principal, "invite members")
    role = body.role.root
    await _lock_org(db, principal.org_id)  # two invitations of one address at once: one row
    email = body.email.root.lower()
    org_members = select(Membership).where(Membership.org_id == principal.org_id)
    pending_query = org_members.where(
        Membership.status == "pending", Membership.invite_email == email
    )
    pending = (await db.exec(pending_query)).scalar_one_or_none()
    # Replacing an invitation is changing it: an admin may not touch an owner's.
    _guard_owner_role(principal, current=pending.role if pending else None, wanted=role)
    user = (await db.exec(select(User).where(User.email_normalized == email))).scalar_one_or_none()
    if user is not None:
        existing = await db.exec(org_members.where(Membership.user_id == user.id))
        if existing.scalar_one_or_none() is not None:
            raise AlreadyMember("This user is already a member of the organization.")
        if pending is not None:  # superseded by the real membership
            await db.delete(pending)
        member = Membership(
            org_id=principal.org_id, user_id=user.id, role=role, invited_by=principal.actor_id
        )
        db.add(member)
        await db.flush()
        await audit.record(
            db,
            action="member.added",
            org_id=principal.org_id,
            principal=principal,
            target=("member", member.id),
            details={"role": role, "user_id": str(user.id)},
        )
        return member_view(member, user)

    token = new_secret(INVITE_PREFIX)
    member = pending or Membership(org_id=principal.org_id, status="pending", invite_email=email)
    member.role = role
    member.invite_token_hash = digest(token)
    member.invite_expires_at = utcnow() + INVITE_TTL
    member.invited_by = principal.actor_id
    db.add(member)
    await db.flush()
    await audit.record(
        db,
        action="member.invited",
        org_id=principal.org_id,
        principal=principal,
        target=("member", member.id),
        details={"role": role},
    )
    return member_view(member, None, invite_token=token)


async def change_role(
    db: AsyncSession, *, principal: Principal, member_id: uuid.UUID, body: api.RoleChange
) -> api.Member:
    """Set a member's role; their sessions in this org end at once."""
    require_admin(principal, "change roles")
    await _lock_org(db, principal.org_id)
    member = await _load(db, principal=principal, member_id=member_id)
    wanted = body.role.root
    _guard_owner_role(principal, current=member.role, wanted=wanted)
    previous = member.role
    member.role = wanted
    db.add(member)
    await db.flush()
    await _ensure_an_owner_remains(db, principal.org_id)
    if member.user_id is not None and previous != wanted:
        await revoke_member_sessions(db, org_id=principal.org_id, user_id=member.user_id)
    await audit.record(
        db,
        action="member.role_changed",
        org_id=principal.org_id,
        principal=principal,
        target=("member", member.id),
        details={"from": previous, "to": wanted},
    )
    user = await db.get(User, member.user_id) if member.user_id else None
    return member_view(member, user)


async def remove(db: AsyncSession, *, principal: Principal, member_id: uuid.UUID) -> None:
    """Remove a member or withdraw an invitation; their sessions in this org end at once."""
    require_admin(principal, "remove members")
    await _lock_org(db, principal.org_id)
    member = await _load(db, principal=principal, member_id=member_id)
    _guard_owner_role(principal, current=member.role, wanted=None)
    await db.delete(member)
    await db.flush()
    await _ensure_an_owner_remains(db, principal.org_id)
    if member.user_id is not None:
        await revoke_member_sessions(db, org_id=principal.org_id, user_id=member.user_id)
    await audit.record(
        db,
        action="member.removed",
        org_id=principal.org_id,
        principal=principal,
        target=("member", member.id),
        details={"role": member.role, "status": member.status},
    )
