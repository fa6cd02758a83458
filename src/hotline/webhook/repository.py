"""Webhook queries."""

from __future__ import annotations

from collections.abc import Sequence

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
