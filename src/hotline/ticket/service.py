"""Ticket use cases: intake and reads. Services flush but never commit."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.roles import Role
from hotline.auth.service import Principal
from hotline.errors import Forbidden, NotFound, Unprocessable
from hotline.kit.clock import county_zone
from hotline.ticket import events, repository
from hotline.ticket.models import Ticket
from hotline.ticket.schemas import Kind, Status, TicketCreate
from hotline.ticket.visibility import can_read


def phone_hash(phone: str, key: bytes) -> str:
    """Keyed hash of a normalised phone: repeat detection without reading the phone."""
    return hmac.new(key, phone.encode(), hashlib.sha256).hexdigest()


def ticket_number(ticket_id: int, created_at: datetime) -> str:
    """Human number: the county-local date and the id, e.g. ``20261126000042``."""
    return f"{created_at.astimezone(county_zone()):%Y%m%d}{ticket_id:06d}"


async def create_ticket(
    session: AsyncSession,
    data: TicketCreate,
    principal: Principal,
    *,
    phone_key: bytes,
    now: datetime,
) -> Ticket:
    """Store a new ticket and its ``created`` event in the caller's transaction.

    Raises Unprocessable (naming the field) for an unknown category.
    """
    category = await repository.category(session, data.category)
    if category is None or not category.active:
        raise Unprocessable(
            f"Unknown category {data.category!r}; see GET /v1/categories", field="category"
        )
    caller = data.caller
    confidential = caller.confidential
    if confidential is None:
        confidential = data.kind is Kind.report  # reports (举报) are confidential by default
    loc = data.location
    ticket = Ticket(
        status=Status.triage.value,
        kind=data.kind.value,
        category_code=data.category,
        urgency=data.urgency.value,
        line=data.line.value,
        content=data.content,
        caller_name=caller.name,
        caller_phone=caller.phone,
        caller_phone_hash=phone_hash(caller.phone, phone_key) if caller.phone else None,
        caller_confidential=confidential,
        location=loc.model_dump(mode="json", exclude_none=True),
        lat=loc.lat if loc.crs == "wgs84" else None,
        lon=loc.lon if loc.crs == "wgs84" else None,
        address=loc.address,
        route={"method": "triage", "explanation": "Routing has not decided; the dispatcher will."},
        external_id=data.external_id,
        created_by=principal.key_id,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(ticket)
    await session.flush()
    ticket.number = ticket_number(ticket.id, now)
    events.record(
        session,
        ticket,
        "created",
        actor=principal,
        at=now,
        from_status=None,
        details={"kind": ticket.kind, "category": ticket.category_code, "line": ticket.line},
    )
    await session.flush()
    return ticket


async def readable_ticket(session: AsyncSession, ticket_id: int, principal: Principal) -> Ticket:
    """The ticket if this principal may read it. A ticket they may not see is a 404 to a field
    role (no probing of other grids' ids) and a 403 to the viewer."""
    if principal.role is Role.viewer:
        raise Forbidden("The dashboard role reads metrics, not tickets")
    ticket = await repository.get(session, ticket_id)
    if ticket is None or not can_read(principal, ticket):
        raise NotFound(f"No ticket {ticket_id}")
    return ticket
