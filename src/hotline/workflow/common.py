"""What every action shares: the locked ticket, the version check, the transition, the event,
the change number. Domain errors only; the caller's unit of work commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.roles import CENTRE, Role
from hotline.auth.service import Principal
from hotline.errors import (
    Forbidden,
    InvalidTransition,
    NotFound,
    PreconditionFailed,
    Unprocessable,
)
from hotline.org.models import Staff
from hotline.routing import service as routing_service
from hotline.sla import deadlines
from hotline.sla.calendar import WorkCalendar
from hotline.ticket import events
from hotline.ticket.models import Ticket
from hotline.ticket.schemas import Status
from hotline.ticket.visibility import can_read
from hotline.workflow import changes, states
from hotline.workflow.states import Action

if TYPE_CHECKING:
    from hotline.workflow.models import Summons


async def locked(
    session: AsyncSession, ticket_id: int, principal: Principal, if_match: int | None
) -> Ticket:
    """The ticket, row-locked until commit (two actors cannot both win), visible to the caller
    and at the version they expect."""
    ticket = await session.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())
    if ticket is None:
        raise NotFound(f"No ticket {ticket_id}")
    if principal.role is Role.viewer:
        raise Forbidden("The dashboard role reads metrics, not tickets")
    visible = can_read(principal, ticket) or (
        principal.role is Role.member and await summoned(session, ticket, principal)
    )
    if not visible:
        # Not 403: another grid's ticket ids are not to be probed.
        raise NotFound(f"No ticket {ticket_id}")
    if if_match is not None and if_match != ticket.version:
        raise PreconditionFailed(
            f"Ticket {ticket_id} is at version {ticket.version}, not {if_match}",
            version=ticket.version,
        )
    return ticket


async def summoned(session: AsyncSession, ticket: Ticket, principal: Principal) -> bool:
    from hotline.workflow.models import Summons

    found = await session.scalar(
        select(Summons.id)
        .where(
            Summons.ticket_id == ticket.id,
            (Summons.staff_id == principal.staff_id) | (Summons.unit_code == principal.unit_code),
        )
        .limit(1)
    )
    return found is not None


def ensure(ticket: Ticket, action: Action) -> None:
    """409 naming the current state unless ``action`` is allowed in it."""
    current = Status(ticket.status)
    if not states.allowed(action, current):
        raise InvalidTransition(str(states.IllegalTransition(action, current)), state=current.value)


def move(ticket: Ticket, action: Action, target: Status | None = None) -> str:
    """Apply the state machine; returns the state before. 409 names the current state."""
    current = Status(ticket.status)
    try:
        after = states.check(action, current, target)
    except states.IllegalTransition as exc:
        raise InvalidTransition(str(exc), state=current.value) from exc
    ticket.status = after.value
    return current.value


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        names = ", ".join(r.value for r in roles)
        raise Forbidden(f"Only {names} may do this")


def is_owner(principal: Principal, ticket: Ticket) -> bool:
    return principal.staff_id is not None and principal.staff_id == ticket.assignee_id


def require_owner(principal: Principal, ticket: Ticket) -> None:
    if not is_owner(principal, ticket):
        raise Forbidden("Only the ticket's owner may do this")


def in_queue_of(principal: Principal, ticket: Ticket) -> bool:
    """An unassigned ticket waiting in the caller's grid (worker) or department (member)."""
    if ticket.assignee_id is not None or principal.unit_code is None:
        return False
    if principal.role is Role.worker:
        return ticket.grid_code == principal.unit_code
    if principal.role is Role.member:
        return ticket.grid_code is None and ticket.unit_code == principal.unit_code
    return False


async def record(
    session: AsyncSession,
    ticket: Ticket,
    action: str,
    principal: Principal | None,
    *,
    now: datetime,
    from_status: str,
    details: dict[str, Any] | None = None,
    wake: set[str] | frozenset[str] = frozenset(),
    summons: Iterable[Summons] = (),
) -> None:
    """The event, then ``finish``."""
    events.record(
        session, ticket, action, actor=principal, at=now, from_status=from_status, details=details
    )
    await finish(session, ticket, now=now, wake=wake, summons=summons)


async def finish(
    session: AsyncSession,
    ticket: Ticket,
    *,
    now: datetime,
    wake: set[str] | frozenset[str] = frozenset(),
    summons: Iterable[Summons] = (),
) -> None:
    """After a change whose event is written: the new version, the sweeper's next look, and the
    change number of the ticket and of the summons it touched (last, see workflow.changes)."""
    ticket.version += 1
    ticket.updated_at = now
    deadlines.reschedule(ticket)
    await session.flush()
    await changes.stamp(session, ticket, wake, summons)


async def assign_to_unit(
    session: AsyncSession,
    ticket: Ticket,
    unit_code: str,
    *,
    assignee_id: int | None,
    calendar: WorkCalendar,
    now: datetime,
    method: str,
    explanation: str,
) -> None:
    """Make a unit (and, in a grid, its on-duty worker) the owner and start the sign clock."""
    from hotline.org import repository as org_repository

    unit = await org_repository.unit(session, unit_code)
    if unit is None:
        raise Unprocessable(f"Unknown unit {unit_code}", field="unit_code")
    assignee: Staff | None = None
    if assignee_id is not None:
        assignee = await org_repository.staff(session, assignee_id)
        if assignee is None or assignee.unit_code != unit_code or not assignee.active:
            raise Unprocessable(
                f"Staff {assignee_id} is not active in {unit_code}", field="assignee_id"
            )
    elif unit.kind == "grid":
        assignee = await routing_service.on_duty_worker(session, unit_code)
    ticket.unit_code = unit_code
    ticket.grid_code = unit_code if unit.kind == "grid" else None
    if ticket.area_code is None and unit.kind == "grid":
        await _locate_in(session, ticket, unit)
    ticket.assignee_id = assignee.id if assignee else None
    ticket.route = {
        "method": method,
        "unit_code": unit_code,
        "grid_code": ticket.grid_code,
        "assignee_id": ticket.assignee_id,
        "assignee_name": assignee.name if assignee else None,
        "rule_id": None,
        "explanation": explanation,
        "candidates": [],
    }
    await deadlines.on_dispatch(session, ticket, calendar, now)


def centre_or(principal: Principal, *roles: Role) -> bool:
    return principal.role in CENTRE or principal.role in roles


async def _locate_in(session: AsyncSession, ticket: Ticket, grid: Any) -> None:
    """A ticket dispatched by hand to a grid lies in that grid (and its village, township)."""
    from hotline.org import repository as org_repository

    ticket.area_code = grid.code
    unit = grid
    for _ in range(8):
        if unit.parent_code is None:
            break
        unit = await org_repository.unit(session, unit.parent_code)
        if unit is None:
            break
        if unit.kind == "village":
            ticket.village_code = unit.code
        elif unit.kind == "township":
            ticket.township_code = unit.code


def changes_keys(ticket: Ticket) -> set[str]:
    """Who the ticket concerns now: take it before a change that moves it, to wake them too."""
    return changes.keys_for(ticket)
