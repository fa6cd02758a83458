"""HTTP for escalation, the confirmation group and supervision."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from hotline.audit import service as audit
from hotline.auth.dependencies import AnyRole, Principal, require
from hotline.auth.roles import Role
from hotline.db.session import ReadSession, Session
from hotline.errors import Conflict, Forbidden, Unauthenticated, responses
from hotline.escalation import rulings
from hotline.escalation.schemas import DisputedTicket, EscalateIn, RulingIn, SuperviseIn
from hotline.escalation.service import Ladder, escalate
from hotline.kit.clock import utcnow
from hotline.ticket.schemas import TicketRead
from hotline.ticket.visibility import present
from hotline.workflow import common
from hotline.workflow.endpoints import ACTION_PROBLEMS, DOC, IfMatch, act

router = APIRouter(prefix="/v1", tags=["escalation"])
GroupReader = Annotated[Principal, Depends(require(Role.arbiter, Role.dispatcher, Role.admin))]


@router.get(
    "/arbitration",
    response_model=list[DisputedTicket],
    responses=responses(Unauthenticated, Forbidden),
    summary="Disputed and difficult tickets for the confirmation group",
)
async def arbitration(
    request: Request,
    session: ReadSession,
    principal: GroupReader,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DisputedTicket]:
    """Each with its history: who returned it and why, transfers, reworks, escalations."""
    entries = [
        DisputedTicket(ticket=present(principal, t), history=h)
        for t, h in await rulings.disputed(session, limit)
    ]
    await audit.record_reads(
        request.app.state.sessionmaker,
        principal,
        request.url.path,
        [e.ticket for e in entries],
        now=utcnow(),
    )
    return entries


@router.post(
    "/tickets/{ticket_id}/ruling",
    response_model=TicketRead,
    responses=ACTION_PROBLEMS,
    summary="Rule on ownership (确责, arbiter)",
    description=DOC,
)
async def ruling(
    ticket_id: int,
    data: RulingIn,
    request: Request,
    session: Session,
    principal: AnyRole,
    if_match: IfMatch = None,
) -> TicketRead:
    async def run(ticket: rulings.Ticket) -> rulings.Ticket:
        state = await request.app.state.routing.current(session)
        return await rulings.rule(
            session,
            ticket,
            principal,
            data,
            state=state,
            calendar=request.app.state.calendar,
            now=utcnow(),
        )

    return await act(session, ticket_id, principal, if_match, run)


@router.post(
    "/tickets/{ticket_id}/escalate",
    response_model=TicketRead,
    responses=ACTION_PROBLEMS,
    summary="Escalate one rung (提级)",
    description=DOC,
)
async def escalate_ticket(
    ticket_id: int,
    data: EscalateIn,
    request: Request,
    session: Session,
    principal: AnyRole,
    if_match: IfMatch = None,
) -> TicketRead:
    """The owner, or a dispatcher, sends the ticket one rung up the ladder: village, township,
    department, then the confirmation group (which moves it to arbitration)."""

    async def run(ticket: rulings.Ticket) -> rulings.Ticket:
        if not (common.is_owner(principal, ticket) or principal.role is Role.dispatcher):
            raise Forbidden("Only the ticket's owner or a dispatcher escalates it")
        common.ensure(ticket, common.Action.escalate)
        rungs = Ladder(session, await request.app.state.routing.current(session))
        old, now = common.changes_keys(ticket), utcnow()
        climbed = await escalate(
            rungs, ticket, reason=data.reason, trigger="request", actor=principal, now=now
        )
        if climbed is None:
            raise Conflict("The ticket is at the top of the ladder", state=ticket.status)
        await common.finish(session, ticket, now=now, wake=old)
        return ticket

    return await act(session, ticket_id, principal, if_match, run)


@router.post(
    "/tickets/{ticket_id}/supervise",
    response_model=TicketRead,
    responses=ACTION_PROBLEMS,
    summary="Supervise a ticket (督办, dispatcher)",
    description=DOC,
)
async def supervise(
    ticket_id: int,
    data: SuperviseIn,
    session: Session,
    principal: AnyRole,
    if_match: IfMatch = None,
) -> TicketRead:
    return await act(
        session,
        ticket_id,
        principal,
        if_match,
        lambda t: rulings.supervise(session, t, principal, data, now=utcnow()),
    )
