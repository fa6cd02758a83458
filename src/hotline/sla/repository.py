"""The queries of the clocks' configuration: policies and the calendar's years in the
database, and the open tickets whose clocks guessed a year."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import String, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.sla.models import CalendarYear, Policy
from hotline.ticket.models import Ticket


async def policies(session: AsyncSession) -> Sequence[Policy]:
    """Every policy, retired ones too, by clock."""
    return (await session.scalars(select(Policy).order_by(Policy.clock, Policy.id))).all()


async def active_policies(session: AsyncSession) -> Sequence[Policy]:
    return (await session.scalars(select(Policy).where(Policy.active))).all()


async def policy(session: AsyncSession, policy_id: int) -> Policy | None:
    return await session.get(Policy, policy_id)


async def years(session: AsyncSession) -> Sequence[CalendarYear]:
    return (await session.scalars(select(CalendarYear))).all()


async def year(session: AsyncSession, number: int, *, locked: bool = False) -> CalendarYear | None:
    return await session.get(CalendarYear, number, with_for_update=locked)


async def guessing(session: AsyncSession, number: int) -> list[Ticket]:
    """The open tickets whose clocks guessed the year ``number``, locked, by id. The text match
    may find more (a number inside another); the caller keeps those that guessed it."""
    rows = await session.scalars(
        select(Ticket)
        .where(
            Ticket.status != "closed",
            cast(Ticket.calendar_unknown_years, String).like(f"%{number}%"),
        )
        .order_by(Ticket.id)
        .with_for_update()
    )
    return list(rows)
