"""The queries of Open311: the tickets a public reader may see, with their names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.org.models import Category, Unit
from hotline.ticket.models import Ticket

if TYPE_CHECKING:
    from hotline.open311.service import Filters


async def is_county(session: AsyncSession, code: str) -> bool:
    """Whether ``code`` is this county's (active) unit code."""
    found = await session.scalar(
        select(Unit.code).where(Unit.code == code, Unit.kind == "county", Unit.active.is_(True))
    )
    return found is not None


async def county_code(session: AsyncSession) -> str | None:
    """The county's unit code: the one ``jurisdiction_id`` this endpoint accepts."""
    return await session.scalar(
        select(Unit.code).where(Unit.kind == "county", Unit.active.is_(True)).limit(1)
    )


def _visible() -> Select[Ticket, str, str]:
    """Tickets with their category's and owning unit's names (the unit's is None if unowned)."""
    return (
        select(Ticket, Category.name, Unit.name)
        .join(Category, Category.code == Ticket.category_code)
        .outerjoin(Unit, Unit.code == Ticket.unit_code)
        .where(Ticket.caller_confidential.is_(False))
    )


async def requests(session: AsyncSession, filters: Filters) -> Sequence[Any]:
    """(ticket, category name, unit name) of the visible tickets matching, newest first."""
    query = _visible()
    if filters.ids is not None:
        query = query.where(Ticket.id.in_(filters.ids))
    else:
        if filters.codes is not None:
            query = query.where(Ticket.category_code.in_(filters.codes))
        if filters.start is not None:
            query = query.where(Ticket.created_at >= filters.start)
        if filters.end is not None:
            query = query.where(Ticket.created_at <= filters.end)
        if filters.closed is not None:
            closed = Ticket.status == "closed"
            query = query.where(closed if filters.closed else ~closed)
        if filters.updated_after is not None:
            query = query.where(Ticket.updated_at > filters.updated_after)
        query = query.offset(filters.offset).limit(filters.limit)
    query = query.order_by(Ticket.created_at.desc(), Ticket.id.desc())
    return (await session.execute(query)).all()


async def request(session: AsyncSession, ticket_id: int) -> Any | None:
    """(ticket, category name, unit name) of one visible ticket, if it is."""
    return (await session.execute(_visible().where(Ticket.id == ticket_id))).first()
