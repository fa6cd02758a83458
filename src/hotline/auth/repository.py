"""The queries of API keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import column, select, table, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.models import ApiKey


async def key_with_unit_kind(session: AsyncSession, prefix: str) -> Any | None:
    """(key, its unit's kind or None) of the key with this prefix, if any."""
    # The unit's kind by name: an officer reads below their unit (ticket.visibility), and auth
    # sits below the organisation in the house.
    unit = table("unit", column("code"), column("kind"))
    rows = await session.execute(
        select(ApiKey, unit.c.kind)
        .outerjoin(unit, unit.c.code == ApiKey.unit_code)
        .where(ApiKey.prefix == prefix)
    )
    return rows.first()


async def keys(session: AsyncSession) -> Sequence[ApiKey]:
    return (await session.scalars(select(ApiKey).order_by(ApiKey.id))).all()


async def key_exists(session: AsyncSession, prefix: str) -> bool:
    return await session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)) is not None


async def revoke(session: AsyncSession, prefix: str, now: datetime) -> bool:
    """Revoke the key with this prefix; False if there is none not yet revoked."""
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
