"""The answer to POST /v1/tickets: the ticket, and what the agent should know of its caller."""

from __future__ import annotations

from pydantic import Field

from hotline.caller.schemas import CallerSummary
from hotline.ticket.schemas import TicketRead


class TicketCreated(TicketRead):
    caller_history: CallerSummary | None = Field(
        description="The caller's tickets before this one (open: not closed now; this_month: "
        "of the month this one was created in); null when the ticket has no phone. A replay "
        "answers it as those tickets stand at the replay"
    )
