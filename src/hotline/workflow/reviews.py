"""What the owner proposes and a dispatcher reviews before it takes effect:

staged answer (阶段性答复)  a matter that cannot be solved within its reply time: the plan
                            and the next check date; approved, the reply is due by that
                            date and the ticket stays open (counted as ``staged``)
termination (终止办理)       the caller cannot be reached, the appeal is unlawful, or it
                            repeats an answered one without new facts; approved, the
                            ticket closes as ``terminated``
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from hotline.auth.roles import Role
from hotline.errors import Unprocessable
from hotline.kit.clock import local_iso
from hotline.sla import deadlines
from hotline.ticket.models import Ticket
from hotline.ticket.schemas import Status
from hotline.workflow import actors, centre, common, schemas
from hotline.workflow.common import Act
from hotline.workflow.states import Action

OWNER_ONLY, OWNER_ONLY_EN = "只有工单的承办人可以进行此操作", "Only the ticket's owner may do this"


async def request_staged(act: Act, ticket: Ticket, data: schemas.StagedIn) -> Ticket:
    """The owner (or its unit's or rung's officer) proposes a staged answer."""
    common.require(actors.handles(act.principal, ticket), OWNER_ONLY, en=OWNER_ONLY_EN)
    today = act.now.astimezone(act.calendar.zone).date()
    if data.next_check <= today:
        raise Unprocessable(
            "下次检查日期 next_check 应晚于今天",
            en="next_check must be a later day",
            field="next_check",
        )
    before = common.move(ticket, Action.staged)
    await centre.no_pending(act, ticket, "staged")
    proposal = {"plan": data.plan, "next_check": data.next_check.isoformat()}
    await common.open_request(
        act, ticket, "staged", before, reason=data.plan, details=proposal, shown=proposal
    )
    return ticket


async def decide_staged(act: Act, ticket: Ticket, data: schemas.DecisionIn) -> Ticket:
    """A dispatcher approves (the reply is due by the end of the next check date) or rejects."""
    common.require_role(act.principal, Role.dispatcher)
    before = common.move(ticket, Action.staged_decision)
    request = await centre.decided(act, ticket, "staged", data)
    due_at: dict[str, object] = {}
    if data.approve:
        check = datetime.fromisoformat(str(request.details["next_check"])).date()
        due = datetime.combine(check + timedelta(days=1), time(), act.calendar.zone)
        ticket.staged = {
            "plan": request.details["plan"],
            "next_check": check.isoformat(),
            "approved_by": act.principal.name,
            "approved_at": local_iso(act.now),
        }
        ticket.staged_at = act.now
        ticket.reply_due_at = due
        ticket.reply_reminded_at = ticket.reply_overdue_at = None
        deadlines.reschedule(act.session, ticket)
        due_at["reply_due_at"] = local_iso(due)
    action = "staged_approved" if data.approve else "staged_rejected"
    await centre.record_decision(act, ticket, request, before, action, **due_at)
    return ticket


async def request_termination(act: Act, ticket: Ticket, data: schemas.TerminateIn) -> Ticket:
    """The owner (or its unit's or rung's officer) proposes to end the work (终止办理)."""
    common.require(actors.handles(act.principal, ticket), OWNER_ONLY, en=OWNER_ONLY_EN)
    before = common.move(ticket, Action.terminate)
    await centre.no_pending(act, ticket, "termination")
    await common.open_request(
        act, ticket, "termination", before, reason=data.reason, reason_code=data.reason_code.value
    )
    return ticket


async def decide_termination(act: Act, ticket: Ticket, data: schemas.DecisionIn) -> Ticket:
    """A dispatcher's review: approved, the ticket closes as terminated; rejected, work goes
    on."""
    common.require_role(act.principal, Role.dispatcher)
    common.ensure(ticket, Action.terminate_decision)
    request = await centre.decided(act, ticket, "termination", data)
    target = Status.closed if data.approve else Status(ticket.status)
    before = common.move(ticket, Action.terminate_decision, target)
    if data.approve:
        ticket.close_reason = "terminated"
        ticket.closed_at = act.now
        ticket.reply = {
            "text": request.reason,
            "outcome": "terminated",
            "reason_code": request.reason_code,
            "at": local_iso(act.now),
        }
    action = "terminated" if data.approve else "termination_rejected"
    await centre.record_decision(
        act, ticket, request, before, action, reason_code=request.reason_code
    )
    return ticket
