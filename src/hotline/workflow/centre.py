"""Actions of the hotline centre: dispatch, decide returns and extensions, answer directly,
call back, merge repeats, close what is not the hotline's. The decisions on staged answers and
terminations are in workflow.reviews."""

from __future__ import annotations

from hotline.auth.roles import Role
from hotline.change import pipeline
from hotline.errors import Conflict, NotFound, Unprocessable
from hotline.kit.clock import local_iso
from hotline.org.tree import KIND_NAMES
from hotline.routing import rules
from hotline.sla import deadlines
from hotline.suggestion import corrections
from hotline.ticket import repository as ticket_repository
from hotline.ticket.models import Ticket
from hotline.ticket.schemas import Status
from hotline.workflow import common, repository, schemas
from hotline.workflow.common import Act
from hotline.workflow.models import TicketRequest
from hotline.workflow.states import MAX_REWORKS, MAX_TRANSFERS, Action

# Units below the county a department-duty matter must not be pushed down to (DESIGN.md §4).
DOWN = ("grid", "village", "township")


async def _department_duty(act: Act, ticket: Ticket, unit_code: str, override: str | None) -> None:
    """409 naming the catalogue rule when a department-duty matter is sent down to a grid,
    village or township without an ``override_reason``."""
    state = await act.state()
    target = state.units.get(unit_code)
    if override or target is None or target.kind not in DOWN:
        return
    chain = state.chain(ticket.area_code) if ticket.area_code else ()
    rule = rules.pick_rule(
        state.rules, category=ticket.category_code, line=ticket.line, area_chain=chain
    )
    owner = state.units.get(rule.unit_code) if rule else None
    if rule is None or owner is None or owner.kind != "department":
        return
    raise Conflict(
        f"派单规则 {rule.id} 规定 {ticket.category_code} 由{owner.name}（{owner.code}）负责；"
        f"要派给{KIND_NAMES.get(target.kind, target.kind)} {unit_code}，需填写 override_reason",
        en=f"Catalogue rule {rule.id} makes {ticket.category_code} a duty of {owner.name} "
        f"({owner.code}); dispatching it to {target.kind} {unit_code} needs an override_reason",
        state=ticket.status,
        rule_id=rule.id,
    )


async def dispatch(act: Act, ticket: Ticket, data: schemas.DispatchIn) -> Ticket:
    """Route by hand: from triage, or re-route. A re-dispatch of a ticket nobody has signed
    counts as a transfer; the third goes to arbitration (确责) instead. A designated ticket
    stays where the ruling put it (409 naming the ruling)."""
    common.require_role(act.principal, Role.dispatcher)
    common.refuse_if_designated(ticket, "重新派遣", en="re-dispatched")
    common.ensure(ticket, Action.dispatch)
    if data.category is not None:  # the dispatcher's choice: a correction (suggestion)
        by = "triage" if ticket.status == Status.triage else "dispatch"
        change = await corrections.corrected(act.session, ticket, data.category, by)
        if change is not None:
            await act.record(ticket, "category_corrected", ticket.status, change)
    await _department_duty(act, ticket, data.unit_code, data.override_reason)
    rerouted = ticket.status != Status.triage and ticket.signed_at is None
    if rerouted and ticket.transfer_count + 1 >= MAX_TRANSFERS:
        return await to_arbitration(act, ticket, Action.dispatch, "re-dispatched 3 times")
    before = common.move(ticket, Action.dispatch, Status.dispatched)
    if rerouted:
        ticket.transfer_count += 1
    await common.assign_to_unit(
        act,
        ticket,
        data.unit_code,
        assignee_id=data.assignee_id,
        method="manual",
        explanation=f"Dispatched by {act.principal.name}: {data.note}",
    )
    await act.record(
        ticket,
        "dispatched",
        before,
        {
            "unit_code": ticket.unit_code,
            "grid_code": ticket.grid_code,
            "assignee_id": ticket.assignee_id,
            "method": "manual",
            "transfer_count": ticket.transfer_count,
            "note": data.note,
            **({"override_reason": data.override_reason} if data.override_reason else {}),
        },
    )
    return ticket


async def to_arbitration(act: Act, ticket: Ticket, action: Action, why: str) -> Ticket:
    """Hand the ticket to the confirmation group (its ruling clock starts)."""
    before = common.move(ticket, action, Status.arbitration)
    if action is not Action.callback:
        ticket.transfer_count += 1
    await deadlines.on_arbitration(act.session, ticket, act.calendar, act.now)
    await act.record(
        ticket,
        "arbitration",
        before,
        {
            "reason": why,
            "transfer_count": ticket.transfer_count,
            "rework_count": ticket.rework_count,
            "due_at": local_iso(ticket.ruling_due_at),
        },
    )
    return ticket


# The kinds of request a dispatcher decides, as people call them.
REQUEST_NAMES = {
    "return": "退单",
    "extension": "延期",
    "staged": "阶段性答复",
    "termination": "终止办理",
}


async def decided(act: Act, ticket: Ticket, kind: str, data: schemas.DecisionIn) -> TicketRequest:
    """The pending request of ``kind``, row-locked and decided as ``data`` says; 409 when none
    is pending."""
    request = await repository.pending_locked(act.session, ticket.id, kind)
    if request is None:
        raise Conflict(
            f"此工单没有待审核的{REQUEST_NAMES.get(kind, kind)}申请",
            en=f"No {kind} request is pending on this ticket",
            state=ticket.status,
        )
    request.status = "approved" if data.approve else "rejected"
    request.decided_by_key_id = act.principal.key_id
    request.decided_at = act.now
    request.decision_note = data.note
    return request


async def record_decision(
    act: Act, ticket: Ticket, request: TicketRequest, before: str, action: str, **details: object
) -> None:
    """The event of a ``decided`` request: its id, ``details``, then the decision's note."""
    shown = {"request_id": request.id, **details, "note": request.decision_note}
    await act.record(ticket, action, before, shown)


async def no_pending(act: Act, ticket: Ticket, kind: str) -> None:
    """409 while a request of this kind already waits for a decision."""
    waiting = await repository.request_in(act.session, ticket.id, kind, ("pending",))
    if waiting is not None:
        raise Conflict(
            f"已有一份{REQUEST_NAMES.get(kind, kind)}申请在等待审核",
            en=f"A {kind} request already waits for a decision",
            state=ticket.status,
        )


async def decide_return(act: Act, ticket: Ticket, data: schemas.ReturnDecisionIn) -> Ticket:
    """Approve (re-route to ``unit_code`` or back to triage, counting the transfer; the third
    transfer goes to arbitration) or reject (back to the same owner)."""
    common.require_role(act.principal, Role.dispatcher)
    if not data.approve:
        target = Status.dispatched
    elif ticket.transfer_count + 1 >= MAX_TRANSFERS:
        target = Status.arbitration
    else:
        target = Status.triage if data.unit_code is None else Status.dispatched
    common.ensure(ticket, Action.return_decision)
    request = await decided(act, ticket, "return", data)
    if target is Status.arbitration:
        return await to_arbitration(act, ticket, Action.return_decision, "returned 3 times")
    before = common.move(ticket, Action.return_decision, target)
    if not data.approve:
        await record_decision(act, ticket, request, before, "return_rejected")
        return ticket
    ticket.transfer_count += 1
    if data.unit_code is None:
        deadlines.leave_ladder(ticket)
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
        await deadlines.on_triage(act.session, ticket, act.calendar, act.now)
    else:
        await common.assign_to_unit(
            act,
            ticket,
            data.unit_code,
            method="manual",
            explanation=f"Return approved by {act.principal.name}: {data.note}",
        )
    await record_decision(
        act,
        ticket,
        request,
        before,
        "return_approved",
        unit_code=ticket.unit_code,
        transfer_count=ticket.transfer_count,
    )
    return ticket


async def decide_extension(act: Act, ticket: Ticket, data: schemas.ExtensionDecisionIn) -> Ticket:
    """Approve (possibly fewer days) or reject an extension; approval moves the reply
    deadline by that many working days."""
    common.require_role(act.principal, Role.dispatcher)
    before = common.move(ticket, Action.extension_decision)
    request = await decided(act, ticket, "extension", data)
    days = min(data.days or request.days or 0, request.days or 0)
    if data.approve:
        deadlines.extend(act.session, ticket, act.calendar, days)
    await record_decision(
        act,
        ticket,
        request,
        before,
        "extension_approved" if data.approve else "extension_rejected",
        days=days if data.approve else 0,
        reply_due_at=local_iso(ticket.reply_due_at),
    )
    return ticket


async def answer(act: Act, ticket: Ticket, data: schemas.AnswerIn) -> Ticket:
    """Answered on the phone (直办): closes the ticket."""
    common.require_role(act.principal, Role.agent)
    before = common.move(ticket, Action.answer)
    ticket.close_reason = "answered"
    ticket.closed_at = act.now
    ticket.reply = {"text": data.text, "outcome": "answered", "at": local_iso(act.now)}
    await act.record(ticket, "answered", before, {"text": data.text})
    return ticket


async def callback(act: Act, ticket: Ticket, data: schemas.CallbackIn) -> Ticket:
    """Call the citizen back (回访). Not reached: stays replied. Satisfied or not the unit's
    fault: closed. Unsatisfied through the unit's fault: rework, back to the same owner with
    the rework count raised and a reply deadline of its own; the third rework is a difficult
    case and goes to arbitration."""
    common.require_role(act.principal, Role.agent)
    result = data.model_dump(mode="json") | {"at": local_iso(act.now)}
    ticket.callback_reached = data.reached
    ticket.callback_resolution = data.resolution.value if data.resolution else None
    ticket.callback_satisfaction = data.satisfaction.value if data.satisfaction else None
    if not data.reached:
        before = common.move(ticket, Action.callback, Status.replied)
        ticket.last_callback = result
        await act.record(ticket, "callback_unreached", before, result)
        return ticket
    rework = data.satisfaction == schemas.Satisfaction.unsatisfied and data.unit_at_fault
    if rework and ticket.rework_count + 1 >= MAX_REWORKS:
        # The third rework makes a difficult case (疑难件): the confirmation group takes it.
        ticket.last_callback = result
        ticket.rework_count += 1
        return await to_arbitration(act, ticket, Action.callback, "reworked 3 times")
    target = Status.rework if rework else Status.closed
    before = common.move(ticket, Action.callback, target)
    ticket.last_callback = result
    if rework:
        ticket.rework_count += 1
        await deadlines.on_rework(act.session, ticket, act.calendar, act.now)
        action = "reworked"
    else:
        ticket.close_reason = "resolved"
        ticket.closed_at = act.now
        action = "closed"
    await act.record(ticket, action, before, result | {"rework_count": ticket.rework_count})
    return ticket


async def merge(act: Act, ticket: Ticket, data: schemas.MergeIn) -> Ticket:
    """Merge a repeat (并单): this ticket closes as merged, the open older one records the
    extra caller. A merged ticket is no ticket of its own in any figure."""
    common.require_role(act.principal, Role.agent)
    if data.into == ticket.id:
        raise Unprocessable(
            "工单不能并入它自己", en="A ticket cannot be merged into itself", field="into"
        )
    into = await ticket_repository.locked(act.session, data.into)
    if into is None:
        raise NotFound(f"没有编号为 {data.into} 的工单", en=f"No ticket {data.into}")
    pipeline.touch(act.session, into)
    if into.status == Status.closed:
        raise Conflict(
            f"工单 {into.id} 已办结，只能并入未办结的工单",
            en=f"Ticket {into.id} is closed; merge only into an open ticket",
            state=into.status,
        )
    before = common.move(ticket, Action.merge)
    ticket.close_reason = "merged"
    ticket.closed_at = act.now
    ticket.merged_into_id = into.id
    into.extra_callers = [
        *into.extra_callers,
        {
            "ticket_id": ticket.id,
            "name": ticket.caller_name,
            "phone": ticket.caller_phone,
            "confidential": ticket.caller_confidential,
            "at": local_iso(act.now),
        },
    ]
    await act.record(ticket, "merged", before, {"into": into.id})
    await act.record(into, "merge_received", into.status, {"from": ticket.id})
    return ticket


async def close(act: Act, ticket: Ticket, data: schemas.CloseIn) -> Ticket:
    """Close from triage what is not the hotline's: redirected to 110 or a legal channel, or
    terminated. Such a ticket never dispatched is in neither part of the completion rate."""
    common.require_role(act.principal, Role.dispatcher)
    common.refuse_if_designated(ticket, "在待派单中关闭", en="closed from triage")
    before = common.move(ticket, Action.close)
    ticket.close_reason = data.reason.value
    ticket.closed_at = act.now
    await act.record(ticket, "closed", before, {"reason": data.reason.value, "note": data.note})
    return ticket


async def recategorise(act: Act, ticket: Ticket, data: schemas.CategoryIn) -> Ticket:
    """Correct the category (a dispatcher), in any state: the state and the owner stay, the
    correction is a ``category_corrected`` event (what the suggestions learn from)."""
    common.require_role(act.principal, Role.dispatcher)
    change = await corrections.corrected(act.session, ticket, data.category, "recategorise")
    if change is None:
        raise Conflict(
            f"工单已是类别 {data.category}",
            en=f"The ticket already has category {data.category}",
            state=ticket.status,
        )
    await act.record(ticket, "category_corrected", ticket.status, change | {"note": data.note})
    return ticket
