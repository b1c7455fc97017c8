"""The organization resource: read and update the caller's own org."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from core.clock import utcnow
from core.errors import NotFound
from core.permissions import require_admin
from core.principal import Principal
from core.services.names import clean_name
from core.services.views import org_view
from core.tables import Organization
from generated import models as api


async def load(db: AsyncSession, *, principal: Principal) -> Organization:
    """The caller's organization row (the only one it may see)."""
    org = await db.get(Organization, principal.org_id)
    if org is None:
        raise NotFound("The organization no longer exists.")
    return org


async def get(db: AsyncSession, *, principal: Principal) -> api.Organization:
    """The caller's organization."""
    return org_view(await load(db, principal=principal))


async def update(
    db: AsyncSession, *, principal: Principal, patch: api.OrganizationUpdate
) -> api.Organization:
    """Rename the org or replace its settings; owners and admins only."""
    require_admin(principal, "update the organization")
    org = await load(db, principal=principal)
    if patch.name is not None:
        org.name = clean_name(patch.name.root)
    if patch.settings is not None:
        org.settings = patch.settings.root
    org.updated_at = utcnow()
    db.add(org)
    await db.flush()
    return org_view(org)
