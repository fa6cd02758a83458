"""Intake's statements: the replay reads, and the writes of a new ticket in SQLAlchemy Core."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, literal, select, true, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.caller import repository as callers
from hotline.db import config_state
from hotline.ticket.models import IdempotencyRecord, Ticket, TicketEvent


async def by_external_id(session: AsyncSession, external_id: str) -> Ticket | None:
    return await session.scalar(select(Ticket).where(Ticket.external_id == external_id))


async def idempotency_record(
    session: AsyncSession, api_key_id: int, key: str
) -> IdempotencyRecord | None:
    return await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key
        )
    )


# Intake writes in SQLAlchemy Core, with statements built and compiled once: one statement per
# table and no ORM unit of work to run (docs/performance.md). The ticket's number is finished by
# the database (the trigger ticket_number appends the id to the day in ``number``) to the value
# intake.make.ticket_number() gives.
_TICKET: Any = Ticket.__table__
_WRITTEN = tuple(c.key for c in _TICKET.columns if c.key not in ("id", "possible_repeat_of_id"))
_EVENT: Any = TicketEvent.__table__
_EVENT_COLUMNS = tuple(c.key for c in _EVENT.columns if c.key != "id")
_IDEMPOTENCY: Any = IdempotencyRecord.__table__


def _upsert(dialect: str) -> Any:
    return pg_insert if dialect == "postgresql" else sqlite_insert


@lru_cache(maxsize=8)
def _ticket_insert(dialect: str, external_id: bool) -> Any:
    # The oldest open ticket of the same caller, category and place (DESIGN.md §5), found by
    # the INSERT itself.
    repeat = (
        select(_TICKET.c.id)
        .where(
            _TICKET.c.caller_phone_hash == bindparam("r_hash"),
            _TICKET.c.category_code == bindparam("r_category"),
            _TICKET.c.status != "closed",
            _TICKET.c.area_code.in_(bindparam("r_grids", expanding=True)),
        )
        .order_by(_TICKET.c.id)
        .limit(1)
        .scalar_subquery()
    )
    values: dict[str, Any] = {k: bindparam(k, type_=_TICKET.c[k].type) for k in _WRITTEN}
    values["possible_repeat_of_id"] = repeat
    statement = _upsert(dialect)(_TICKET).values(values)
    if external_id:
        statement = statement.on_conflict_do_nothing(index_elements=["external_id"])
    return statement.returning(
        _TICKET.c.id, _TICKET.c.possible_repeat_of_id, *config_state.scalars()
    )


async def insert_ticket(
    session: AsyncSession, ticket: Ticket, grids: Sequence[str], day: str
) -> Row[Any] | None:
    """One INSERT … RETURNING id, the repeat found and the configuration generation (to check
    the caches the ticket was made from). None when its ``external_id`` is taken (a replay:
    nothing written)."""
    params = {k: getattr(ticket, k) for k in _WRITTEN}
    params["number"] = day
    params["r_hash"] = ticket.caller_phone_hash
    params["r_category"] = ticket.category_code
    params["r_grids"] = list(grids)
    statement = _ticket_insert(session.get_bind().dialect.name, ticket.external_id is not None)
    return (await session.execute(statement, params)).first()


async def insert_events(session: AsyncSession, events: Sequence[TicketEvent]) -> None:
    """The events in one statement."""
    await session.execute(
        insert(_EVENT), [{k: getattr(e, k) for k in _EVENT_COLUMNS} for e in events]
    )


@dataclass(frozen=True)
class Claim:
    """An Idempotency-Key to record with the ticket (and the advisory lock it takes)."""

    api_key_id: int
    key: str
    request_hash: str
    lock_id: int


@lru_cache(maxsize=16)
def _everything(external_id: bool, events: int, claim: bool) -> Any:
    """PostgreSQL: the whole ticket in one statement. The ticket's INSERT, its events' and the
    key's as data-modifying CTEs, and the answer: the ticket's id, the repeat found, the key's
    row (null: another request has the key), the configuration generation, the ``pg_notify``
    of its wake-up keys (sent only if the transaction commits), and the caller's earlier
    tickets summed up (``callers.summary_query``'s ``c_`` columns: the statement does not see
    the row it inserts, so they are the tickets before this one)."""
    ticket = _ticket_insert("postgresql", external_id).cte("t")
    columns = [c for c in _EVENT_COLUMNS if c != "ticket_id"]
    rows = [
        select(ticket.c.id, *(bindparam(f"e{n}_{c}", type_=_EVENT.c[c].type) for c in columns))
        for n in range(events)
    ]
    made = pg_insert(_EVENT).from_select(["ticket_id", *columns], union_all(*rows)).cte("e")
    answer: list[Any] = [ticket.c.id, ticket.c.possible_repeat_of_id]
    if claim:
        keys = ("api_key_id", "key", "request_hash", "created_at")
        chosen = select(
            *(bindparam(k, type_=_IDEMPOTENCY.c[k].type) for k in keys), ticket.c.id
        ).where(func.pg_try_advisory_xact_lock(bindparam("lock_id")))
        record = (
            pg_insert(_IDEMPOTENCY)
            .from_select([*keys, "ticket_id"], chosen)
            .on_conflict_do_nothing(index_elements=["api_key_id", "key"])
            .returning(_IDEMPOTENCY.c.id)
            .cte("k")
        )
        answer.append(select(record.c.id).scalar_subquery())
    else:
        answer.append(literal(None).label("k"))
    earlier = callers.summary_query(*callers.summary_parameters()).subquery("c")
    final: Any = (
        select(
            *answer,
            *config_state.scalars(),
            func.pg_notify(bindparam("channel"), bindparam("wake")).label("notified"),
            *(earlier.c[name] for name in earlier.c.keys()),
        )
        .select_from(ticket)
        .outerjoin(earlier, true())
    )
    return final.add_cte(made)


async def insert_everything(
    session: AsyncSession,
    ticket: Ticket,
    grids: Sequence[str],
    day: str,
    events: Sequence[TicketEvent],
    claim: Claim | None,
    *,
    channel: str,
    wake: str,
    now: Any,
    month_start: Any,
) -> Row[Any] | None:
    """PostgreSQL: ``_everything`` with this ticket's values. None when its ``external_id`` is
    taken (nothing written)."""
    params = {k: getattr(ticket, k) for k in _WRITTEN}
    params.update(
        number=day,
        r_hash=ticket.caller_phone_hash,
        r_category=ticket.category_code,
        r_grids=list(grids),
        channel=channel,
        wake=wake,
        c_hash=ticket.caller_phone_hash,
        c_month=month_start,
    )
    for n, event in enumerate(events):
        for c in _EVENT_COLUMNS:
            if c != "ticket_id":
                params[f"e{n}_{c}"] = getattr(event, c)
    if claim is not None:
        params.update(
            api_key_id=claim.api_key_id,
            key=claim.key,
            request_hash=claim.request_hash,
            created_at=now,
            lock_id=claim.lock_id,
        )
    statement = _everything(ticket.external_id is not None, len(events), claim is not None)
    return (await session.execute(statement, params)).first()


@lru_cache(maxsize=4)
def _claim(dialect: str) -> Any:
    columns = ("api_key_id", "key", "request_hash", "ticket_id", "created_at")
    if dialect == "postgresql":
        # The advisory lock in the same statement: a key still in flight in another
        # transaction (holding the lock) is not claimed and not waited for.
        chosen = select(*(bindparam(k, type_=_IDEMPOTENCY.c[k].type) for k in columns)).where(
            func.pg_try_advisory_xact_lock(bindparam("lock_id"))
        )
        statement: Any = pg_insert(_IDEMPOTENCY).from_select(list(columns), chosen)
    else:
        statement = sqlite_insert(_IDEMPOTENCY).values(
            {k: bindparam(k, type_=_IDEMPOTENCY.c[k].type) for k in columns}
        )
    statement = statement.on_conflict_do_nothing(index_elements=["api_key_id", "key"])
    return statement.returning(_IDEMPOTENCY.c.id)


async def claim_idempotency_key(
    session: AsyncSession, claim: Claim, *, ticket_id: int, now: Any
) -> bool:
    """Record the key for the ticket; False when another request has it (committed, or on
    PostgreSQL still in flight: the advisory lock it holds is not free)."""
    params: dict[str, Any] = {
        "api_key_id": claim.api_key_id,
        "key": claim.key,
        "request_hash": claim.request_hash,
        "ticket_id": ticket_id,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        params["lock_id"] = claim.lock_id
    found = await session.execute(_claim(dialect), params)
    return found.first() is not None
