"""``ReadableTicket``: the ticket of the path, as its reader may see it (404 decided once)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from hotline.auth.dependencies import TicketReader
from hotline.db.session import ReadSession
from hotline.kit.types import Id
from hotline.ticket import service
from hotline.ticket.models import Ticket


async def readable_ticket(ticket_id: Id, session: ReadSession, principal: TicketReader) -> Ticket:
    """404 for a ticket that does not exist and for one the reader may not see: other grids'
    ids are not to be probed. The dashboard's role reads no ticket (403)."""
    return await service.readable_ticket(session, ticket_id, principal)


ReadableTicket = Annotated[Ticket, Depends(readable_ticket)]
