"""Caller history (来电弹屏): a caller's earlier tickets, newest first, with how many are open
and how many came this month. Found through the keyed phone hash (kit.phone.keyed_hash) on
the main caller only: the callers of tickets merged into another are kept in its JSON
``extra_callers`` without a hash, and are not found."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Principal
from hotline.caller import repository
from hotline.caller.schemas import CallerHistory, CallerSummary, LastTicket
from hotline.kit import cursor as cursors
from hotline.kit import phone as phones
from hotline.kit.clock import county_zone
from hotline.ticket import repository as ticket_repository
from hotline.ticket.models import Ticket
from hotline.ticket.schemas import TicketFilters
from hotline.ticket.visibility import present

CURSOR_KIND = "callers"


def stored_form(phone: str) -> str:
    """The phone as intake stores (and hashes) it: normalised, or as given when it is not a
    Chinese number (Open311's callers)."""
    return phones.as_given(phone)


def month_start(at: datetime) -> datetime:
    """The first instant of ``at``'s calendar month in the county's zone."""
    local = at.astimezone(county_zone())
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def summary_of(row: Any) -> CallerSummary:
    """The summary from a row of ``repository.summary_query`` (its ``c_`` columns; a null
    ``c_id``: the caller has no ticket), alone or inside intake's statement."""
    if row is None or row.c_id is None:
        return CallerSummary(open=0, this_month=0, last_ticket=None)
    last = LastTicket(
        id=row.c_id,
        number=row.c_number,
        created_at=row.c_created_at,
        status=row.c_status,
        category=row.c_category,
    )
    return CallerSummary(open=int(row.c_open), this_month=int(row.c_this_month), last_ticket=last)


async def summary(
    session: AsyncSession, phone_hash: str, *, now: datetime, before_id: int | None = None
) -> CallerSummary:
    row = await repository.summary(
        session, phone_hash, month_start=month_start(now), before_id=before_id
    )
    return summary_of(row)


async def history(
    session: AsyncSession,
    principal: Principal,
    phone: str,
    phone_hash: str,
    *,
    limit: int,
    after: tuple[datetime, int] | None,
    now: datetime,
) -> CallerHistory:
    """A page of the caller's tickets as ``principal`` may see them (the endpoint admits only
    the call-takers, who see every caller, confidential ones too) and the summary of all of
    them. Reads only; the caller records the read (audit)."""
    counts = await summary(session, phone_hash, now=now)
    rows = await ticket_repository.page(
        session,
        TicketFilters(),
        limit=limit,
        after=after,
        visible=Ticket.caller_phone_hash == phone_hash,
    )
    kept, next_cursor = cursors.page(
        rows, limit, kind=CURSOR_KIND, key=lambda t: [t.created_at.isoformat(), t.id]
    )
    return CallerHistory(
        phone=phone,
        open=counts.open,
        this_month=counts.this_month,
        last_ticket=counts.last_ticket,
        items=[present(principal, t) for t in kept],
        next_cursor=next_cursor,
    )


async def before(session: AsyncSession, ticket: Ticket) -> CallerSummary | None:
    """The summary of the tickets of ``ticket``'s caller older than it (this month: the month it
    was created in); None when the ticket has no phone. Intake on PostgreSQL has it from its own
    statement instead (intake.repository)."""
    if ticket.caller_phone_hash is None:
        return None
    hashed = ticket.caller_phone_hash
    return await summary(session, hashed, now=ticket.created_at, before_id=ticket.id)
