"""Intake: a new ticket in few statements, with idempotency after the IETF ``Idempotency-Key``
draft and Stripe.

- The same key from the same API key with the same body returns the first ticket.
- The same key with a different body is a 422.
- The same key while the first request is still running is a 409: per process by an in-memory
  set, across processes on PostgreSQL by a transaction-scoped advisory try-lock taken in the
  statement that records the key. (On SQLite a retry waits for the writer's turn instead, in
  this process or another, and then replays.)
- A repeated ``external_id`` (the provincial platform's number) returns the ticket it made.

The key, its request hash and the ticket are written in one transaction, so a crash leaves
either all of them or none, and a retry after a restart replays.

Statements (PostgreSQL, an idempotent routed ticket): one, whose data-modifying CTEs INSERT the
ticket (finding the repeat it repeats), its events and its key (taking the advisory lock), and
whose answer carries the configuration generation and the ``pg_notify`` of the change; and the
outbox when someone subscribes. (SQLite: a change number, then a statement per table.) The API
key, category, policies, routing state and subscriptions come from the process's caches, which
that generation checks: if any moved meanwhile, the transaction is rolled back and the ticket
made again from fresh caches (and a key revoked meanwhile is refused). A key already recorded
rolls the transaction back too, and the first ticket is replayed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.auth.roles import Role
from hotline.auth.service import Keys, Principal
from hotline.caller import service as callers
from hotline.caller.schemas import CallerSummary
from hotline.change import notify, pipeline
from hotline.db import config_state
from hotline.db.session import unit_of_work
from hotline.errors import Conflict, Forbidden, NotFound, Unprocessable
from hotline.intake import make, repository
from hotline.kit.clock import county_zone
from hotline.org.categories import Categories
from hotline.routing.state import RoutingCache
from hotline.sla import deadlines
from hotline.sla.calendars import CalendarCache
from hotline.sla.policies import Policies
from hotline.suggestion import service as suggestion_service
from hotline.suggestion.service import Suggester
from hotline.ticket import repository as ticket_repository
from hotline.ticket.models import Ticket
from hotline.ticket.schemas import TicketCreate
from hotline.webhook import outbox

_in_flight: set[tuple[int, str]] = set()
# Configuration changes racing one intake: give up after this many fresh starts.
ATTEMPTS = 4


@dataclass(frozen=True)
class IntakeResult:
    ticket: Ticket
    replayed: bool
    principal: Principal
    # The caller's tickets before this one, read in intake's own transaction; None: no phone.
    earlier: CallerSummary | None


@dataclass(frozen=True)
class Caches:
    """What intake reads without a statement, as of the generation this process last saw."""

    watch: config_state.Watch
    keys: Keys
    categories: Categories
    routing: RoutingCache
    policies: Policies
    subscribers: outbox.Subscribers
    calendars: CalendarCache
    suggestions: Suggester

    @classmethod
    def of(cls, state: Any) -> Caches:
        """The caches the app keeps in its state (app.create_app)."""
        return cls(
            watch=state.config,
            keys=state.keys,
            categories=state.categories,
            routing=state.routing,
            policies=state.policies,
            subscribers=state.subscribers,
            calendars=state.calendars,
            suggestions=state.suggestions,
        )


class _Stale(Exception):
    """The configuration moved while the ticket was being made from the caches."""


class _Taken(Exception):
    """The Idempotency-Key (``by_key``) or the external_id is another request's: nothing was
    written."""

    def __init__(self, *, by_key: bool) -> None:
        self.by_key = by_key


def request_hash(data: TicketCreate) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lock_id(*parts: object) -> int:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


IN_FLIGHT = "使用此 Idempotency-Key 的请求仍在处理中，请稍后重试"
IN_FLIGHT_EN = "A request with this Idempotency-Key is still in flight; retry later"


@asynccontextmanager
async def _exclusive(principal: Principal, key: str | None) -> AsyncIterator[None]:
    slot = (principal.key_id, key or "")
    if key is not None and slot in _in_flight:
        raise Conflict(IN_FLIGHT, en=IN_FLIGHT_EN)
    if key is not None:
        _in_flight.add(slot)
    try:
        yield
    finally:
        if key is not None:
            _in_flight.discard(slot)


async def intake(
    maker: async_sessionmaker[AsyncSession],
    caches: Caches,
    data: TicketCreate,
    presented: str,
    *,
    idempotency_key: str | None,
    phone_key: bytes,
    now: datetime,
) -> IntakeResult:
    """Create a ticket, or return the one an earlier identical request created. ``presented``
    is the caller's API key (an agent's), checked against the same generation as the rest."""
    digest = request_hash(data) if idempotency_key is not None else ""
    for _ in range(ATTEMPTS):
        try:
            async with unit_of_work(maker) as session:
                seen = caches.watch.seen or await caches.watch.read(session)
                principal = await caches.keys.principal(session, presented, seen.keys)
                if principal.role is not Role.agent:
                    raise Forbidden("只有话务员可以登记工单", en="Only an agent creates tickets")
                async with _exclusive(principal, idempotency_key):
                    made, earlier = await _write(
                        session,
                        caches,
                        seen,
                        data,
                        principal,
                        idempotency_key,
                        digest,
                        phone_key,
                        now,
                    )
            return IntakeResult(made, replayed=False, principal=principal, earlier=earlier)
        except _Stale:
            continue
        except _Taken as taken:
            key = idempotency_key if taken.by_key else None
            return await _replay(maker, caches, data, presented, key, digest)
    raise Conflict(
        "登记工单时配置一直在变化，请重试",
        en="The configuration kept changing while the ticket was made; retry",
    )


async def _write(
    session: AsyncSession,
    caches: Caches,
    seen: config_state.Generation,
    data: TicketCreate,
    principal: Principal,
    idempotency_key: str | None,
    digest: str,
    phone_key: bytes,
    now: datetime,
) -> tuple[Ticket, CallerSummary | None]:
    deadlines.use(session, await caches.policies.current(session, seen.policies))
    outbox.use(session, await caches.subscribers.current(session, seen.webhooks))
    suggested = None
    if data.category is None:  # the category comes from the suggestion (docs/routing.md)
        suggested = await caches.suggestions.for_intake(session, data.content)
        data = make.with_suggestion(data, suggested)
    category = await caches.categories.get(session, data.category, seen.categories)
    if (category is None or not category.active) and await caches.watch.read(session) != seen:
        # Refused by caches older than the catalogue (a category added or reactivated since):
        # made again from fresh ones.
        raise _Stale
    made = await make.make_ticket(
        session,
        data,
        principal,
        category=category,
        state=await caches.routing.current(session, seen.org),
        phone_key=phone_key,
        calendar=await caches.calendars.current(session, seen.calendar),
        now=now,
        suggested=suggested,
    )
    ticket = made.ticket
    day = f"{now.astimezone(county_zone()):%Y%m%d}"
    claim = (
        repository.Claim(
            principal.key_id,
            idempotency_key,
            digest,
            _lock_id("idem", principal.key_id, idempotency_key),
        )
        if idempotency_key is not None
        else None
    )
    writing = _Writing(session, caches, seen, made, day, claim, now)
    earlier = await (_write_postgres if pipeline.postgres(session) else _write_sqlite)(writing)
    if suggested is not None:
        await suggestion_service.record(session, ticket.id, suggested, now)
    for event in made.events:
        pipeline.event(session, ticket, event)
    return ticket, (earlier if ticket.caller_phone_hash is not None else None)


def _check(caches: Caches, seen: config_state.Generation, values: Sequence[Any]) -> None:
    """The generation the statement read against the one the caches were used as of."""
    now_seen = config_state.Generation(*(int(v) for v in values))
    if now_seen != seen:
        caches.watch.seen = now_seen
        raise _Stale


@dataclass(frozen=True)
class _Writing:
    """A made ticket on its way into the database, and what its statements need."""

    session: AsyncSession
    caches: Caches
    seen: config_state.Generation
    made: make.Made
    day: str
    claim: repository.Claim | None
    now: datetime

    def written(self, row: Any) -> tuple[Any, ...]:
        """The ticket's INSERT answered ``row`` (None: its external id was taken): the id,
        the possible repeat's and the number go on the ticket and its events."""
        if row is None:
            raise _Taken(by_key=False)
        values: tuple[Any, ...] = tuple(row)
        ticket = self.made.ticket
        ticket.id, ticket.possible_repeat_of_id = values[0], values[1]
        ticket.number = make.ticket_number(ticket.id, self.now)
        for event in self.made.events:
            event.ticket_id = ticket.id
        return values


async def _write_postgres(w: _Writing) -> CallerSummary:
    """One statement: the ticket, its events, its key, its wake-up and the caller's earlier
    tickets (repository)."""
    session, ticket = w.session, w.made.ticket
    ticket.change_seq = pipeline.PENDING
    keys = ticket.change_keys()
    row = await repository.insert_everything(
        session,
        ticket,
        w.made.neighbourhood,
        w.day,
        w.made.events,
        w.claim,
        channel=notify.CHANNEL,
        wake=",".join(sorted(keys)),
        now=w.now,
        month_start=callers.month_start(w.now),
    )
    values = w.written(row)
    _check(w.caches, w.seen, values[3 : 3 + len(config_state.COLUMNS)])
    if w.claim is not None and values[2] is None:
        raise _Taken(by_key=True)
    pipeline.added(session, keys, notified=True)
    return callers.summary_of(row)


async def _write_sqlite(w: _Writing) -> CallerSummary | None:
    """A statement per table, the change number taken first (one writer at a time), and the
    caller's earlier tickets."""
    session, ticket = w.session, w.made.ticket
    ticket.change_seq = (await pipeline.take(session))[0]
    row = await repository.insert_ticket(session, ticket, w.made.neighbourhood, w.day)
    _check(w.caches, w.seen, w.written(row)[2:])
    await repository.insert_events(session, w.made.events)
    if w.claim is not None and not await repository.claim_idempotency_key(
        session, w.claim, ticket_id=ticket.id, now=w.now
    ):
        raise _Taken(by_key=True)
    pipeline.added(session, ticket.change_keys())
    return await callers.before(session, ticket)


async def _replay(
    maker: async_sessionmaker[AsyncSession],
    caches: Caches,
    data: TicketCreate,
    presented: str,
    idempotency_key: str | None,
    digest: str,
) -> IntakeResult:
    """The first ticket of this Idempotency-Key or external_id; 422 for the key with another
    body, 409 while the first request is still in flight."""
    async with unit_of_work(maker, read_only=True) as session:
        seen = await caches.watch.read(session)
        principal = await caches.keys.principal(session, presented, seen.keys)
        if idempotency_key is not None:
            record = await repository.idempotency_record(session, principal.key_id, idempotency_key)
            if record is None:
                raise Conflict(IN_FLIGHT, en=IN_FLIGHT_EN)
            if record.request_hash != digest:
                raise Unprocessable(
                    "此 Idempotency-Key 已用于内容不同的请求",
                    en="This Idempotency-Key was used with a different body",
                    field="Idempotency-Key",
                )
            ticket = (
                await ticket_repository.get(session, record.ticket_id) if record.ticket_id else None
            )
        else:
            assert data.external_id is not None
            ticket = await repository.by_external_id(session, data.external_id)
        if ticket is None:
            raise NotFound(
                "此请求登记的工单已不存在", en="The ticket this request created no longer exists"
            )
        earlier = await callers.before(session, ticket)
        return IntakeResult(ticket, replayed=True, principal=principal, earlier=earlier)
