"""The queries of escalation: the ladders' rungs, and the tickets the confirmation group
decides on with their history."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.escalation.models import LadderRung
from hotline.ticket.models import Ticket, TicketEvent


async def rungs(session: AsyncSession) -> Sequence[LadderRung]:
    """Every rung of every ladder, by track and level."""
    rows = await session.scalars(select(LadderRung).order_by(LadderRung.track, LadderRung.level))
    return rows.all()


async def in_arbitration(session: AsyncSession, limit: int) -> list[Ticket]:
    """Tickets waiting for the confirmation group, the longest waiting first."""
    rows = await session.scalars(
        select(Ticket)
        .where(Ticket.status == "arbitration")
        .order_by(Ticket.updated_at)
        .limit(limit)
    )
    return list(rows)


async def history(
    session: AsyncSession, ticket_ids: Collection[int], actions: Collection[str]
) -> Sequence[TicketEvent]:
    """These tickets' events of these actions, oldest first."""
    rows = await session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.action.in_(actions))
        .order_by(TicketEvent.id)
    )
    return rows.all()
