"""HTTP for new tickets: POST /v1/tickets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status

from hotline.auth.dependencies import PresentedKey, bad_key
from hotline.auth.roles import Role
from hotline.errors import Conflict, Forbidden, Unauthenticated, Unprocessable, responses
from hotline.intake import service
from hotline.intake.schemas import TicketCreated
from hotline.kit.clock import Now
from hotline.ticket.schemas import TicketCreate
from hotline.ticket.visibility import present

router = APIRouter(prefix="/v1", tags=["tickets"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Retrying with the same key returns the first ticket instead of a second",
    ),
]


@router.post(
    "/tickets",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketCreated,
    summary="Create a ticket (agent)",
    responses=responses(Unauthenticated, Forbidden, Unprocessable, Conflict),
    # The key is checked inside intake's own statement, not by a role alias (intake.service).
    openapi_extra={"x-roles": [Role.agent.value]},
)
async def create_ticket(
    data: TicketCreate,
    request: Request,
    presented: PresentedKey,
    now: Now,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Post a citizen's appeal (an agent's key). It is routed at once and its first events
    written in the same transaction. A replay (same `Idempotency-Key`, or a known
    `external_id`) answers with the first ticket and the header `Idempotent-Replayed: true`.
    `caller_history` sums up the caller's earlier tickets (those before this one) for the
    agent still on the line."""
    try:
        result = await service.intake(
            request.app.state.sessionmaker,
            service.Caches.of(request.app.state),
            data,
            presented,
            idempotency_key=idempotency_key,
            phone_key=request.app.state.phone_key,
            now=now,
        )
    except Unauthenticated as refused:
        raise bad_key(request, refused) from None
    headers = {"Location": f"/v1/tickets/{result.ticket.id}"}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    # The answer is built as a TicketRead already: sent as it is, not validated a second time.
    read = present(result.principal, result.ticket)
    answer = TicketCreated.model_construct(**dict(read), caller_history=result.earlier)
    return Response(
        answer.model_dump_json(),
        status_code=status.HTTP_201_CREATED,
        media_type="application/json",
        headers=headers,
    )
