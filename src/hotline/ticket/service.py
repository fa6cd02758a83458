"""Reading a ticket: who may, and the 404 for who may not (ticket.visibility). New tickets are
made in hotline.intake."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.roles import Role
from hotline.auth.service import Principal
from hotline.errors import Forbidden, NotFound
from hotline.ticket import repository
from hotline.ticket.models import Ticket
from hotline.ticket.visibility import can_read

VIEWER_ZH = "看板用户只能查看统计数据，不能查看工单"
VIEWER_EN = "The dashboard role reads metrics, not tickets"


async def readable_ticket(session: AsyncSession, ticket_id: int, principal: Principal) -> Ticket:
    """The ticket if this principal may read it. A ticket they may not see is a 404 to a field
    role (no probing of other grids' ids) and a 403 to the viewer."""
    if principal.role is Role.viewer:
        raise Forbidden(VIEWER_ZH, en=VIEWER_EN)
    ticket = await repository.get(session, ticket_id)
    if ticket is None or not await readable(session, principal, ticket):
        raise NotFound(f"没有编号为 {ticket_id} 的工单", en=f"No ticket {ticket_id}")
    return ticket


async def readable(session: AsyncSession, principal: Principal, ticket: Ticket) -> bool:
    """ticket.visibility's rule, and a summoned member or officer reads the whistle's ticket."""
    if can_read(principal, ticket):
        return True
    summonable = principal.role in (Role.member, Role.officer)
    return summonable and await repository.summoned(
        session, ticket.id, principal.staff_id, principal.unit_code
    )
