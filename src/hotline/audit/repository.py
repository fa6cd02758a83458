"""The queries of the record of personal-data reads."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.audit.models import PiiRead


async def latest(session: AsyncSession, limit: int) -> Sequence[PiiRead]:
    """The newest reads first."""
    rows = await session.scalars(select(PiiRead).order_by(PiiRead.id.desc()).limit(limit))
    return rows.all()
