"""Ticket use cases: intake and reads. Services flush but never commit."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.roles import Role
from hotline.auth.service import Principal
from hotline.change import pipeline
from hotline.errors import Forbidden, NotFound, Unprocessable
from hotline.kit.clock import county_zone
from hotline.routing import service as routing_service
from hotline.routing.coords import to_wgs84
from hotline.routing.state import RoutingCache
from hotline.sla import deadlines
from hotline.sla.calendar import WorkCalendar
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
    routing: RoutingCache,
    calendar: WorkCalendar,
    now: datetime,
) -> Ticket:
    """Store a new ticket, route it at once, and write its ``created`` (and, when routing
    decided, ``dispatched``) events in the caller's transaction; the unit of work numbers it
    and wakes its grid at commit (hotline.change).

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
    lat = lon = None
    if loc.lat is not None and loc.lon is not None:
        lat, lon = to_wgs84(loc.lat, loc.lon, loc.crs.value)
    routed = await routing_service.route(
        session,
        routing,
        category=data.category,
        line=data.line.value,
        where=routing_service.Where(loc.grid_code, lat, lon, loc.address),
    )
    decision, assignee = routed.decision, routed.assignee
    phone_digest = phone_hash(caller.phone, phone_key) if caller.phone else None
    repeat_of = None
    if phone_digest is not None and routed.neighbourhood:
        repeat_of = await repository.open_repeat(
            session, phone_digest, data.category, routed.neighbourhood
        )
    route = {
        "method": decision.method,
        "unit_code": decision.unit_code,
        "grid_code": decision.grid_code,
        "assignee_id": assignee.id if assignee else None,
        "assignee_name": assignee.name if assignee else None,
        "rule_id": decision.rule_id,
        "explanation": decision.explanation
        + ("" if assignee or decision.grid_code is None else "; no worker on duty: grid queue"),
        "candidates": list(decision.candidates),
    }
    dispatched = decision.method != "triage"
    ticket = Ticket(
        status=(Status.dispatched if dispatched else Status.triage).value,
        kind=data.kind.value,
        category_code=data.category,
        urgency=data.urgency.value,
        line=data.line.value,
        content=data.content,
        caller_name=caller.name,
        caller_phone=caller.phone,
        caller_phone_hash=phone_digest,
        possible_repeat_of_id=repeat_of,
        caller_confidential=confidential,
        location=loc.model_dump(mode="json", exclude_none=True),
        lat=lat,
        lon=lon,
        address=loc.address,
        route=route,
        unit_code=decision.unit_code,
        grid_code=decision.grid_code,
        assignee_id=assignee.id if assignee else None,
        area_code=decision.area_grid,
        village_code=(routed.places or {}).get("village"),
        township_code=(routed.places or {}).get("township"),
        external_id=data.external_id,
        created_by=principal.key_id,
        created_at=now,
        updated_at=now,
        version=1,
        change_seq=0,
    )
    # The clocks start before the INSERT, so the row is written whole in one statement.
    if dispatched:
        await deadlines.on_dispatch(session, ticket, calendar, now)
    else:
        await deadlines.on_triage(session, ticket, calendar, now)
    session.add(ticket)
    await session.flush()
    ticket.number = ticket_number(ticket.id, now)
    pipeline.touch(session, ticket)
    events.record(
        session,
        ticket,
        "created",
        actor=principal,
        at=now,
        from_status=None,
        to_status=Status.triage.value,
        details={"kind": ticket.kind, "category": ticket.category_code, "line": ticket.line},
    )
    if dispatched:
        events.record(
            session,
            ticket,
            "dispatched",
            actor=None,
            at=now,
            from_status=Status.triage.value,
            details={k: route[k] for k in ("method", "unit_code", "grid_code", "assignee_id")},
        )
    return ticket


async def readable_ticket(session: AsyncSession, ticket_id: int, principal: Principal) -> Ticket:
    """The ticket if this principal may read it. A ticket they may not see is a 404 to a field
    role (no probing of other grids' ids) and a 403 to the viewer."""
    if principal.role is Role.viewer:
        raise Forbidden("The dashboard role reads metrics, not tickets")
    ticket = await repository.get(session, ticket_id)
    if ticket is None:
        raise NotFound(f"No ticket {ticket_id}")
    if not can_read(principal, ticket):
        from hotline.workflow.common import summoned

        summonable = principal.role in (Role.member, Role.officer)
        if not (summonable and await summoned(session, ticket, principal)):
            raise NotFound(f"No ticket {ticket_id}")
    return ticket
