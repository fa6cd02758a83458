"""Intake with idempotency, after the IETF ``Idempotency-Key`` draft and Stripe.

- The same key from the same API key with the same body returns the first ticket.
- The same key with a different body is a 422.
- The same key while the first request is still running is a 409: per process by an in-memory
  set, across processes on PostgreSQL by a transaction-scoped advisory try-lock. (On SQLite a
  retry waits for the writer's turn instead, in this process or another, and then replays.)
- A repeated ``external_id`` (the provincial platform's number) returns the ticket it made.

The key, its request hash and the ticket are written in one transaction, so a crash leaves
either all of them or none, and a retry after a restart replays.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Principal
from hotline.errors import Conflict, NotFound, Unprocessable
from hotline.routing.state import RoutingCache
from hotline.sla.calendar import WorkCalendar
from hotline.ticket import repository, service
from hotline.ticket.models import IdempotencyRecord, Ticket
from hotline.ticket.schemas import TicketCreate

_in_flight: set[tuple[int, str]] = set()


@dataclass(frozen=True)
class IntakeResult:
    ticket: Ticket
    replayed: bool


def request_hash(data: TicketCreate) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _lock_id(*parts: object) -> int:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@asynccontextmanager
async def _exclusive(session: AsyncSession, principal: Principal, key: str) -> AsyncIterator[None]:
    slot = (principal.key_id, key)
    if slot in _in_flight:
        raise Conflict("A request with this Idempotency-Key is still in flight; retry later")
    _in_flight.add(slot)
    try:
        if _is_postgres(session):
            got = await session.scalar(
                text("SELECT pg_try_advisory_xact_lock(:id)"),
                {"id": _lock_id("idem", principal.key_id, key)},
            )
            if not got:
                raise Conflict(
                    "A request with this Idempotency-Key is still in flight; retry later"
                )
        yield
    finally:
        _in_flight.discard(slot)


async def _serialise_external_id(session: AsyncSession, external_id: str) -> None:
    # Concurrent posts of one external_id queue here, so the later ones see the first ticket.
    if _is_postgres(session):
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:id)"), {"id": _lock_id("ext", external_id)}
        )


async def intake(
    session: AsyncSession,
    data: TicketCreate,
    principal: Principal,
    *,
    idempotency_key: str | None,
    phone_key: bytes,
    routing: RoutingCache,
    calendar: WorkCalendar,
    now: datetime,
) -> IntakeResult:
    """Create a ticket, or return the one an earlier identical request created."""
    if idempotency_key is None:
        return await _by_external_id_or_new(
            session, data, principal, phone_key, routing, calendar, now
        )
    digest = request_hash(data)
    async with _exclusive(session, principal, idempotency_key):
        record = await repository.idempotency_record(session, principal.key_id, idempotency_key)
        if record is not None:
            if record.request_hash != digest:
                raise Unprocessable(
                    "This Idempotency-Key was used with a different body", field="Idempotency-Key"
                )
            ticket = await repository.get(session, record.ticket_id) if record.ticket_id else None
            if ticket is None:
                raise NotFound("The ticket this Idempotency-Key created no longer exists")
            return IntakeResult(ticket, replayed=True)
        result = await _by_external_id_or_new(
            session, data, principal, phone_key, routing, calendar, now
        )
        session.add(
            IdempotencyRecord(
                api_key_id=principal.key_id,
                key=idempotency_key,
                request_hash=digest,
                ticket_id=result.ticket.id,
                created_at=now,
            )
        )
        return result


async def _by_external_id_or_new(
    session: AsyncSession,
    data: TicketCreate,
    principal: Principal,
    phone_key: bytes,
    routing: RoutingCache,
    calendar: WorkCalendar,
    now: datetime,
) -> IntakeResult:
    if data.external_id is not None:
        await _serialise_external_id(session, data.external_id)
        existing = await repository.by_external_id(session, data.external_id)
        if existing is not None:
            return IntakeResult(existing, replayed=True)
    ticket = await service.create_ticket(
        session,
        data,
        principal,
        phone_key=phone_key,
        routing=routing,
        calendar=calendar,
        now=now,
    )
    return IntakeResult(ticket, replayed=False)
