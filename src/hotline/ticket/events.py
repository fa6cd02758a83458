"""Writing the append-only timeline. Every state change goes through ``record``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NotRequired, TypedDict

from sqlalchemy.ext.asyncio import AsyncSession
from typing_extensions import Unpack

from hotline.auth.service import Principal
from hotline.change import pipeline
from hotline.ticket.models import Ticket, TicketEvent


class EventFields(TypedDict):
    """What an event says besides its ticket and action."""

    actor: Principal | None  # None: the service itself (the sweeper, a rule)
    at: datetime
    from_status: str | None
    details: NotRequired[dict[str, Any] | None]
    to_status: NotRequired[str | None]


def new(ticket: Ticket, action: str, **fields: Unpack[EventFields]) -> TicketEvent:
    """An event of ``ticket`` (its id may come later), not yet in any session."""
    actor = fields["actor"]
    return TicketEvent(
        ticket_id=ticket.id,
        at=fields["at"],
        actor_key_id=actor.key_id if actor else None,
        actor_role=actor.role.value if actor else "system",
        actor_name=actor.name if actor else "hotline",
        action=action,
        from_status=fields["from_status"],
        to_status=fields.get("to_status") or ticket.status,
        details=fields.get("details") or {},
    )


def record(
    session: AsyncSession, ticket: Ticket, action: str, **fields: Unpack[EventFields]
) -> TicketEvent:
    """Append an event that moved the ticket to ``to_status`` (default: its current status).
    Call after changing the projection."""
    event = new(ticket, action, **fields)
    session.add(event)
    pipeline.event(session, ticket, event)
    return event
