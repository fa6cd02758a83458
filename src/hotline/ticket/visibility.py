"""Who may read a ticket and how much of the caller they see (DESIGN.md §8).

- The hotline centre (agent, dispatcher, arbiter, admin) reads every ticket and every caller.
- A worker reads the tickets of the grid they belong to; a member those of their department.
  They see a masked phone and no confidential caller; the owner of a non-confidential ticket
  sees the caller in full.
- The viewer role never reads tickets.
"""

from __future__ import annotations

from hotline.auth.roles import CENTRE, Role
from hotline.auth.service import Principal
from hotline.kit.clock import utcnow
from hotline.ticket import phone as phones
from hotline.ticket.models import Ticket
from hotline.ticket.schemas import (
    CallerRead,
    Crs,
    Deadlines,
    LocationRead,
    RouteRead,
    Status,
    TicketRead,
)


def concerns(principal: Principal, ticket: Ticket) -> bool:
    """Whether the ticket is the field principal's business at all."""
    if principal.role is Role.worker:
        return principal.unit_code is not None and principal.unit_code == ticket.grid_code
    if principal.role is Role.member:
        return principal.unit_code is not None and principal.unit_code == ticket.unit_code
    return False


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
    if principal.role in CENTRE:
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
    view = caller_view(principal, ticket)
    return (view.phone is not None and not view.masked) or (
        principal.role in CENTRE and any(c.get("phone") for c in ticket.extra_callers or [])
    )


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
        co_handlers=ticket.co_handlers or [],
        supervision=ticket.supervision,
        signed_at=ticket.signed_at,
        replied_at=ticket.replied_at,
        closed_at=ticket.closed_at,
        external_id=ticket.external_id,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        version=ticket.version,
    )


def deadlines_of(ticket: Ticket) -> Deadlines:
    now = utcnow()
    waiting_sign = ticket.status in (Status.dispatched, Status.rework)
    working = ticket.status in (Status.signed, Status.rework)
    return Deadlines(
        sign_due_at=ticket.sign_due_at,
        reply_due_at=ticket.reply_due_at,
        return_until=ticket.return_until,
        callback_due_at=ticket.callback_due_at,
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
