"""The queries of suggestions: stored models and their active flag, the closed tickets training
reads, the rows of similar tickets, what intake suggested."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.org.models import Unit
from hotline.suggestion.models import SuggestionModel, TicketSuggestion
from hotline.ticket.models import Ticket

# Merged tickets repeat another one's text; what ended them is the other ticket.
_TRAINED_ON = (Ticket.status == "closed", Ticket.close_reason.is_distinct_from("merged"))


async def active_version(session: AsyncSession) -> int | None:
    """The active model's version: the cheap read every process makes every few seconds."""
    return await session.scalar(
        select(SuggestionModel.version).where(SuggestionModel.active.is_(True)).limit(1)
    )


async def model(session: AsyncSession, version: int) -> SuggestionModel | None:
    return await session.get(SuggestionModel, version)


async def models(session: AsyncSession) -> Sequence[Any]:
    """Every stored model without its blob, newest first."""
    rows = await session.execute(
        select(
            SuggestionModel.version,
            SuggestionModel.kind,
            SuggestionModel.trained_at,
            SuggestionModel.ticket_count,
            SuggestionModel.figures,
            SuggestionModel.active,
            func.length(SuggestionModel.blob).label("size"),
        ).order_by(SuggestionModel.version.desc())
    )
    return rows.all()


async def add(session: AsyncSession, row: SuggestionModel) -> SuggestionModel:
    session.add(row)
    await session.flush()
    return row


async def activate(session: AsyncSession, version: int, now: datetime) -> None:
    """Make ``version`` the only active model."""
    await session.execute(
        update(SuggestionModel)
        .where(SuggestionModel.active.is_(True), SuggestionModel.version != version)
        .values(active=False)
    )
    await session.execute(
        update(SuggestionModel)
        .where(SuggestionModel.version == version)
        .values(active=True, activated_at=now)
    )


async def training(
    session: AsyncSession, since: datetime | None, limit: int | None = None
) -> Sequence[Any]:
    """(id, content, final category, final owner unit) of every closed ticket (merged ones
    aside), closed at or after ``since`` if given, newest first. The owner is the ticket's unit
    as it closed: after approved returns, re-dispatches and rulings, so a first dispatch that
    was returned counts for nothing. ``limit``: only the newest that many."""
    query = select(Ticket.id, Ticket.content, Ticket.category_code, Ticket.unit_code).where(
        *_TRAINED_ON
    )
    if since is not None:
        query = query.where(Ticket.closed_at >= since)
    query = query.order_by(Ticket.closed_at.desc(), Ticket.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return (await session.execute(query)).all()


async def closed_after(session: AsyncSession, after: datetime | None) -> int:
    """How many tickets (merged ones aside) closed after ``after`` (all when None)."""
    query = select(func.count()).select_from(Ticket).where(*_TRAINED_ON)
    if after is not None:
        query = query.where(Ticket.closed_at > after)
    return int(await session.scalar(query) or 0)


async def similar_rows(session: AsyncSession, ids: Sequence[int]) -> Sequence[Any]:
    """What the similar list shows of these tickets while they are still closed, and the
    callers whose names its excerpt must not show."""
    if not ids:
        return []
    rows = await session.execute(
        select(
            Ticket.id,
            Ticket.number,
            Ticket.category_code,
            Ticket.unit_code,
            Ticket.close_reason,
            Ticket.reply,
            Ticket.caller_name,
            Ticket.caller_phone,
            Ticket.extra_callers,
        ).where(Ticket.id.in_(ids), Ticket.status == "closed")
    )
    return rows.all()


async def unit_names(session: AsyncSession, codes: Sequence[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = await session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes)))
    return {code: name for code, name in rows.all()}


async def record(session: AsyncSession, row: TicketSuggestion) -> None:
    session.add(row)
    await session.flush()


async def of_ticket(session: AsyncSession, ticket_id: int) -> TicketSuggestion | None:
    return await session.get(TicketSuggestion, ticket_id)


async def last_trained_at(session: AsyncSession) -> datetime | None:
    """When any process last stored a model."""
    return await session.scalar(select(func.max(SuggestionModel.trained_at)))
