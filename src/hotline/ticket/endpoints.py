"""HTTP for reading tickets: lists, one ticket, the timeline, the category catalogue (new
tickets: hotline.intake)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hotline.audit.dependencies import AuditedReads
from hotline.auth.dependencies import AnyRole, TicketReader
from hotline.db.session import ReadSession
from hotline.errors import Forbidden, NotFound, Unauthenticated, Unprocessable, responses
from hotline.kit import cursor as cursors
from hotline.kit.clock import Now
from hotline.org import repository as org_repository
from hotline.org.schemas import CategoryRead
from hotline.ticket import repository, visibility
from hotline.ticket.dependencies import ReadableTicket
from hotline.ticket.schemas import (
    Actor,
    EventRead,
    TicketFilters,
    TicketPage,
    TicketRead,
)
from hotline.ticket.visibility import present

router = APIRouter(prefix="/v1", tags=["tickets"])


@router.get(
    "/tickets",
    response_model=TicketPage,
    summary="List tickets, newest first",
    responses=responses(Unauthenticated, Forbidden, Unprocessable),
)
async def list_tickets(
    session: ReadSession,
    principal: TicketReader,
    filters: Annotated[TicketFilters, Query()],
    reads: AuditedReads,
    now: Now,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> TicketPage:
    """Keyset-paged: pass `next_cursor` back as `cursor`. Filters combine with AND; `status`
    takes several (`status=signed,rework` or repeated). Field roles see only what concerns
    them: a worker their grid, a member their department, an officer their unit's tickets and
    those of the units below it; each also what their unit co-handles."""
    after = cursors.instant_and_id(cursor, kind="tickets")
    rows = await repository.page(
        session, filters, limit=limit, after=after, visible=visibility.scope(principal), now=now
    )
    kept, next_cursor = cursors.page(
        rows, limit, kind="tickets", key=lambda t: [t.created_at.isoformat(), t.id]
    )
    items = [present(principal, t) for t in kept]
    await reads.record(items)
    return TicketPage(items=items, next_cursor=next_cursor)


@router.get(
    "/tickets/{ticket_id}",
    response_model=TicketRead,
    summary="Read one ticket",
    responses=responses(Unauthenticated, Forbidden, NotFound),
)
async def read_ticket(
    principal: TicketReader, ticket: ReadableTicket, reads: AuditedReads
) -> TicketRead:
    """Reading a caller's unmasked phone is recorded (GET /v1/audit/pii-reads)."""
    read = present(principal, ticket)
    await reads.record([read])
    return read


@router.get(
    "/tickets/{ticket_id}/events",
    response_model=list[EventRead],
    summary="The ticket's timeline, oldest first",
    responses=responses(Unauthenticated, Forbidden, NotFound),
)
async def ticket_events(
    session: ReadSession, principal: TicketReader, ticket: ReadableTicket
) -> list[EventRead]:
    """Every change as an append-only event: who, what, when, from-state, to-state, details."""
    return [
        EventRead(
            id=e.id,
            at=e.at,
            actor=Actor(role=e.actor_role, name=e.actor_name),
            action=e.action,
            from_status=e.from_status,
            to_status=e.to_status,
            details=e.details,
        )
        for e in await repository.events(session, ticket.id)
    ]


@router.get(
    "/categories",
    response_model=list[CategoryRead],
    summary="The category catalogue",
    tags=["catalogue"],
    responses=responses(Unauthenticated),
)
async def list_categories(
    session: ReadSession,
    principal: AnyRole,
    inactive: Annotated[
        bool, Query(description="Deactivated categories too (`active` false)")
    ] = False,
) -> list[CategoryRead]:
    """The categories offered for new tickets; `inactive=true` adds the deactivated ones,
    which their tickets keep. Admins change them with POST and PATCH /v1/categories."""
    rows = await org_repository.categories(session, everything=inactive)
    return [CategoryRead.model_validate(c) for c in rows]
