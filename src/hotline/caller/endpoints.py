"""HTTP for caller history: GET /v1/callers/history (the call-takers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from hotline.audit.dependencies import AuditedReads
from hotline.auth.dependencies import require
from hotline.auth.roles import Role
from hotline.auth.service import Principal
from hotline.caller import service
from hotline.caller.schemas import CallerHistory
from hotline.db.session import ReadSession
from hotline.errors import Forbidden, Unauthenticated, Unprocessable, responses
from hotline.kit import cursor as cursors
from hotline.kit import phone as phones
from hotline.kit.clock import Now

router = APIRouter(prefix="/v1", tags=["callers"])

CallTaker = Annotated[Principal, Depends(require(Role.agent, Role.dispatcher))]


@router.get(
    "/callers/history",
    response_model=CallerHistory,
    summary="A caller's earlier tickets, newest first (agent, dispatcher)",
    responses=responses(Unauthenticated, Forbidden, Unprocessable),
)
async def caller_history(
    request: Request,
    session: ReadSession,
    principal: CallTaker,
    reads: AuditedReads,
    now: Now,
    phone: Annotated[str, Query(min_length=1, max_length=64)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> CallerHistory:
    """The tickets whose main caller has this phone (in any form intake accepts: `138 1234
    5678` finds `13812345678`; a number from abroad as given), keyset-paged like GET
    /v1/tickets, with `open` and `this_month` (the county's calendar month) counted over all of
    them. Found through the keyed phone hash; callers of tickets merged into another are not
    found. Confidential callers are shown (agents and dispatchers see them). Handing out the
    tickets' phones is recorded (GET /v1/audit/pii-reads)."""
    stored = service.stored_form(phone)
    if not stored:
        raise Unprocessable("需要电话号码", en="A phone number is needed", field="phone")
    digest = phones.keyed_hash(stored, request.app.state.phone_key)
    answer = await service.history(
        session,
        principal,
        stored,
        digest,
        limit=limit,
        after=cursors.instant_and_id(cursor, kind=service.CURSOR_KIND),
        now=now,
    )
    await reads.record(answer.items)
    return answer
