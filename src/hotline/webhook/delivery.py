"""Delivering the outbox: at least once, signed, retried with exponential backoff and jitter
for a day, then dead-lettered; an endpoint failing for a day is disabled with the reason.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` and leased (their next attempt pushed a
minute ahead) in a short transaction, then posted outside any transaction, concurrently, each
under its own timeout, so a hanging receiver stalls nobody else and several processes never
post one row at the same time.

Before each post the target is resolved and checked again (webhook.targets); redirects are
never followed. A failure is kept as the status and a short reason in our own words, never what
the target answered: that would let a subscription read whatever it was aimed at.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.config import get_settings
from hotline.db import config_state
from hotline.db.session import unit_of_work
from hotline.kit.clock import local_iso, utcnow
from hotline.webhook import repository, signing, targets

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=1)
GIVE_UP = timedelta(days=1)
BATCH = 50
REASON_LENGTH = 200
DISCARD_LIMIT = 64 * 1024  # bytes of an answer read (and dropped) to keep its connection


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


def failure(exc: httpx.HTTPError) -> str:
    """A failed post in a few words of ours: an exception's text may quote the target's bytes
    (h11 names the status line it could not parse), so only its kind is kept."""
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, ConnectionRefusedError):
                return "connection refused"
            if isinstance(cause, socket.gaierror):
                return "target host does not resolve"
            cause = cause.__cause__ or cause.__context__
        return "cannot connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "not an HTTP answer"
    if isinstance(exc, httpx.NetworkError):
        return "connection lost"
    return type(exc).__name__


async def post(
    client: httpx.AsyncClient,
    claimed: Claimed,
    now: datetime,
    answer_within: float,
    *,
    allow_private_targets: bool,
) -> Outcome:
    headers = signing.headers(claimed.secret, claimed.msg_id, int(now.timestamp()), claimed.body)
    try:
        url = httpx.URL(claimed.url)
        async with asyncio.timeout(answer_within):
            if not allow_private_targets:
                url, host = await targets.pinned(url)
                headers.update(host)
            async with client.stream(
                "POST", url, content=claimed.body, headers=headers, follow_redirects=False
            ) as response:
                status_code = response.status_code
                # The answer is never kept: read a little of it, so that the connection can
                # serve the next post, and drop the connection rather than read more.
                read = 0
                if not response.is_stream_consumed:  # one made in memory (MockTransport) is
                    async for chunk in response.aiter_raw():
                        read += len(chunk)
                        if read > DISCARD_LIMIT:
                            break
    except targets.RefusedTarget as exc:
        return Outcome(False, None, exc.detail_en)  # stored for operators: English
    except TimeoutError:
        return Outcome(False, None, f"no answer within {answer_within:g} s")
    except httpx.HTTPError as exc:
        return Outcome(False, None, failure(exc))
    except httpx.InvalidURL:
        return Outcome(False, None, "invalid URL")
    if 200 <= status_code < 300:
        return Outcome(True, status_code, None)
    return Outcome(False, status_code, f"HTTP {status_code}")


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
    delivery.last_error = outcome.error and outcome.error[:REASON_LENGTH]
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
            f"every delivery failed since {local_iso(webhook.failing_since)}; last: {outcome.error}"
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
    allow_private_targets: bool | None = None,
) -> int:
    """One batch: claim, post, settle. Returns how many rows were attempted.

    A row posted whose settling fails (the database went away) is posted again once its
    ``lease`` has run out: at least once. ``allow_private_targets`` unset: the process's
    settings say (those `hotline serve` and `hotline webhooks deliver` run with)."""
    now = now or utcnow()
    if allow_private_targets is None:
        allow_private_targets = get_settings().webhooks.allow_private_targets
    async with unit_of_work(maker) as session:
        claimed = await _claim(session, now, only, lease)
    if not claimed:
        return 0
    outcomes = await asyncio.gather(
        *(
            post(client, c, now, answer_within, allow_private_targets=allow_private_targets)
            for c in claimed
        )
    )
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
    allow_private_targets: bool | None = None,
) -> int:
    """Batches until nothing is due; returns the number of attempts."""
    total = 0
    while (
        done := await deliver_due(
            maker,
            client,
            now=now,
            answer_within=answer_within,
            lease=lease,
            allow_private_targets=allow_private_targets,
        )
    ) > 0:
        total += done
    return total
