"""Who may read a ticket and how much of the caller they see (DESIGN.md §8).

- The hotline centre (agent, dispatcher, arbiter, admin) reads every ticket and every caller,
  but a confidential caller (保密) only the call-takers see: agents and dispatchers. The
  confirmation group and the service's operator see them as the field does (nobody).
- A worker reads the tickets of the grid they belong to; a member those of their department;
  an officer those their unit owns or that climbed to it, and those of the units below theirs
  (a village its grids, a township its villages and grids, the county every ticket). Each also
  reads the tickets a ruling named their unit co-handler of (协办), and a summoned member or
  officer the tickets of the whistle (workflow.common). They see a masked phone and no
  confidential caller; the owner of a non-confidential ticket sees the caller in full.
- The viewer role never reads tickets.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import false, or_
from sqlalchemy.sql.elements import ColumnElement

from hotline.auth.roles import CENTRE, FIELD, Role
from hotline.auth.service import Principal
from hotline.kit import phone as phones
from hotline.kit.clock import utcnow
from hotline.ticket import repository
from hotline.ticket.models import Ticket
from hotline.ticket.schemas import (
    CLIMBING,
    CallerRead,
    Crs,
    Deadlines,
    LocationRead,
    RouteRead,
    Status,
    TicketRead,
)

# Who may see a confidential caller: those who take and dispatch the calls.
CALL_TAKERS = frozenset({Role.agent, Role.dispatcher})
# The column that places a ticket under an officer's unit, by the unit's kind.
_BELOW = {"village": "village_code", "township": "township_code"}


def concerns(principal: Principal, ticket: Ticket) -> bool:
    """Whether the ticket is the field principal's business at all."""
    unit = principal.unit_code
    if unit is None or principal.role not in FIELD:
        return False
    if unit in (ticket.co_handlers or []):
        return True
    if principal.role is Role.worker:
        return unit == ticket.grid_code
    if principal.role is Role.member:
        return unit == ticket.unit_code
    if unit in (ticket.unit_code, ticket.escalation_unit_code):
        return True
    if principal.unit_kind == "county":
        return True
    column = _BELOW.get(principal.unit_kind or "")
    return column is not None and getattr(ticket, column) == unit


def scope(principal: Principal) -> ColumnElement[bool] | None:
    """``concerns`` as a condition on ticket rows, for lists; None: every ticket."""
    if principal.role in CENTRE:
        return None
    unit = principal.unit_code
    if unit is None or principal.role not in FIELD:
        return false()
    co = repository.co_handled_by(unit)
    if principal.role is Role.worker:
        return or_(Ticket.grid_code == unit, co)
    if principal.role is Role.member:
        return or_(Ticket.unit_code == unit, co)
    if principal.unit_kind == "county":
        return None
    parts = [Ticket.unit_code == unit, Ticket.escalation_unit_code == unit, co]
    column = _BELOW.get(principal.unit_kind or "")
    if column is not None:
        parts.append(getattr(Ticket, column) == unit)
    return or_(*parts)


def can_read(principal: Principal, ticket: Ticket) -> bool:
    return principal.role in CENTRE or concerns(principal, ticket)


def owns(principal: Principal, ticket: Ticket) -> bool:
    return principal.staff_id is not None and principal.staff_id == ticket.assignee_id


def caller_view(
    principal: Principal,
    ticket: Ticket,
    name: str | None = None,
    phone: str | None = None,
    confidential: bool | None = None,
) -> CallerRead:
    """The caller (or a merged extra caller) as this principal may see them."""
    if confidential is None:
        name, phone, confidential = (
            ticket.caller_name,
            ticket.caller_phone,
            ticket.caller_confidential,
        )
    if principal.role in CALL_TAKERS or (principal.role in CENTRE and not confidential):
        return CallerRead(name=name, phone=phone, confidential=confidential, masked=False)
    if confidential:
        return CallerRead(name=None, phone=None, confidential=True, masked=True)
    if owns(principal, ticket):
        return CallerRead(name=name, phone=phone, confidential=False, masked=False)
    return CallerRead(
        name=name,
        phone=phones.mask(phone) if phone else None,
        confidential=False,
        masked=phone is not None,
    )


def shows_phone(principal: Principal, ticket: Ticket) -> bool:
    """Whether presenting the ticket hands this principal an unmasked phone (an audited read)."""
    views = [caller_view(principal, ticket)] + [
        caller_view(principal, ticket, c.get("name"), c.get("phone"), bool(c.get("confidential")))
        for c in ticket.extra_callers or []
        if c.get("phone")
    ]
    return any(view.phone is not None and not view.masked for view in views)


def present(principal: Principal, ticket: Ticket) -> TicketRead:
    """The ticket as this principal may see it."""
    loc = ticket.location or {}
    wgs84 = {"lat": ticket.lat, "lon": ticket.lon} if ticket.lat is not None else None
    return TicketRead(
        id=ticket.id,
        number=ticket.number or "",
        status=ticket.status,
        kind=ticket.kind,
        category=ticket.category_code,
        urgency=ticket.urgency,
        line=ticket.line,
        content=ticket.content,
        caller=caller_view(principal, ticket),
        location=LocationRead(
            lat=loc.get("lat"),
            lon=loc.get("lon"),
            crs=Crs(loc.get("crs", "wgs84")),
            wgs84=wgs84,
            address=ticket.address,
            address_id=loc.get("address_id"),
            grid_code=loc.get("grid_code"),
        ),
        route=RouteRead(**(ticket.route or {"method": "triage"})),
        deadlines=deadlines_of(ticket),
        designated=ticket.designated,
        rework_count=ticket.rework_count,
        transfer_count=ticket.transfer_count,
        close_reason=ticket.close_reason,
        merged_into=ticket.merged_into_id,
        possible_repeat_of=ticket.possible_repeat_of_id,
        extra_callers=[
            caller_view(
                principal, ticket, c.get("name"), c.get("phone"), bool(c.get("confidential"))
            )
            for c in ticket.extra_callers or []
        ],
        reply=ticket.reply,
        last_callback=ticket.last_callback,
        escalation_level=ticket.escalation_level,
        escalation_unit=ticket.escalation_unit_code,
        escalation_track=ticket.escalation_track,
        escalation_rung=ticket.escalation_rung,
        ruling=ticket.ruling,
        co_handlers=ticket.co_handlers or [],
        supervision=ticket.supervision,
        staged=ticket.staged,
        signed_at=ticket.signed_at,
        replied_at=ticket.replied_at,
        closed_at=ticket.closed_at,
        external_id=ticket.external_id,
        imported=ticket.imported,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        version=ticket.version,
    )


def deadlines_of(ticket: Ticket) -> Deadlines:
    now = utcnow()
    waiting_sign = ticket.status in (Status.dispatched, Status.rework)
    working = ticket.status in (Status.signed, Status.rework)
    climbing = ticket.status in CLIMBING

    def past(due: datetime | None, running: bool = True) -> bool:
        return bool(running and due is not None and now > due)

    return Deadlines(
        sign_due_at=ticket.sign_due_at,
        reply_due_at=ticket.reply_due_at,
        return_until=ticket.return_until,
        callback_due_at=ticket.callback_due_at,
        triage_due_at=ticket.triage_due_at if ticket.status == Status.triage else None,
        ruling_due_at=ticket.ruling_due_at if ticket.status == Status.arbitration else None,
        escalation_due_at=ticket.escalation_due_at if climbing else None,
        triage_overdue=past(ticket.triage_due_at, ticket.status == Status.triage),
        ruling_overdue=past(ticket.ruling_due_at, ticket.status == Status.arbitration),
        escalation_overdue=past(ticket.escalation_due_at, climbing),
        sign_overdue=bool(waiting_sign and ticket.sign_due_at and now > ticket.sign_due_at),
        reply_overdue=bool(working and ticket.reply_due_at and now > ticket.reply_due_at),
        callback_overdue=bool(
            ticket.status == Status.replied
            and ticket.callback_due_at
            and now > ticket.callback_due_at
        ),
        policies=ticket.deadline_policies or {},
        calendar_unknown_years=ticket.calendar_unknown_years or [],
    )
