"""The dispatcher's queues: triage, and requests waiting for a decision."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Principal
from hotline.ticket import repository as ticket_repository
from hotline.ticket.models import Ticket
from hotline.ticket.visibility import present
from hotline.workflow import repository
from hotline.workflow.schemas import RequestPage, RequestRead


async def triage(session: AsyncSession, limit: int) -> Sequence[Ticket]:
    return await ticket_repository.triage(session, limit)


async def pending(
    session: AsyncSession, principal: Principal, kind: str, limit: int
) -> RequestPage:
    rows = await repository.pending(session, kind, limit)
    return RequestPage(
        items=[
            RequestRead(
                id=r.id,
                kind=r.kind,
                status=r.status,
                reason_code=r.reason_code,
                reason=r.reason,
                days=r.days,
                requested_at=r.requested_at,
                ticket=present(principal, t),
            )
            for r, t in rows
        ]
    )
