"""Caller queries: by ``caller_phone_hash`` (indexed), never by the phone itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from hotline.ticket.models import Ticket


def _tally(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    # A sum over every row of the caller, evaluated before the LIMIT.
    return func.sum(case((condition, 1), else_=0)).over()


def summary_query(phone_hash: Any, month_start: Any, *, before_id: Any = None) -> Select[Any]:
    """The caller's newest ticket and, as window sums over all their tickets, how many are open
    and how many were created since ``month_start``: one row, or none when the caller has no
    ticket. Arguments are values or bound parameters (intake puts the query inside its own
    statement); ``before_id``: only the tickets older than that one."""
    query = select(
        Ticket.id.label("c_id"),
        Ticket.number.label("c_number"),
        Ticket.created_at.label("c_created_at"),
        Ticket.status.label("c_status"),
        Ticket.category_code.label("c_category"),
        _tally(Ticket.status != "closed").label("c_open"),
        _tally(Ticket.created_at >= month_start).label("c_this_month"),
    ).where(Ticket.caller_phone_hash == phone_hash)
    if before_id is not None:
        query = query.where(Ticket.id < before_id)
    return query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(1)


def summary_parameters() -> tuple[Any, Any]:
    """The bound parameters ``summary_query`` takes when it is part of a larger statement."""
    return bindparam("c_hash"), bindparam("c_month", type_=Ticket.created_at.type)


async def summary(
    session: AsyncSession, phone_hash: str, *, month_start: datetime, before_id: int | None = None
) -> Row[Any] | None:
    """``summary_query`` run alone."""
    query = summary_query(phone_hash, month_start, before_id=before_id)
    return (await session.execute(query)).first()
