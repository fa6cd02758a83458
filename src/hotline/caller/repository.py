"""Caller queries: by ``caller_phone_hash`` (indexed), never by the phone itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from hotline.ticket.models import Ticket


def _tally(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    # A sum over every row of the caller, evaluated before the LIMIT.
    return func.sum(case((condition, 1), else_=0)).over()


async def summary(
    session: AsyncSession, phone_hash: str, *, month_start: datetime, before_id: int | None = None
) -> Row[Any] | None:
    """One statement: the caller's newest ticket and, as window sums over all their tickets,
    how many are open and how many were created since ``month_start``. ``before_id``: only the
    tickets older than that one. None: the caller has no ticket."""
    query = select(
        Ticket.id,
        Ticket.number,
        Ticket.created_at,
        Ticket.status,
        Ticket.category_code,
        _tally(Ticket.status != "closed"),
        _tally(Ticket.created_at >= month_start),
    ).where(Ticket.caller_phone_hash == phone_hash)
    if before_id is not None:
        query = query.where(Ticket.id < before_id)
    query = query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(1)
    return (await session.execute(query)).first()
