"""The workflow's queries: its own table (requests waiting for, or given, a decision) and what
the field polls (workflow.assignments): tickets and summons in scope, by change number."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.roles import Role
from hotline.auth.service import Principal
from hotline.change.models import ChangeCounter, Departure
from hotline.ticket import repository as ticket_repository
from hotline.ticket.models import Summons, Ticket
from hotline.workflow.models import TicketRequest


async def request_in(
    session: AsyncSession, ticket_id: int, kind: str, statuses: Collection[str]
) -> int | None:
    """The id of one of the ticket's requests of this kind in one of these states, if any."""
    return await session.scalar(
        select(TicketRequest.id)
        .where(
            TicketRequest.ticket_id == ticket_id,
            TicketRequest.kind == kind,
            TicketRequest.status.in_(tuple(statuses)),
        )
        .limit(1)
    )


async def pending_locked(session: AsyncSession, ticket_id: int, kind: str) -> TicketRequest | None:
    """The ticket's pending request of this kind, locked for its decision."""
    return await session.scalar(
        select(TicketRequest)
        .where(
            TicketRequest.ticket_id == ticket_id,
            TicketRequest.kind == kind,
            TicketRequest.status == "pending",
        )
        .with_for_update()
    )


async def pending(session: AsyncSession, kind: str, limit: int) -> Sequence[Any]:
    """(request, ticket) of the pending requests of this kind, oldest first."""
    rows = await session.execute(
        select(TicketRequest, Ticket)
        .join(Ticket, Ticket.id == TicketRequest.ticket_id)
        .where(TicketRequest.kind == kind, TicketRequest.status == "pending")
        .order_by(TicketRequest.id)
        .limit(limit)
    )
    return rows.all()


def ticket_scope(principal: Principal) -> Any:
    """A worker's grid, a member's department, an officer's unit (the tickets it owns and
    those that climbed to it), and for all three the tickets their unit co-handles."""
    unit = principal.unit_code
    co = ticket_repository.co_handled_by(unit)
    if principal.role is Role.worker:
        return or_(Ticket.grid_code == unit, co)
    owned = and_(Ticket.unit_code == unit, Ticket.grid_code.is_(None))
    if principal.role is Role.officer:
        return or_(owned, Ticket.escalation_unit_code == unit, co)
    return or_(owned, co)


def summons_scope(principal: Principal) -> Any:
    if principal.staff_id is None:
        return Summons.unit_code == principal.unit_code
    return or_(Summons.staff_id == principal.staff_id, Summons.unit_code == principal.unit_code)


async def head(session: AsyncSession) -> int:
    """The last change number handed out."""
    return int(await session.scalar(select(ChangeCounter.value).where(ChangeCounter.id == 1)) or 0)


async def assigned_tickets(
    session: AsyncSession, principal: Principal, since: int | None, limit: int
) -> Sequence[Ticket]:
    """The caller's open tickets (``since`` None), or those changed after ``since``, by change."""
    query = select(Ticket).where(ticket_scope(principal))
    if since is None:
        query = query.where(Ticket.status != "closed")
    else:
        query = query.where(Ticket.change_seq > since)
    return (await session.scalars(query.order_by(Ticket.change_seq).limit(limit))).all()


async def assigned_summons(
    session: AsyncSession, principal: Principal, since: int | None, limit: int
) -> Sequence[Any]:
    """(summons, ticket): the whistles waiting for the caller on open tickets (``since`` None),
    or the caller's summons changed after ``since``, by change."""
    query = (
        select(Summons, Ticket)
        .join(Ticket, Ticket.id == Summons.ticket_id)
        .where(summons_scope(principal))
    )
    if since is None:
        query = query.where(Summons.reported_at.is_(None), Ticket.status != "closed")
    else:
        query = query.where(Summons.change_seq > since)
    return (await session.execute(query.order_by(Summons.change_seq).limit(limit))).all()


async def departures(
    session: AsyncSession, keys: Collection[str], since: int, limit: int
) -> Sequence[Any]:
    """(ticket id, change number) of the tickets that left these scopes after ``since``."""
    rows = await session.execute(
        select(Departure.ticket_id, Departure.change_seq)
        .where(Departure.key.in_(sorted(keys)), Departure.change_seq > since)
        .order_by(Departure.change_seq)
        .limit(limit)
    )
    return rows.all()


async def tickets(session: AsyncSession, ids: Collection[int]) -> Sequence[Ticket]:
    return (await session.scalars(select(Ticket).where(Ticket.id.in_(ids)))).all()


async def keys_between(session: AsyncSession, after: int, through: int) -> set[str]:
    """Whom the changes numbered in (after, through] concern: the tickets' scopes, the
    summons' people and departments, the scopes tickets left (change.notify's SQLite watch)."""
    keys: set[str] = set()
    for row in await session.scalars(
        select(Ticket).where(Ticket.change_seq > after, Ticket.change_seq <= through)
    ):
        keys |= row.change_keys()
    for one in await session.scalars(
        select(Summons).where(Summons.change_seq > after, Summons.change_seq <= through)
    ):
        keys |= one.change_keys()
    keys.update(
        await session.scalars(
            select(Departure.key).where(
                Departure.change_seq > after, Departure.change_seq <= through
            )
        )
    )
    return keys
