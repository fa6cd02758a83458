"""Writing the append-only timeline. Every state change goes through ``record``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Principal
from hotline.change import pipeline
from hotline.ticket.models import Ticket, TicketEvent


def new(
    ticket: Ticket,
    action: str,
    *,
    actor: Principal | None,
    at: datetime,
    from_status: str | None,
    details: dict[str, Any] | None = None,
    to_status: str | None = None,
) -> TicketEvent:
    """An event of ``ticket`` (its id may come later), not yet in any session."""
    return TicketEvent(
        ticket_id=ticket.id,
        at=at,
        actor_key_id=actor.key_id if actor else None,
        actor_role=actor.role.value if actor else "system",
        actor_name=actor.name if actor else "hotline",
        action=action,
        from_status=from_status,
        to_status=to_status or ticket.status,
        details=details or {},
    )


def record(
    session: AsyncSession,
    ticket: Ticket,
    action: str,
    *,
    actor: Principal | None,
    at: datetime,
    from_status: str | None,
    details: dict[str, Any] | None = None,
    to_status: str | None = None,
) -> TicketEvent:
    """Append an event that moved the ticket to ``to_status`` (default: its current status).
    Call after changing the projection."""
    event = new(
        ticket,
        action,
        actor=actor,
        at=at,
        from_status=from_status,
        details=details,
        to_status=to_status,
    )
    session.add(event)
    pipeline.event(session, ticket, event)
    return event
