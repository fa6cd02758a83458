"""HTTP for escalation, the confirmation group and supervision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from hotline.audit.dependencies import AuditedReads
from hotline.auth.dependencies import Principal, require
from hotline.auth.roles import FIELD, Role
from hotline.db.session import ReadSession
from hotline.errors import Conflict, Forbidden, Unauthenticated, responses
from hotline.escalation import rulings
from hotline.escalation.schemas import DisputedTicket, EscalateIn, RulingIn, SuperviseIn
from hotline.escalation.service import Ladder, escalate
from hotline.ticket.models import Ticket
from hotline.ticket.visibility import present
from hotline.workflow import actors, common
from hotline.workflow.common import Act
from hotline.workflow.routes import ActionRoute, add_action
from hotline.workflow.states import Action

router = APIRouter(prefix="/v1", tags=["escalation"])
GroupReader = Annotated[Principal, Depends(require(Role.arbiter, Role.dispatcher, Role.admin))]


@router.get(
    "/arbitration",
    response_model=list[DisputedTicket],
    responses=responses(Unauthenticated, Forbidden),
    summary="Disputed and difficult tickets for the confirmation group",
)
async def arbitration(
    session: ReadSession,
    principal: GroupReader,
    reads: AuditedReads,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DisputedTicket]:
    """Each with its history: who returned it and why, transfers, reworks, escalations."""
    entries = [
        DisputedTicket(ticket=present(principal, t), history=h)
        for t, h in await rulings.disputed(session, limit)
    ]
    await reads.record(e.ticket for e in entries)
    return entries


async def _escalate(act: Act, ticket: Ticket, data: EscalateIn) -> Ticket:
    """The owner, an officer of its unit or rung, or a dispatcher sends the ticket one rung up
    its ladder; an officer or a dispatcher may send it straight to the confirmation group."""
    p = act.principal
    common.require(
        actors.handles(p, ticket) or p.role is Role.dispatcher,
        "只有工单的承办人、其单位负责人或派单员可以上报",
        en="Only the ticket's owner, its unit's officers or a dispatcher escalate it",
    )
    common.require(
        not data.to_group or p.role in (Role.officer, Role.dispatcher),
        "只有单位负责人和派单员可以把工单提交确责小组",
        en="Only officers and dispatchers send a case to the confirmation group",
    )
    common.ensure(ticket, Action.escalate)
    rungs = Ladder(act.session, await act.state(), act.calendar)
    climbed = await escalate(
        rungs,
        ticket,
        reason=data.reason,
        trigger="request",
        actor=p,
        now=act.now,
        to_group=data.to_group,
    )
    if climbed is None:
        raise Conflict(
            "工单已上报到最高一级，不能再上报",
            en="The ticket is at the top of its ladder",
            state=ticket.status,
        )
    common.finish(act.session, ticket, now=act.now)
    return ticket


for _action in (
    ActionRoute(
        "ruling",
        RulingIn,
        rulings.rule,
        "Rule on ownership (确责, arbiter); a new ruling may move a designated ticket",
        (Role.arbiter,),
    ),
    ActionRoute(
        "escalate",
        EscalateIn,
        _escalate,
        "Escalate one rung (提级), or to the confirmation group",
        (*FIELD, Role.dispatcher),
    ),
    ActionRoute(
        "supervise",
        SuperviseIn,
        rulings.supervise,
        "Supervise a ticket (督办, dispatcher or county officer)",
        (Role.dispatcher, Role.officer),
    ),
):
    add_action(router, _action)
