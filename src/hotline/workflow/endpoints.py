"""HTTP for the workflow: one POST per action, and the dispatcher's queues."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.audit import service as audit
from hotline.auth.dependencies import AnyRole, CentreReader
from hotline.auth.service import Principal
from hotline.db.session import ReadSession, Session
from hotline.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    Unauthenticated,
    Unprocessable,
    responses,
)
from hotline.kit.clock import utcnow
from hotline.ticket.models import Ticket
from hotline.ticket.schemas import TicketRead
from hotline.ticket.visibility import present
from hotline.workflow import assignments as assignments_service
from hotline.workflow import centre, common, field, queues, schemas

router = APIRouter(prefix="/v1", tags=["workflow"])
ACTION_PROBLEMS = responses(
    Unauthenticated, Forbidden, NotFound, Conflict, PreconditionFailed, Unprocessable
)


def _version(value: str | None) -> int | None:
    if value is None:
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise Unprocessable('If-Match must be the ticket\'s version, e.g. "3"', field="If-Match")
    return int(raw)


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=32,
        description="The version you acted on; a newer ticket answers 412",
    ),
]
Handler = Callable[[AsyncSession, Ticket, Principal, Any, Request], Awaitable[Ticket]]


async def act(
    session: AsyncSession,
    ticket_id: int,
    principal: Principal,
    if_match: str | None,
    run: Callable[[Ticket], Awaitable[Ticket]],
) -> TicketRead:
    ticket = await common.locked(session, ticket_id, principal, _version(if_match))
    read = present(principal, await run(ticket))
    # The answer hands the actor the ticket, caller included where they may see it: recorded.
    audit.note(session, principal, f"/v1/tickets/{ticket_id} (action)", [read], now=utcnow())
    return read


def _calendar(request: Request) -> Any:
    return request.app.state.calendar


DOC = (
    "State errors are 409 with the current `state`; a stale `If-Match` is 412; "
    "acting on a ticket that is not yours is 403."
)


@router.post(
    "/tickets/{ticket_id}/sign",
    response_model=TicketRead,
    responses=ACTION_PROBLEMS,
    summary="Sign for a ticket (签收)",
    description=DOC,
)
async def sign(
    ticket_id: int,
    data: schemas.SignIn,
    request: Request,
    session: Session,
    principal: AnyRole,
    if_match: IfMatch = None,
) -> TicketRead:
    return await act(
        session,
        ticket_id,
        principal,
        if_match,
        lambda t: field.sign(
            session, t, principal, data, calendar=_calendar(request), now=utcnow()
        ),
    )


@router.post(
    "/tickets/{ticket_id}/note",
    response_model=TicketRead,
    responses=ACTION_PROBLEMS,
    summary="Add a progress note",
    description=DOC,
)
async def note(
    ticket_id: int,
    data: schemas.NoteIn,
    session: Session,
    principal: AnyRole,
    if_match: IfMatch = None,
) -> TicketRead:
    return await act(
        session,
        ticket_id,
        principal,
        if_match,
        lambda t: field.note(session, t, principal, data, now=utcnow()),
    )


@router.post(
    "/tickets/{ticket_id}/whistle",
    response_model=TicketRead,
    responses=ACTION_PROBLEMS,
    summary="Blow the whistle (吹哨)",
    description=DOC,
)
async def whistle(
    ticket_id: int,
    data: schemas.WhistleIn,
    request: Request,
    session: Session,
    principal: AnyRole,
    if_match: IfMatch = None,
) -> TicketRead:
    return await act(
        session,
        ticket_id,
        principal,
        if_match,
        lambda t: field.whistle(
            session, t, principal, data, calendar=_calendar(request), now=utcnow()
        ),
    )


@router.post(
    "/tickets/{ticket_id}/report-in",
    response_model=TicketRead,
    responses=ACTION_PROBLEMS,
    summary="Report in to a whistle (报到)",
    description=DOC,
)
async def report_in(
    ticket_id: int,
    data: schemas.ReportIn,
    session: Session,
    principal: AnyRole,
    if_match: IfMatch = None,
) -> TicketRead:
    return await act(
        session,
        ticket_id,
        principal,
        if_match,
        lambda t: field.report_in(session, t, principal, data, now=utcnow()),
    )


@router.post(
    "/tickets/{ticket_id}/reply",
    response_model=TicketRead,
    responses=ACTION_PROBLEMS,
    summary="Reply: the work is done (答复)",
    description=DOC,
)
async def reply(
    ticket_id: int,
    data: schemas.ReplyIn,
    request: Request,
    session: Session,
    principal: AnyRole,
    if_match: IfMatch = None,
) -> TicketRead:
    return await act(
        session,
        ticket_id,
        principal,
        if_match,
        lambda t: field.reply(
            session, t, principal, data, calendar=_calendar(request), now=utcnow()
        ),
    )


@router.post(
    "/tickets/{ticket_id}/return",
    response_model=TicketRead,
    responses=ACTION_PROBLEMS,
    summary="Ask to return a ticket (退单)",
    description=DOC,
)
async def return_(
    ticket_id: int,
    data: schemas.ReturnIn,
    session: Session,
    principal: AnyRole,
    if_match: IfMatch = None,
) -> TicketRead:
    return await act(
        session,
        ticket_id,
        principal,
        if_match,
        lambda t: field.request_return(session, t, principal, data, now=utcnow()),
    )


@router.post(
    "/tickets/{ticket_id}/return-decision",
    response_model=TicketRead,
    responses=ACTION_PROBLEMS,
    summary="Decide a return (dispatcher)",
    description=DOC,
)
async def return_decision(
    ticket_id: int,
    data: schemas.ReturnDecisionIn,
    request: Request,
    session: Session,
    principal: AnyRole,
    if_match: IfMatch = None,
) -> TicketRead:
    return await act(
        session,
        ticket_id,
        principal,
        if_match,
        lambda t: centre.decide_return(
            session, t, principal, data, calendar=_calendar(request), now=utcnow()
        ),
    )


@router.post(
    "/tickets/{ticket_id}/extension",
    response_model=TicketRead,
    responses=ACTION_PROBLEMS,
    summary="Ask for more time (延期)",
    description=DOC,
)
async def extension(
    ticket_id: int,
    data: schemas.ExtensionIn,
    session: Session,
    principal: AnyRole,
    if_match: IfMatch = None,
) -> TicketRead:
    return await act(
        session,
        ticket_id,
        principal,
        if_match,
        lambda t: field.request_extension(session, t, principal, data, now=utcnow()),
    )


@router.post(
    "/tickets/{ticket_id}/extension-decision",
    response_model=TicketRead,
    responses=ACTION_PROBLEMS,
    summary="Decide an extension (dispatcher)",
    description=DOC,
)
async def extension_decision(
    ticket_id: int,
    data: schemas.ExtensionDecisionIn,
    request: Request,
    session: Session,
    principal: AnyRole,
    if_match: IfMatch = None,
) -> TicketRead:
    return await act(
        session,
        ticket_id,
        principal,
        if_match,
        lambda t: centre.decide_extension(
            session, t, principal, data, calendar=_calendar(request), now=utcnow()
        ),
    )


@router.post(
    "/tickets/{ticket_id}/dispatch",
    response_model=TicketRead,
    responses=ACTION_PROBLEMS,
    summary="Dispatch by hand (dispatcher)",
    description=DOC,
)
async def dispatch(
    ticket_id: int,
    data: schemas.DispatchIn,
    request: Request,
    session: Session,
    principal: AnyRole,
    if_match: IfMatch = None,
) -> TicketRead:
    return await act(
        session,
        ticket_id,
        principal,
        if_match,
        lambda t: centre.dispatch(
            session, t, principal, data, calendar=_calendar(request), now=utcnow()
        ),
    )


@router.post(
    "/tickets/{ticket_id}/answer",
    response_model=TicketRead,
    responses=ACTION_PROBLEMS,
    summary="Answered on the phone (直办, agent)",
    description=DOC,
)
async def answer(
    ticket_id: int,
    data: schemas.AnswerIn,
    session: Session,
    principal: AnyRole,
    if_match: IfMatch = None,
) -> TicketRead:
    return await act(
        session,
        ticket_id,
        principal,
        if_match,
        lambda t: centre.answer(session, t, principal, data, now=utcnow()),
    )


@router.post(
    "/tickets/{ticket_id}/callback",
    response_model=TicketRead,
    responses=ACTION_PROBLEMS,
    summary="Record a callback (回访, agent)",
    description=DOC,
)
async def callback(
    ticket_id: int,
    data: schemas.CallbackIn,
    request: Request,
    session: Session,
    principal: AnyRole,
    if_match: IfMatch = None,
) -> TicketRead:
    return await act(
        session,
        ticket_id,
        principal,
        if_match,
        lambda t: centre.callback(
            session, t, principal, data, calendar=_calendar(request), now=utcnow()
        ),
    )


@router.post(
    "/tickets/{ticket_id}/merge",
    response_model=TicketRead,
    responses=ACTION_PROBLEMS,
    summary="Merge a repeat into an open ticket (并单, agent)",
    description=DOC,
)
async def merge(
    ticket_id: int,
    data: schemas.MergeIn,
    session: Session,
    principal: AnyRole,
    if_match: IfMatch = None,
) -> TicketRead:
    return await act(
        session,
        ticket_id,
        principal,
        if_match,
        lambda t: centre.merge(session, t, principal, data, now=utcnow()),
    )


@router.post(
    "/tickets/{ticket_id}/close",
    response_model=TicketRead,
    responses=ACTION_PROBLEMS,
    summary="Close from triage: redirected or terminated (dispatcher)",
    description=DOC,
)
async def close(
    ticket_id: int,
    data: schemas.CloseIn,
    session: Session,
    principal: AnyRole,
    if_match: IfMatch = None,
) -> TicketRead:
    return await act(
        session,
        ticket_id,
        principal,
        if_match,
        lambda t: centre.close(session, t, principal, data, now=utcnow()),
    )


QUEUE = responses(Unauthenticated, Forbidden)


@router.get(
    "/triage",
    response_model=list[TicketRead],
    responses=QUEUE,
    summary="Tickets waiting for a dispatcher, oldest first",
)
async def triage(
    request: Request,
    session: ReadSession,
    principal: CentreReader,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[TicketRead]:
    items = [present(principal, t) for t in await queues.triage(session, limit)]
    await _audit(request, principal, items)
    return items


async def _audit(request: Request, principal: Principal, reads: list[TicketRead]) -> None:
    await audit.record_reads(
        request.app.state.sessionmaker, principal, request.url.path, reads, now=utcnow()
    )


@router.get(
    "/returns",
    response_model=schemas.RequestPage,
    responses=QUEUE,
    summary="Return requests waiting for a decision",
)
async def returns(
    request: Request,
    session: ReadSession,
    principal: CentreReader,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> schemas.RequestPage:
    page = await queues.pending(session, principal, "return", limit)
    await _audit(request, principal, [r.ticket for r in page.items])
    return page


@router.get(
    "/extensions",
    response_model=schemas.RequestPage,
    responses=QUEUE,
    summary="Extension requests waiting for a decision",
)
async def extensions(
    request: Request,
    session: ReadSession,
    principal: CentreReader,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> schemas.RequestPage:
    page = await queues.pending(session, principal, "extension", limit)
    await _audit(request, principal, [r.ticket for r in page.items])
    return page


@router.get(
    "/assignments",
    response_model=schemas.AssignmentPage,
    summary="Poll your tickets and whistles (workers and members)",
    responses={
        304: {"description": "Not modified: `If-None-Match` matched"},
        **responses(Unauthenticated, Forbidden, Unprocessable),
    },
)
async def assignments(
    request: Request,
    principal: AnyRole,
    since: Annotated[
        str | None, Query(max_length=512, description="A `cursor` from an earlier poll")
    ] = None,
    wait: Annotated[float, Query(ge=0, le=30, description="Seconds to hold the poll open")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match", max_length=200)] = None,
) -> Response:
    """Without `since`: every open ticket of your grid (worker) or department (member) and the
    whistles waiting for you. With `since`: only what changed after that cursor. With `wait`,
    an empty answer is held until something changes for you (in any API process) or the time
    runs out, then answered with an empty list. `ETag`/`If-None-Match` answer 304 when
    nothing changed."""
    result = await assignments_service.poll(
        request.app.state.sessionmaker,
        principal,
        since=since,
        wait=wait,
        limit=limit,
        if_none_match=if_none_match,
    )
    await audit.record_reads(
        request.app.state.sessionmaker,
        principal,
        request.url.path,
        [a.ticket for a in result.page.items],
        now=utcnow(),
    )
    headers = {"ETag": result.etag, "Cache-Control": "no-store"}
    if if_none_match is not None and if_none_match == result.etag:
        return Response(status_code=304, headers=headers)
    return Response(
        content=result.page.model_dump_json(), media_type="application/json", headers=headers
    )
