"""Offset pagination shared by every list endpoint: `{items, total, limit, offset}`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel.ext.asyncio.session import AsyncSession


async def fetch_page(
    db: AsyncSession,
    query: Select[Any],
    *,
    where: ColumnElement[bool],
    order_by: tuple[Any, ...],
    limit: int,
    offset: int,
) -> tuple[int, list[Any]]:
    """(total matching rows, this page's rows) for `query` filtered by `where`."""
    filtered = query.where(where)
    total = (
        await db.exec(select(func.count()).select_from(filtered.order_by(None).subquery()))
    ).scalar_one()
    rows = (await db.exec(filtered.order_by(*order_by).limit(limit).offset(offset))).all()
    return int(total), list(rows)
