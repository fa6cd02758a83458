"""Actions of the hotline centre: dispatch, decide returns and extensions, answer directly,
call back, merge repeats, close what is not the hotline's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.roles import Role
from hotline.auth.service import Principal
from hotline.errors import Conflict, NotFound, Unprocessable
from hotline.sla import deadlines
from hotline.sla.calendar import WorkCalendar
from hotline.ticket.models import Ticket
from hotline.ticket.schemas import Status
from hotline.workflow import common, schemas
from hotline.workflow.models import TicketRequest
from hotline.workflow.states import MAX_REWORKS, MAX_TRANSFERS, Action


async def dispatch(
    session: AsyncSession,
    ticket: Ticket,
    principal: Principal,
    data: schemas.DispatchIn,
    *,
    calendar: WorkCalendar,
    now: datetime,
) -> Ticket:
    """Route by hand: from triage, or re-route. A re-dispatch of a ticket nobody has signed
    counts as a transfer; the third goes to arbitration (确责) instead."""
    common.require_role(principal, Role.dispatcher)
    rerouted = ticket.status != Status.triage and ticket.signed_at is None
    if rerouted and ticket.transfer_count + 1 >= MAX_TRANSFERS:
        return await _to_arbitration(
            session, ticket, principal, now, Action.dispatch, "re-dispatched 3 times"
        )
    old = common.changes_keys(ticket)
    before = common.move(ticket, Action.dispatch, Status.dispatched)
    if rerouted:
        ticket.transfer_count += 1
    await common.assign_to_unit(
        session,
        ticket,
        data.unit_code,
        assignee_id=data.assignee_id,
        calendar=calendar,
        now=now,
        method="manual",
        explanation=f"Dispatched by {principal.name}: {data.note}",
    )
    await common.record(
        session,
        ticket,
        "dispatched",
        principal,
        now=now,
        from_status=before,
        wake=old,
        details={
            "unit_code": ticket.unit_code,
            "grid_code": ticket.grid_code,
            "assignee_id": ticket.assignee_id,
            "method": "manual",
            "transfer_count": ticket.transfer_count,
            "note": data.note,
        },
    )
    return ticket


async def _to_arbitration(
    session: AsyncSession,
    ticket: Ticket,
    principal: Principal,
    now: datetime,
    action: Action,
    why: str,
) -> Ticket:
    old = common.changes_keys(ticket)
    before = common.move(ticket, action, Status.arbitration)
    if action is not Action.callback:
        ticket.transfer_count += 1
    await common.record(
        session,
        ticket,
        "arbitration",
        principal,
        now=now,
        from_status=before,
        wake=old,
        details={
            "reason": why,
            "transfer_count": ticket.transfer_count,
            "rework_count": ticket.rework_count,
        },
    )
    return ticket


async def _pending(session: AsyncSession, ticket: Ticket, kind: str) -> TicketRequest:
    request = await session.scalar(
        select(TicketRequest)
        .where(
            TicketRequest.ticket_id == ticket.id,
            TicketRequest.kind == kind,
            TicketRequest.status == "pending",
        )
        .with_for_update()
    )
    if request is None:
        raise Conflict(f"No {kind} request is pending on this ticket", state=ticket.status)
    return request


def _decide(
    request: TicketRequest, principal: Principal, approve: bool, note: str, now: datetime
) -> None:
    request.status = "approved" if approve else "rejected"
    request.decided_by_key_id = principal.key_id
    request.decided_at = now
    request.decision_note = note


async def decide_return(
    session: AsyncSession,
    ticket: Ticket,
    principal: Principal,
    data: schemas.ReturnDecisionIn,
    *,
    calendar: WorkCalendar,
    now: datetime,
) -> Ticket:
    """Approve (re-route to ``unit_code`` or back to triage, counting the transfer; the third
    transfer goes to arbitration) or reject (back to the same owner)."""
    common.require_role(principal, Role.dispatcher)
    if not data.approve:
        target = Status.dispatched
    elif ticket.transfer_count + 1 >= MAX_TRANSFERS:
        target = Status.arbitration
    else:
        target = Status.triage if data.unit_code is None else Status.dispatched
    old = common.changes_keys(ticket)
    common.ensure(ticket, Action.return_decision)
    request = await _pending(session, ticket, "return")
    _decide(request, principal, data.approve, data.note, now)
    if target is Status.arbitration:
        return await _to_arbitration(
            session, ticket, principal, now, Action.return_decision, "returned 3 times"
        )
    before = common.move(ticket, Action.return_decision, target)
    if not data.approve:
        await common.record(
            session,
            ticket,
            "return_rejected",
            principal,
            now=now,
            from_status=before,
            details={"request_id": request.id, "note": data.note},
        )
        return ticket
    ticket.transfer_count += 1
    if data.unit_code is None:
        ticket.unit_code = ticket.grid_code = ticket.assignee_id = None
        ticket.route = {
            "method": "triage",
            "unit_code": None,
            "grid_code": None,
            "assignee_id": None,
            "assignee_name": None,
            "rule_id": None,
            "explanation": f"Returned; back to triage: {data.note}",
            "candidates": [],
        }
    else:
        await common.assign_to_unit(
            session,
            ticket,
            data.unit_code,
            assignee_id=None,
            calendar=calendar,
            now=now,
            method="manual",
            explanation=f"Return approved by {principal.name}: {data.note}",
        )
    await common.record(
        session,
        ticket,
        "return_approved",
        principal,
        now=now,
        from_status=before,
        wake=old,
        details={
            "request_id": request.id,
            "unit_code": ticket.unit_code,
            "transfer_count": ticket.transfer_count,
            "note": data.note,
        },
    )
    return ticket


async def decide_extension(
    session: AsyncSession,
    ticket: Ticket,
    principal: Principal,
    data: schemas.ExtensionDecisionIn,
    *,
    calendar: WorkCalendar,
    now: datetime,
) -> Ticket:
    """Approve (possibly fewer days) or reject an extension; approval moves the reply
    deadline by that many working days."""
    common.require_role(principal, Role.dispatcher)
    before = common.move(ticket, Action.extension_decision)
    request = await _pending(session, ticket, "extension")
    days = min(data.days or request.days or 0, request.days or 0)
    _decide(request, principal, data.approve, data.note, now)
    if data.approve:
        deadlines.extend(ticket, calendar, days)
    await common.record(
        session,
        ticket,
        "extension_approved" if data.approve else "extension_rejected",
        principal,
        now=now,
        from_status=before,
        details={
            "request_id": request.id,
            "days": days if data.approve else 0,
            "reply_due_at": ticket.reply_due_at.isoformat() if ticket.reply_due_at else None,
            "note": data.note,
        },
    )
    return ticket


async def answer(
    session: AsyncSession,
    ticket: Ticket,
    principal: Principal,
    data: schemas.AnswerIn,
    *,
    now: datetime,
) -> Ticket:
    """Answered on the phone (直办): closes the ticket."""
    common.require_role(principal, Role.agent)
    old = common.changes_keys(ticket)
    before = common.move(ticket, Action.answer)
    ticket.close_reason = "answered"
    ticket.closed_at = now
    ticket.reply = {"text": data.text, "outcome": "answered", "at": now.isoformat()}
    await common.record(
        session,
        ticket,
        "answered",
        principal,
        now=now,
        from_status=before,
        wake=old,
        details={"text": data.text},
    )
    return ticket


async def callback(
    session: AsyncSession,
    ticket: Ticket,
    principal: Principal,
    data: schemas.CallbackIn,
    *,
    calendar: WorkCalendar,
    now: datetime,
) -> Ticket:
    """Call the citizen back (回访). Not reached: stays replied. Satisfied or not the unit's
    fault: closed. Unsatisfied through the unit's fault: rework, back to the same owner with
    the rework count raised; the third rework is a difficult case and goes to arbitration."""
    common.require_role(principal, Role.agent)
    result = data.model_dump(mode="json") | {"at": now.isoformat()}
    ticket.callback_reached = data.reached
    ticket.callback_resolution = data.resolution.value if data.resolution else None
    ticket.callback_satisfaction = data.satisfaction.value if data.satisfaction else None
    if not data.reached:
        before = common.move(ticket, Action.callback, Status.replied)
        ticket.last_callback = result
        await common.record(
            session,
            ticket,
            "callback_unreached",
            principal,
            now=now,
            from_status=before,
            details=result,
        )
        return ticket
    rework = data.satisfaction == schemas.Satisfaction.unsatisfied and data.unit_at_fault
    if rework and ticket.rework_count + 1 >= MAX_REWORKS:
        # The third rework makes a difficult case (疑难件): the confirmation group takes it.
        ticket.last_callback = result
        ticket.rework_count += 1
        return await _to_arbitration(
            session, ticket, principal, now, Action.callback, "reworked 3 times"
        )
    target = Status.rework if rework else Status.closed
    before = common.move(ticket, Action.callback, target)
    ticket.last_callback = result
    if rework:
        ticket.rework_count += 1
        await deadlines.on_dispatch(session, ticket, calendar, now)
        action = "reworked"
    else:
        ticket.close_reason = "resolved"
        ticket.closed_at = now
        action = "closed"
    await common.record(
        session,
        ticket,
        action,
        principal,
        now=now,
        from_status=before,
        details=result | {"rework_count": ticket.rework_count},
    )
    return ticket


async def merge(
    session: AsyncSession,
    ticket: Ticket,
    principal: Principal,
    data: schemas.MergeIn,
    *,
    now: datetime,
) -> Ticket:
    """Merge a repeat (并单): this ticket closes as merged, the open older one records the
    extra caller."""
    common.require_role(principal, Role.agent)
    if data.into == ticket.id:
        raise Unprocessable("A ticket cannot be merged into itself", field="into")
    into = await session.scalar(select(Ticket).where(Ticket.id == data.into).with_for_update())
    if into is None:
        raise NotFound(f"No ticket {data.into}")
    if into.status == Status.closed:
        raise Conflict(
            f"Ticket {into.id} is closed; merge only into an open ticket", state=into.status
        )
    old = common.changes_keys(ticket)
    before = common.move(ticket, Action.merge)
    ticket.close_reason = "merged"
    ticket.closed_at = now
    ticket.merged_into_id = into.id
    into.extra_callers = [
        *into.extra_callers,
        {
            "ticket_id": ticket.id,
            "name": ticket.caller_name,
            "phone": ticket.caller_phone,
            "confidential": ticket.caller_confidential,
            "at": now.isoformat(),
        },
    ]
    await common.record(
        session,
        ticket,
        "merged",
        principal,
        now=now,
        from_status=before,
        wake=old,
        details={"into": into.id},
    )
    await common.record(
        session,
        into,
        "merge_received",
        principal,
        now=now,
        from_status=into.status,
        details={"from": ticket.id},
    )
    return ticket


async def close(
    session: AsyncSession,
    ticket: Ticket,
    principal: Principal,
    data: schemas.CloseIn,
    *,
    now: datetime,
) -> Ticket:
    """Close from triage what is not the hotline's: redirected to 110 or a legal channel, or
    terminated."""
    common.require_role(principal, Role.dispatcher)
    before = common.move(ticket, Action.close)
    ticket.close_reason = data.reason.value
    ticket.closed_at = now
    await common.record(
        session,
        ticket,
        "closed",
        principal,
        now=now,
        from_status=before,
        details={"reason": data.reason.value, "note": data.note},
    )
    return ticket
