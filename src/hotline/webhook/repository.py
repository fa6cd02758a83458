"""Webhook queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.webhook.models import Delivery, Webhook


async def webhook(session: AsyncSession, webhook_id: int) -> Webhook | None:
    return await session.get(Webhook, webhook_id)


async def webhooks(session: AsyncSession) -> Sequence[Webhook]:
    return (await session.scalars(select(Webhook).order_by(Webhook.id))).all()


async def subscribers(session: AsyncSession) -> list[tuple[int, set[str]]]:
    rows = await session.execute(select(Webhook.id, Webhook.event_types).where(Webhook.active))
    return [(wid, set(types)) for wid, types in rows]


async def deliveries(
    session: AsyncSession, webhook_id: int, status: str | None, limit: int
) -> Sequence[Delivery]:
    query = select(Delivery).where(Delivery.webhook_id == webhook_id)
    if status:
        query = query.where(Delivery.status == status)
    return (await session.scalars(query.order_by(Delivery.id.desc()).limit(limit))).all()


async def delivery_of(
    session: AsyncSession, webhook_id: int, delivery_id: int, *, lock: bool = False
) -> Delivery | None:
    found = await session.get(Delivery, delivery_id, with_for_update=lock)
    return found if found is not None and found.webhook_id == webhook_id else None


async def drop(session: AsyncSession, webhook: Webhook) -> None:
    await session.execute(delete(Delivery).where(Delivery.webhook_id == webhook.id))
    await session.delete(webhook)


async def due(
    session: AsyncSession, now: datetime, *, only: int | None, limit: int
) -> Sequence[Any]:
    """(delivery, webhook) of pending deliveries due by ``now`` to active webhooks, the
    longest due first, locked and skipping those another deliverer holds (``only``: that one)."""
    query = (
        select(Delivery, Webhook)
        .join(Webhook, Webhook.id == Delivery.webhook_id)
        .where(Delivery.status == "pending", Delivery.next_attempt_at <= now, Webhook.active)
        .order_by(Delivery.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Delivery)
    )
    if only is not None:
        query = query.where(Delivery.id == only)
    return (await session.execute(query)).all()


async def delivery(
    session: AsyncSession, delivery_id: int, *, lock: bool = False
) -> Delivery | None:
    return await session.get(Delivery, delivery_id, with_for_update=lock)


async def locked_webhook(session: AsyncSession, webhook_id: int) -> Webhook | None:
    return await session.get(Webhook, webhook_id, with_for_update=True)
