"""HTTP for the workflow: one POST per action (the table below; workflow.routes makes the
endpoints), the dispatcher's queues, and the poll of the field."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from hotline.audit.dependencies import AuditedReads
from hotline.auth.dependencies import CentreReader, FieldActor
from hotline.auth.roles import FIELD, Role
from hotline.db.session import ReadSession
from hotline.errors import Forbidden, Unauthenticated, Unprocessable, responses
from hotline.ticket.schemas import TicketRead
from hotline.ticket.visibility import present
from hotline.workflow import assignments as assignments_service
from hotline.workflow import centre, field, queues, reviews, schemas
from hotline.workflow.routes import ActionRoute, add_action

router = APIRouter(prefix="/v1", tags=["workflow"])


ROUTED = (Role.worker, Role.member, Role.officer)
ACTIONS = (
    ActionRoute("sign", schemas.SignIn, field.sign, "Sign for a ticket (签收)", ROUTED),
    ActionRoute(
        "note", schemas.NoteIn, field.note, "Add a progress note", (*FIELD, Role.dispatcher)
    ),
    ActionRoute(
        "whistle",
        schemas.WhistleIn,
        field.whistle,
        "Blow the whistle (吹哨)",
        (Role.worker, Role.officer),
    ),
    ActionRoute(
        "report-in",
        schemas.ReportIn,
        field.report_in,
        "Report in to a whistle (报到)",
        (Role.member, Role.officer),
    ),
    ActionRoute("reply", schemas.ReplyIn, field.reply, "Reply: the work is done (答复)", FIELD),
    ActionRoute(
        "return", schemas.ReturnIn, field.request_return, "Ask to return a ticket (退单)", ROUTED
    ),
    ActionRoute(
        "return-decision",
        schemas.ReturnDecisionIn,
        centre.decide_return,
        "Decide a return (dispatcher)",
        (Role.dispatcher,),
    ),
    ActionRoute(
        "extension",
        schemas.ExtensionIn,
        field.request_extension,
        "Ask for more time (延期)",
        FIELD,
    ),
    ActionRoute(
        "extension-decision",
        schemas.ExtensionDecisionIn,
        centre.decide_extension,
        "Decide an extension (dispatcher)",
        (Role.dispatcher,),
    ),
    ActionRoute(
        "staged-answer",
        schemas.StagedIn,
        reviews.request_staged,
        "Propose a staged answer (阶段性答复): plan and next check date",
        FIELD,
    ),
    ActionRoute(
        "staged-answer-decision",
        schemas.DecisionIn,
        reviews.decide_staged,
        "Decide a staged answer (dispatcher)",
        (Role.dispatcher,),
    ),
    ActionRoute(
        "terminate",
        schemas.TerminateIn,
        reviews.request_termination,
        "Propose to end the work (终止办理), for a dispatcher's review",
        FIELD,
    ),
    ActionRoute(
        "terminate-decision",
        schemas.DecisionIn,
        reviews.decide_termination,
        "Review a termination (dispatcher): approved, the ticket closes as terminated",
        (Role.dispatcher,),
    ),
    ActionRoute(
        "co-report",
        schemas.CoReportIn,
        field.co_report,
        "Report a co-handler's part to the lead (协办报告)",
        FIELD,
        aliases=("co_report",),
    ),
    ActionRoute(
        "dispatch",
        schemas.DispatchIn,
        centre.dispatch,
        "Dispatch by hand (dispatcher)",
        (Role.dispatcher,),
    ),
    ActionRoute(
        "answer",
        schemas.AnswerIn,
        centre.answer,
        "Answered on the phone (直办, agent)",
        (Role.agent,),
    ),
    ActionRoute(
        "callback",
        schemas.CallbackIn,
        centre.callback,
        "Record a callback (回访, agent)",
        (Role.agent,),
    ),
    ActionRoute(
        "merge",
        schemas.MergeIn,
        centre.merge,
        "Merge a repeat into an open ticket (并单, agent)",
        (Role.agent,),
    ),
    ActionRoute(
        "close",
        schemas.CloseIn,
        centre.close,
        "Close from triage: redirected or terminated (dispatcher)",
        (Role.dispatcher,),
    ),
    ActionRoute(
        "category",
        schemas.CategoryIn,
        centre.recategorise,
        "Correct the category (dispatcher): state and owner stay",
        (Role.dispatcher,),
    ),
)
for _action in ACTIONS:
    add_action(router, _action)


QUEUE = responses(Unauthenticated, Forbidden)
QueueLimit = Annotated[int, Query(ge=1, le=500)]


@router.get(
    "/triage",
    response_model=list[TicketRead],
    responses=QUEUE,
    summary="Tickets waiting for a dispatcher, oldest first",
)
async def triage(
    session: ReadSession, principal: CentreReader, reads: AuditedReads, limit: QueueLimit = 100
) -> list[TicketRead]:
    items = [present(principal, t) for t in await queues.triage(session, limit)]
    await reads.record(items)
    return items


def _requests(path: str, kind: str, summary: str) -> None:
    async def endpoint(
        session: ReadSession, principal: CentreReader, reads: AuditedReads, limit: QueueLimit = 100
    ) -> schemas.RequestPage:
        page = await queues.pending(session, principal, kind, limit)
        await reads.record(r.ticket for r in page.items)
        return page

    endpoint.__name__ = path.replace("-", "_")
    router.get(f"/{path}", response_model=schemas.RequestPage, responses=QUEUE, summary=summary)(
        endpoint
    )


_requests("returns", "return", "Return requests waiting for a decision")
_requests("extensions", "extension", "Extension requests waiting for a decision")
_requests("staged-answers", "staged", "Staged answers (阶段性答复) waiting for a decision")
_requests("terminations", "termination", "Terminations (终止办理) waiting for review")


@router.get(
    "/assignments",
    response_model=schemas.AssignmentPage,
    summary="Poll your tickets and whistles (workers, members and officers)",
    responses={
        304: {"description": "Not modified: `If-None-Match` matched"},
        **responses(Unauthenticated, Forbidden, Unprocessable),
    },
)
async def assignments(
    request: Request,
    principal: FieldActor,
    reads: AuditedReads,
    since: Annotated[
        str | None, Query(max_length=512, description="A `cursor` from an earlier poll")
    ] = None,
    wait: Annotated[float, Query(ge=0, le=30, description="Seconds to hold the poll open")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match", max_length=200)] = None,
) -> Response:
    """Without `since`: every open ticket of your grid (worker), department (member) or unit
    (officer: those it owns, those escalated to it) and those your unit co-handles, with the
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
    await reads.record(a.ticket for a in result.page.items if a.ticket is not None)
    headers = {"ETag": result.etag, "Cache-Control": "no-store"}
    if if_none_match is not None and if_none_match == result.etag:
        return Response(status_code=304, headers=headers)
    return Response(
        content=result.page.model_dump_json(), media_type="application/json", headers=headers
    )


__all__ = ["ACTIONS"]
