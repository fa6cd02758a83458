"""The confirmation group's work (疑难问题确责小组): the disputed queue and rulings, and the
dispatcher's supervision (督办)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.roles import Role
from hotline.errors import InvalidTransition, Unprocessable
from hotline.escalation import repository
from hotline.kit.clock import local_iso
from hotline.org import catalogue
from hotline.org.schemas import RuleCreate
from hotline.routing.state import RoutingState
from hotline.suggestion import corrections
from hotline.ticket import repository as ticket_repository
from hotline.ticket.models import CoHandler, Ticket
from hotline.ticket.schemas import Line, Status
from hotline.workflow import common
from hotline.workflow.common import Act
from hotline.workflow.states import STATE_NAMES, Action

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
    "ruled",
)


async def disputed(session: AsyncSession, limit: int) -> list[tuple[Ticket, list[dict[str, Any]]]]:
    tickets = await repository.in_arbitration(session, limit)
    rows = await repository.history(session, [t.id for t in tickets], HISTORY)
    history: dict[int, list[dict[str, Any]]] = {}
    for e in rows:
        history.setdefault(e.ticket_id, []).append(
            {
                "at": local_iso(e.at),
                "action": e.action,
                "by": e.actor_name,
                "role": e.actor_role,
                "details": e.details,
            }
        )
    return [(t, history.get(t.id, [])) for t in tickets]


async def rule(act: Act, ticket: Ticket, data: RulingIn) -> Ticket:
    """Name the owner: the ticket is dispatched to the lead unit (主办) as designated: it can no
    longer be returned, re-dispatched or closed from triage, and only a new ruling moves it.
    The co-handling units (协办) are recorded (``co_handler``); they read the ticket, see it
    in their poll and report their part to the lead. With ``add_rule`` the ruling becomes a
    catalogue rule for the same category in the same village (由解决一件事向解决一类事)."""
    p, session = act.principal, act.session
    common.require_role(p, Role.arbiter)
    if ticket.status != Status.arbitration and not ticket.designated:
        now_zh, now_en = STATE_NAMES[Status(ticket.status)]
        raise InvalidTransition(
            f"只有“确责中”或已被认定的工单可以确责认定；此工单为“{now_zh}”",
            en=f"Only a ticket in arbitration, or one a ruling designated, is ruled on; this "
            f"one is {now_en}",
            state=ticket.status,
        )
    co_units = [c for c in dict.fromkeys(data.co_units) if c != data.lead_unit]
    state = await act.state()
    for code in [data.lead_unit, *co_units]:
        unit = state.units.get(code)
        if unit is None or unit.kind == "group":
            field = "lead_unit" if code == data.lead_unit else "co_units"
            raise Unprocessable(
                f"{code} 不是可以办理工单的单位",
                en=f"{code} is not a unit that can handle a ticket",
                field=field,
            )
    before = common.move(ticket, Action.ruling)
    if data.category is not None:  # the group's ruling on the category: a correction
        change = await corrections.corrected(session, ticket, data.category, "ruling")
        if change is not None:
            await act.record(ticket, "category_corrected", before, change)
    ticket.designated = True
    ticket.co_handlers = co_units
    await ticket_repository.drop_co_handlers(session, ticket.id)
    session.add_all(
        CoHandler(ticket_id=ticket.id, unit_code=c, named_at=act.now, report="") for c in co_units
    )
    await common.assign_to_unit(
        act,
        ticket,
        data.lead_unit,
        method="ruling",
        explanation=f"Ruled by {p.name}: {data.reasoning}",
    )
    rule_id = None
    if data.add_rule:
        rule_id = await _class_rule(act, ticket, state, data)
    ticket.ruling = {
        "at": local_iso(act.now),
        "by": p.name,
        "lead_unit": data.lead_unit,
        "co_units": co_units,
        "reasoning": data.reasoning,
        "rule_id": rule_id,
    }
    await act.record(
        ticket,
        "ruled",
        before,
        {
            "lead_unit": data.lead_unit,
            "co_units": co_units,
            "reasoning": data.reasoning,
            "rule_id": rule_id,
        },
    )
    return ticket


async def _class_rule(act: Act, ticket: Ticket, state: RoutingState, data: RulingIn) -> int:
    village = next(
        (
            c
            for c in (state.chain(ticket.area_code) if ticket.area_code else ())
            if state.units[c].kind == "village"
        ),
        None,
    )
    created = await catalogue.create_rule(
        act.session,
        RuleCreate(
            category=ticket.category_code,
            area_code=village,
            line=Line(ticket.line) if ticket.line != "main" else None,
            unit_code=data.lead_unit,
            priority=50,
            note=f"确责小组裁定（工单 {ticket.number}）：{data.reasoning}"[:500],
        ),
        now=act.now,
        source="ruling",
    )
    return created.id


async def supervise(act: Act, ticket: Ticket, data: SuperviseIn) -> Ticket:
    """Mark a ticket supervised (督办) with a level and a note; the state does not change. A
    dispatcher, or an officer of the county (the hotline centre's leadership)."""
    principal, now = act.principal, act.now
    county = principal.role is Role.officer and principal.unit_kind == "county"
    common.require(
        principal.role is Role.dispatcher or county,
        "只有派单员或县级负责人可以督办",
        en="Only a dispatcher or the county's officers supervise",
    )
    before = common.move(ticket, Action.supervise)
    ticket.supervised_at = now
    ticket.supervision = {
        "level": data.level.value,
        "note": data.note,
        "at": local_iso(now),
        "by": principal.name,
        "source": "officer" if county else "dispatcher",
    }
    await act.record(ticket, "supervised", before, {"level": data.level.value, "note": data.note})
    return ticket
