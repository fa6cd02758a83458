"""Ticket queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from hotline.ticket.models import Category, IdempotencyRecord, Ticket, TicketEvent
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


async def category(session: AsyncSession, code: str) -> Category | None:
    return await session.get(Category, code)


async def categories(session: AsyncSession) -> Sequence[Category]:
    rows = await session.scalars(
        select(Category).where(Category.active).order_by(Category.group_name, Category.code)
    )
    return rows.all()


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
