"""The dispatcher's queues: triage, and requests waiting for a decision."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Principal
from hotline.ticket.models import Ticket
from hotline.ticket.visibility import present
from hotline.workflow.models import TicketRequest
from hotline.workflow.schemas import RequestPage, RequestRead


async def triage(session: AsyncSession, limit: int) -> Sequence[Ticket]:
    rows = await session.scalars(
        select(Ticket).where(Ticket.status == "triage").order_by(Ticket.id).limit(limit)
    )
    return rows.all()


async def pending(
    session: AsyncSession, principal: Principal, kind: str, limit: int
) -> RequestPage:
    rows = await session.execute(
        select(TicketRequest, Ticket)
        .join(Ticket, Ticket.id == TicketRequest.ticket_id)
        .where(TicketRequest.kind == kind, TicketRequest.status == "pending")
        .order_by(TicketRequest.id)
        .limit(limit)
    )
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
