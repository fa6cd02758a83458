"""Who may act on a ticket, as pure predicates over the principal and the ticket row.

owner         the assignee (the person who signed, or the grid's worker on duty)
queue         an unassigned ticket waiting in the caller's grid (worker), department
              (member) or unit (officer)
officer_of    an officer of the unit that owns the ticket or of the rung it climbed to
handles       owner or officer_of: who may reply, ask for time, stage or end the work
co_handles    a worker, member or officer of a unit a ruling named co-handler (协办)
"""

from __future__ import annotations

from hotline.auth.roles import FIELD, Role
from hotline.auth.service import Principal
from hotline.ticket.models import Ticket


def is_owner(principal: Principal, ticket: Ticket) -> bool:
    return principal.staff_id is not None and principal.staff_id == ticket.assignee_id


def in_queue_of(principal: Principal, ticket: Ticket) -> bool:
    """An unassigned ticket waiting in the caller's grid (worker), department (member) or
    unit (officer)."""
    if ticket.assignee_id is not None or principal.unit_code is None:
        return False
    if principal.role is Role.worker:
        return ticket.grid_code == principal.unit_code
    if principal.role in (Role.member, Role.officer):
        return ticket.grid_code is None and ticket.unit_code == principal.unit_code
    return False


def officer_of(principal: Principal, ticket: Ticket) -> bool:
    """An officer of the owning unit, or of the unit of the rung the ticket stands on."""
    unit = principal.unit_code
    return (
        principal.role is Role.officer
        and unit is not None
        and unit in (ticket.unit_code, ticket.escalation_unit_code)
    )


def handles(principal: Principal, ticket: Ticket) -> bool:
    return is_owner(principal, ticket) or officer_of(principal, ticket)


def co_handles(principal: Principal, ticket: Ticket) -> bool:
    unit = principal.unit_code
    return principal.role in FIELD and unit is not None and unit in (ticket.co_handlers or [])
