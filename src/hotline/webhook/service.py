"""Subscriptions: create, change, drop, and retry a delivery. Every change of a subscription
bumps the ``webhooks`` generation, so every process's outbox sees it at once (db.config_state).
A URL must reach a public address unless ``allow_private_targets`` (webhook.targets)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.db import config_state
from hotline.db.session import unit_of_work
from hotline.errors import Conflict, NotFound, found
from hotline.webhook import delivery, outbox, repository, signing, targets
from hotline.webhook.models import Delivery, Webhook
from hotline.webhook.schemas import WebhookCreate, WebhookUpdate


async def get(session: AsyncSession, webhook_id: int) -> Webhook:
    return found(
        await repository.webhook(session, webhook_id),
        f"没有编号为 {webhook_id} 的 Webhook",
        en=f"No webhook {webhook_id}",
    )


async def check_target(url: str, *, allow_private_targets: bool) -> None:
    """Raises RefusedTarget for a URL whose host does not resolve or reaches an inside
    address (webhook.targets). Before a subscription is made or its URL changed, outside any
    transaction: the resolver may take seconds."""
    if not allow_private_targets:
        await targets.resolve(httpx.URL(url))


async def create(
    session: AsyncSession, data: WebhookCreate, *, now: datetime
) -> tuple[Webhook, str]:
    """The subscription and its secret (shown once); its URL passed ``check_target``."""
    secret = signing.new_secret()
    webhook = Webhook(
        url=str(data.url),
        event_types=data.event_types,
        secret=secret,
        description=data.description,
        active=True,
        created_at=now,
        updated_at=now,
    )
    return await config_state.added(session, webhook, "webhooks"), secret


async def update(
    session: AsyncSession,
    webhook_id: int,
    data: WebhookUpdate,
    *,
    now: datetime,
) -> Webhook:
    """Raises NotFound; a new URL passed ``check_target``."""
    webhook = await get(session, webhook_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True, mode="json")
    if changes.get("active"):
        changes.update(disabled_reason=None, failing_since=None)
    return await config_state.changed(session, webhook, changes, "webhooks", now=now)


async def drop(session: AsyncSession, webhook_id: int) -> None:
    """Unsubscribe; pending deliveries are dropped with it."""
    await repository.drop(session, await get(session, webhook_id))
    await config_state.bump(session, "webhooks")


async def retry(
    session: AsyncSession, webhook_id: int, delivery_id: int, *, now: datetime
) -> Delivery:
    """Send a delivery again now, a dead one too (with a new day of attempts)."""
    found = await repository.delivery_of(session, webhook_id, delivery_id, lock=True)
    if found is None:
        raise NotFound(
            f"Webhook {webhook_id} 没有编号为 {delivery_id} 的推送",
            en=f"No delivery {delivery_id} of webhook {webhook_id}",
        )
    if found.status == "delivered":
        raise Conflict("已推送成功", en="Already delivered")
    found.status = "pending"
    found.next_attempt_at = now
    found.created_at = now
    return found


async def ping(
    maker: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    webhook_id: int,
    *,
    now: datetime,
    answer_within: float,
    allow_private_targets: bool,
) -> Delivery:
    """Queue a ``webhook.ping`` and deliver it at once; the delivery as it went (a target
    refused now is a failed delivery). Its own units of work: the post happens between them,
    outside any transaction."""
    async with unit_of_work(maker) as session:
        webhook = await get(session, webhook_id)
        if not webhook.active:
            raise Conflict(
                f"Webhook {webhook_id} 已停用：{webhook.disabled_reason}",
                en=f"Webhook {webhook_id} is disabled: {webhook.disabled_reason}",
            )
        queued = outbox.add(
            session,
            webhook.id,
            "webhook.ping",
            outbox.message("webhook.ping", {"webhook_id": webhook.id}, now),
            now,
        )
        await session.flush()
        delivery_id = queued.id
    await delivery.deliver_due(
        maker,
        http,
        now=now,
        only=delivery_id,
        answer_within=answer_within,
        allow_private_targets=allow_private_targets,
    )
    async with unit_of_work(maker, read_only=True) as session:
        found = await repository.delivery(session, delivery_id)
        assert found is not None  # delivered rows are kept
        return found
