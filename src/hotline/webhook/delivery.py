"""Delivering the outbox: at least once, signed, retried with exponential backoff and jitter
for a day, then dead-lettered; an endpoint failing for a day is disabled with the reason.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` and leased (their next attempt pushed a
minute ahead) in a short transaction, then posted outside any transaction, concurrently, each
under its own timeout, so a hanging receiver stalls nobody else and several processes never
post one row at the same time.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.db import config_state
from hotline.db.session import unit_of_work
from hotline.kit.clock import local_iso, utcnow
from hotline.webhook import repository, signing

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=1)
GIVE_UP = timedelta(days=1)
BATCH = 50


@dataclass(frozen=True)
class Claimed:
    id: int
    msg_id: str
    body: bytes
    url: str
    secret: str


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    error: str | None


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s … capped at an hour, each ×0.5–1.5 so retries do not stampede."""
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 3600) * random.uniform(0.5, 1.5))


async def post(
    client: httpx.AsyncClient, claimed: Claimed, now: datetime, answer_within: float
) -> Outcome:
    headers = signing.headers(claimed.secret, claimed.msg_id, int(now.timestamp()), claimed.body)
    try:
        response = await asyncio.wait_for(
            client.post(claimed.url, content=claimed.body, headers=headers), answer_within
        )
    except TimeoutError:
        return Outcome(False, None, f"no answer within {answer_within:g} s")
    except httpx.HTTPError as exc:
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= response.status_code < 300:
        return Outcome(True, response.status_code, None)
    return Outcome(False, response.status_code, response.text[:500])


async def _claim(
    session: AsyncSession, now: datetime, only: int | None, lease: timedelta
) -> list[Claimed]:
    claimed = []
    for delivery, webhook in await repository.due(session, now, only=only, limit=BATCH):
        delivery.next_attempt_at = now + lease
        body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
        claimed.append(Claimed(delivery.id, delivery.msg_id, body, webhook.url, webhook.secret))
    return claimed


async def _settle(session: AsyncSession, claimed: Claimed, outcome: Outcome, now: datetime) -> None:
    delivery = await repository.delivery(session, claimed.id, lock=True)
    if delivery is None:
        return
    webhook = await repository.locked_webhook(session, delivery.webhook_id)
    delivery.attempts += 1
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error
    if outcome.ok:
        delivery.status = "delivered"
        delivery.delivered_at = now
        if webhook is not None:
            webhook.failing_since = None
        return
    if now - delivery.created_at >= GIVE_UP:
        delivery.status = "dead"
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts)
    if webhook is None:
        return
    webhook.failing_since = webhook.failing_since or now
    if webhook.active and now - webhook.failing_since >= GIVE_UP:
        webhook.active = False
        webhook.disabled_reason = (
            f"every delivery failed since {local_iso(webhook.failing_since)}; "
            f"last: {outcome.status_code or ''} {outcome.error or ''}".strip()
        )
        webhook.updated_at = now
        await config_state.bump(session, "webhooks")


async def deliver_due(
    maker: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    *,
    now: datetime | None = None,
    answer_within: float = 10.0,
    only: int | None = None,
    lease: timedelta = LEASE,
) -> int:
    """One batch: claim, post, settle. Returns how many rows were attempted.

    A row posted whose settling fails (the database went away) is posted again once its
    ``lease`` has run out: at least once."""
    now = now or utcnow()
    async with unit_of_work(maker) as session:
        claimed = await _claim(session, now, only, lease)
    if not claimed:
        return 0
    outcomes = await asyncio.gather(*(post(client, c, now, answer_within) for c in claimed))
    async with unit_of_work(maker) as session:
        for c, outcome in zip(claimed, outcomes, strict=True):
            await _settle(session, c, outcome, now)
    return len(claimed)


async def drain(
    maker: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    *,
    now: datetime | None = None,
    answer_within: float = 10.0,
    lease: timedelta = LEASE,
) -> int:
    """Batches until nothing is due; returns the number of attempts."""
    total = 0
    while (
        done := await deliver_due(maker, client, now=now, answer_within=answer_within, lease=lease)
    ) > 0:
        total += done
    return total
