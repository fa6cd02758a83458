"""Statements on ``attachment``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.attachment.models import Attachment


async def get(session: AsyncSession, attachment_id: int) -> Attachment | None:
    return await session.get(Attachment, attachment_id)


async def of_ticket(session: AsyncSession, ticket_id: int) -> Sequence[Attachment]:
    rows = await session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket_id).order_by(Attachment.id)
    )
    return rows.all()


async def count(session: AsyncSession, ticket_id: int) -> int:
    found = await session.scalar(
        select(func.count()).select_from(Attachment).where(Attachment.ticket_id == ticket_id)
    )
    return int(found or 0)


async def has_stage(
    session: AsyncSession, ticket_id: int, stage: str, since: datetime | None
) -> bool:
    """Whether the ticket has a photo of ``stage`` uploaded at or after ``since`` (any: None)."""
    query = select(Attachment.id).where(
        Attachment.ticket_id == ticket_id, Attachment.stage == stage
    )
    if since is not None:
        query = query.where(Attachment.created_at >= since)
    return await session.scalar(query.limit(1)) is not None
