"""Making a new ticket: routed at once, its clocks started, its first events (DESIGN.md §4-§6),
all in memory: intake.service writes it in a few statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Principal
from hotline.errors import Unprocessable
from hotline.kit import phone as phones
from hotline.kit.clock import county_zone
from hotline.org.categories import Known
from hotline.routing import service as routing_service
from hotline.routing.coords import to_wgs84
from hotline.routing.rules import Decision
from hotline.routing.state import RoutingState
from hotline.sla import deadlines
from hotline.sla.calendar import WorkCalendar
from hotline.suggestion.service import Suggested
from hotline.ticket import events, search
from hotline.ticket.models import Ticket, TicketEvent
from hotline.ticket.schemas import Kind, Status, TicketCreate


def ticket_number(ticket_id: int, created_at: datetime) -> str:
    """Human number: the county-local date and the id, e.g. ``20261126000042``."""
    return f"{created_at.astimezone(county_zone()):%Y%m%d}{ticket_id:06d}"


@dataclass
class Made:
    """A ticket made in memory, with its first events and the place repeats are looked for."""

    ticket: Ticket
    events: list[TicketEvent]
    neighbourhood: tuple[str, ...]


async def make_ticket(
    session: AsyncSession,
    data: TicketCreate,
    principal: Principal,
    *,
    category: Known | None,
    state: RoutingState,
    phone_key: bytes,
    calendar: WorkCalendar,
    now: datetime,
    suggested: Suggested | None = None,
) -> Made:
    """A new ticket, routed at once, its clocks started, with its ``created`` (and, when
    routing decided, ``dispatched``) events: nothing written yet (ticket.intake writes it).
    Reads nothing either when the unit of work has its policies (sla.deadlines.use).

    Raises Unprocessable (naming the field) for an unknown or deactivated category.
    """
    if category is None:
        raise Unprocessable(
            f"没有编码为 {data.category} 的类别；见 GET /v1/categories",
            en=f"Unknown category {data.category!r}; see GET /v1/categories",
            field="category",
        )
    if not category.active:
        raise Unprocessable(
            f"类别 {data.category} 已停用，不再受理新工单；见 GET /v1/categories",
            en=f"Category {data.category} is deactivated: no new tickets; see GET /v1/categories",
            field="category",
        )
    # A ticket that names no urgency takes its category's default (catalogue management).
    urgency = data.urgency.value
    if "urgency" not in data.model_fields_set and category.default_urgency:
        urgency = category.default_urgency
    caller = data.caller
    confidential = caller.confidential
    if confidential is None:
        confidential = data.kind is Kind.report  # reports (举报) are confidential by default
    loc = data.location
    lat = lon = None
    if loc.lat is not None and loc.lon is not None:
        lat, lon = to_wgs84(loc.lat, loc.lon, loc.crs.value)
    routed = routing_service.route(
        state,
        category=category.code,
        line=data.line.value,
        where=routing_service.Where(loc.grid_code, lat, lon, loc.address),
    )
    decision, assignee = routed.decision, routed.assignee
    if suggested is not None and not suggested.accepted:
        decision, assignee = _under_threshold(decision, suggested), None
    route: dict[str, Any] = {
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
    if suggested is not None:
        route["category_suggested"] = suggested.route_field()
        route["category_candidates"] = suggested.candidates
    dispatched = decision.method != "triage"
    ticket = Ticket(
        status=(Status.dispatched if dispatched else Status.triage).value,
        kind=data.kind.value,
        category_code=category.code,
        urgency=urgency,
        line=data.line.value,
        content=data.content,
        search_words=search.words(data.content),
        caller_name=caller.name,
        caller_phone=caller.phone,
        caller_phone_hash=phones.keyed_hash(caller.phone, phone_key) if caller.phone else None,
        caller_confidential=confidential,
        extra_callers=[],
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
    )
    _defaults(ticket)
    if dispatched:
        await deadlines.on_dispatch(session, ticket, calendar, now)
    else:
        await deadlines.on_triage(session, ticket, calendar, now)
    made = [
        events.new(
            ticket,
            "created",
            actor=principal,
            at=now,
            from_status=None,
            to_status=Status.triage.value,
            details={"kind": ticket.kind, "category": ticket.category_code, "line": ticket.line},
        )
    ]
    if suggested is not None:
        made.append(
            events.new(
                ticket,
                "category_suggested",
                actor=None,
                at=now,
                from_status=Status.triage.value,
                to_status=Status.triage.value,
                details={**suggested.route_field(), "candidates": suggested.candidates},
            )
        )
    if dispatched:
        made.append(
            events.new(
                ticket,
                "dispatched",
                actor=None,
                at=now,
                from_status=Status.triage.value,
                details={k: route[k] for k in ("method", "unit_code", "grid_code", "assignee_id")},
            )
        )
    return Made(ticket, made, routed.neighbourhood)


def with_suggestion(data: TicketCreate, suggested: Suggested | None) -> TicketCreate:
    """The body of a ticket posted without a category, its category the top suggestion's
    (taken, or provisional while the ticket waits in triage). 422 when nothing could be
    suggested (no active category)."""
    if suggested is None:
        raise Unprocessable(
            "未填写类别，且没有可建议的类别",
            en="No category given and none to suggest",
            field="category",
        )
    return data.model_copy(update={"category": suggested.code})


def _under_threshold(decision: Decision, suggested: Suggested) -> Decision:
    """Triage for a ticket whose suggested category scored under the threshold: the dispatcher
    picks the category (from ``route.category_candidates``) and the owner."""
    return Decision(
        "triage",
        None,
        None,
        f"No category given; the suggestion {suggested.code} scored {suggested.score:.2f}, "
        f"under the threshold {suggested.threshold:.2f}: triage with the top 3 categories "
        f"(routing alone: {decision.explanation})",
        candidates=decision.candidates,
        area_grid=decision.area_grid,
    )


# The columns' defaults, which the ORM would apply only when flushing: the ticket is written by
# one Core INSERT and answered from memory.
_DEFAULTS = [
    (column.key, column.default)
    for column in Ticket.__table__.columns
    if column.default is not None and (column.default.is_scalar or column.default.is_callable)
]


def _defaults(ticket: Ticket) -> None:
    state = ticket.__dict__
    for key, default in _DEFAULTS:
        if state.get(key) is None:
            setattr(ticket, key, default.arg if default.is_scalar else default.arg(None))
