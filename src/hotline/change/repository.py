"""The statements of the change pipeline: the counter, departures, the notification."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.change.models import ChangeCounter, Departure


async def advance(session: AsyncSession, count: int) -> int:
    """Move the counter on by ``count`` (its row locked until commit); the last number taken."""
    result = await session.execute(
        update(ChangeCounter)
        .where(ChangeCounter.id == 1)
        .values(value=ChangeCounter.value + count)
        .returning(ChangeCounter.value)
    )
    return int(result.scalar_one())


async def counter(session: AsyncSession) -> int | None:
    """The last change number handed out, None before the first."""
    value = await session.scalar(select(ChangeCounter.value))
    return int(value) if value is not None else None


async def add_departures(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Rows of ``ticket_departure``: ticket_id, key, change_seq."""
    await session.execute(insert(Departure), rows)


async def notify(session: AsyncSession, channel: str, payload: str) -> None:
    """PostgreSQL's NOTIFY, delivered at commit (and not at all on rollback)."""
    await session.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
    )
