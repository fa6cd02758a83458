"""Ticket queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, func, insert, literal, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from hotline.ticket.models import IdempotencyRecord, Summons, Ticket, TicketEvent
from hotline.ticket.schemas import TicketFilters


async def get(session: AsyncSession, ticket_id: int) -> Ticket | None:
    return await session.get(Ticket, ticket_id)


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


def _filtered(filters: TicketFilters) -> Select[Ticket]:
    query = select(Ticket)
    exact = {
        Ticket.status: filters.status,
        Ticket.kind: filters.kind,
        Ticket.category_code: filters.category,
        Ticket.line: filters.line,
        Ticket.urgency: filters.urgency,
        Ticket.grid_code: filters.grid,
    }
    for column, value in exact.items():
        if value is not None:
            query = query.where(column == value)
    if filters.created_after is not None:
        query = query.where(Ticket.created_at >= filters.created_after)
    if filters.created_before is not None:
        query = query.where(Ticket.created_at < filters.created_before)
    return query


async def page(
    session: AsyncSession,
    filters: TicketFilters,
    *,
    limit: int,
    after: tuple[datetime, int] | None,
    visible: ColumnElement[bool] | None = None,
) -> list[Ticket]:
    """Newest first, keyset-paged on (created_at, id); ``limit + 1`` rows tell if more follow.
    ``visible`` narrows to what the caller may read (ticket.visibility.scope)."""
    query = _filtered(filters)
    if visible is not None:
        query = query.where(visible)
    if after is not None:
        at, ticket_id = after
        query = query.where(
            or_(Ticket.created_at < at, and_(Ticket.created_at == at, Ticket.id < ticket_id))
        )
    query = query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit + 1)
    return list((await session.scalars(query)).all())


async def summoned(
    session: AsyncSession, ticket_id: int, staff_id: int | None, unit_code: str | None
) -> bool:
    """Whether a whistle on the ticket summoned this person or their department."""
    found = await session.scalar(
        select(Summons.id)
        .where(
            Summons.ticket_id == ticket_id,
            (Summons.staff_id == staff_id) | (Summons.unit_code == unit_code),
        )
        .limit(1)
    )
    return found is not None


async def events(session: AsyncSession, ticket_id: int) -> Sequence[TicketEvent]:
    rows = await session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    )
    return rows.all()


async def open_repeat(
    session: AsyncSession, phone_hash: str, category: str, grids: Sequence[str]
) -> int | None:
    """The oldest open ticket of the same caller, category and place, if any."""
    return await session.scalar(
        select(Ticket.id)
        .where(
            Ticket.caller_phone_hash == phone_hash,
            Ticket.category_code == category,
            Ticket.status != "closed",
            Ticket.area_code.in_(list(grids)),
        )
        .order_by(Ticket.id)
        .limit(1)
    )


# Intake writes in SQLAlchemy Core: one statement per table, no ORM unit of work to run
# (docs/performance.md). The ticket's number is finished by the database (the trigger
# ticket_number appends the id to the day in ``number``) to the value ticket_number() gives.
_WRITTEN = [c for c in Ticket.__table__.columns if c.key not in ("id", "possible_repeat_of_id")]


def _repeat_of(ticket: Ticket, grids: Sequence[str]) -> Any:
    """The oldest open ticket of the same caller, category and place (DESIGN.md §5)."""
    if ticket.caller_phone_hash is None or not grids:
        return None
    return (
        select(Ticket.id)
        .where(
            Ticket.caller_phone_hash == ticket.caller_phone_hash,
            Ticket.category_code == ticket.category_code,
            Ticket.status != "closed",
            Ticket.area_code.in_(list(grids)),
        )
        .order_by(Ticket.id)
        .limit(1)
        .scalar_subquery()
    )


async def insert_ticket(
    session: AsyncSession,
    ticket: Ticket,
    grids: Sequence[str],
    day: str,
    returning: Sequence[Any] = (),
) -> Row[Any] | None:
    """One INSERT … RETURNING id, the repeat found and ``returning`` (the configuration
    generation, to check the caches the ticket was made from). None when its ``external_id``
    is taken (a replay: nothing written)."""
    # Unset attributes are left to the columns' defaults.
    values = {c.key: v for c in _WRITTEN if (v := getattr(ticket, c.key)) is not None}
    values["number"] = day
    values["possible_repeat_of_id"] = _repeat_of(ticket, grids)
    dialect = session.get_bind().dialect.name
    upsert: Any = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = upsert(Ticket).values(values)
    if ticket.external_id is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["external_id"])
    statement = statement.returning(Ticket.id, Ticket.possible_repeat_of_id, *returning)
    return (await session.execute(statement)).first()


async def insert_events(session: AsyncSession, events: Sequence[TicketEvent]) -> None:
    """The events in one multi-row INSERT."""
    columns = [c.key for c in TicketEvent.__table__.columns if c.key != "id"]
    await session.execute(
        insert(TicketEvent).values([{k: getattr(e, k) for k in columns} for e in events])
    )


async def claim_idempotency_key(
    session: AsyncSession,
    *,
    api_key_id: int,
    key: str,
    request_hash: str,
    ticket_id: int,
    lock_id: int,
    now: Any,
) -> bool:
    """Record the key for the ticket; False when another request has it (committed, or on
    PostgreSQL still in flight: the advisory lock it holds is not free)."""
    values = {
        "api_key_id": api_key_id,
        "key": key,
        "request_hash": request_hash,
        "ticket_id": ticket_id,
        "created_at": now,
    }
    if session.get_bind().dialect.name == "postgresql":
        chosen = select(
            *(literal(v, IdempotencyRecord.__table__.c[k].type) for k, v in values.items())
        )
        statement: Any = (
            pg_insert(IdempotencyRecord)
            .from_select(list(values), chosen.where(func.pg_try_advisory_xact_lock(lock_id)))
            .on_conflict_do_nothing(index_elements=["api_key_id", "key"])
        )
    else:
        statement = sqlite_insert(IdempotencyRecord).values(values).on_conflict_do_nothing()
    found = await session.execute(statement.returning(IdempotencyRecord.id))
    return found.first() is not None
