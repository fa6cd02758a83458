"""The confirmation group's work (疑难问题确责小组): the disputed queue and rulings, and the
dispatcher's supervision (督办)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.roles import Role
from hotline.auth.service import Principal
from hotline.errors import Unprocessable
from hotline.org import catalogue
from hotline.org import repository as org_repository
from hotline.org.schemas import RuleCreate
from hotline.routing.state import RoutingState
from hotline.sla.calendar import WorkCalendar
from hotline.ticket.models import Ticket, TicketEvent
from hotline.ticket.schemas import Line
from hotline.workflow import common
from hotline.workflow.states import Action

from .schemas import RulingIn, SuperviseIn

HISTORY = (
    "dispatched",
    "return_requested",
    "return_approved",
    "return_rejected",
    "reworked",
    "escalated",
    "arbitration",
    "overdue",
)


async def disputed(session: AsyncSession, limit: int) -> list[tuple[Ticket, list[dict[str, Any]]]]:
    tickets = list(
        (
            await session.scalars(
                select(Ticket)
                .where(Ticket.status == "arbitration")
                .order_by(Ticket.updated_at)
                .limit(limit)
            )
        ).all()
    )
    rows = await session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id.in_([t.id for t in tickets]), TicketEvent.action.in_(HISTORY))
        .order_by(TicketEvent.id)
    )
    history: dict[int, list[dict[str, Any]]] = {}
    for e in rows:
        history.setdefault(e.ticket_id, []).append(
            {
                "at": e.at.isoformat(),
                "action": e.action,
                "by": e.actor_name,
                "role": e.actor_role,
                "details": e.details,
            }
        )
    return [(t, history.get(t.id, [])) for t in tickets]


async def rule(
    session: AsyncSession,
    ticket: Ticket,
    principal: Principal,
    data: RulingIn,
    *,
    state: RoutingState,
    calendar: WorkCalendar,
    now: datetime,
) -> Ticket:
    """Name the owner: the ticket is dispatched to the lead unit as designated (it can no longer
    be returned), co-handlers recorded; with ``add_rule`` the ruling becomes a catalogue rule
    for the same category in the same village (由解决一件事向解决一类事)."""
    common.require_role(principal, Role.arbiter)
    for code in data.co_units:
        if await org_repository.unit(session, code) is None:
            raise Unprocessable(f"Unknown unit {code}", field="co_units")
    before = common.move(ticket, Action.ruling)
    old = common.changes_keys(ticket)
    ticket.designated = True
    ticket.co_handlers = list(dict.fromkeys(data.co_units))
    await common.assign_to_unit(
        session,
        ticket,
        data.lead_unit,
        assignee_id=None,
        calendar=calendar,
        now=now,
        method="ruling",
        explanation=f"Ruled by {principal.name}: {data.reasoning}",
    )
    rule_id = None
    if data.add_rule:
        village = next(
            (
                c
                for c in (state.chain(ticket.area_code) if ticket.area_code else ())
                if state.units[c].kind == "village"
            ),
            None,
        )
        created = await catalogue.create_rule(
            session,
            RuleCreate(
                category=ticket.category_code,
                area_code=village,
                line=Line(ticket.line) if ticket.line != "main" else None,
                unit_code=data.lead_unit,
                priority=50,
                note=f"确责小组裁定（工单 {ticket.number}）：{data.reasoning}"[:500],
            ),
            now=now,
            source="ruling",
        )
        rule_id = created.id
    await common.record(
        session,
        ticket,
        "ruled",
        principal,
        now=now,
        from_status=before,
        wake=old,
        details={
            "lead_unit": data.lead_unit,
            "co_units": ticket.co_handlers,
            "reasoning": data.reasoning,
            "rule_id": rule_id,
        },
    )
    return ticket


async def supervise(
    session: AsyncSession,
    ticket: Ticket,
    principal: Principal,
    data: SuperviseIn,
    *,
    now: datetime,
) -> Ticket:
    """Mark a ticket supervised (督办) with a level and a note; the state does not change."""
    common.require_role(principal, Role.dispatcher)
    before = common.move(ticket, Action.supervise)
    ticket.supervised_at = now
    ticket.supervision = {
        "level": data.level.value,
        "note": data.note,
        "at": now.isoformat(),
        "by": principal.name,
    }
    await common.record(
        session,
        ticket,
        "supervised",
        principal,
        now=now,
        from_status=before,
        details={"level": data.level.value, "note": data.note},
    )
    return ticket
