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
from hotline.ticket import phone as phones
from hotline.ticket.models import Ticket
from hotline.ticket.schemas import (
    CallerRead,
    Crs,
    LocationRead,
    RouteRead,
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


def caller_view(principal: Principal, ticket: Ticket) -> CallerRead:
    if principal.role in CENTRE:
        return CallerRead(
            name=ticket.caller_name,
            phone=ticket.caller_phone,
            confidential=ticket.caller_confidential,
            masked=False,
        )
    if ticket.caller_confidential:
        return CallerRead(name=None, phone=None, confidential=True, masked=True)
    if owns(principal, ticket):
        return CallerRead(
            name=ticket.caller_name, phone=ticket.caller_phone, confidential=False, masked=False
        )
    return CallerRead(
        name=ticket.caller_name,
        phone=phones.mask(ticket.caller_phone) if ticket.caller_phone else None,
        confidential=False,
        masked=ticket.caller_phone is not None,
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
        deadlines={},
        external_id=ticket.external_id,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        version=ticket.version,
    )
