"""What the call-takers see of a caller's history."""

from __future__ import annotations

from pydantic import BaseModel, Field

from hotline.kit.types import LocalTime
from hotline.ticket.schemas import Status, TicketPage


class LastTicket(BaseModel):
    id: int
    number: str
    created_at: LocalTime
    status: Status
    category: str


class CallerSummary(BaseModel):
    open: int = Field(description="The caller's tickets not closed")
    this_month: int = Field(description="Created this calendar month, in the county's zone")
    last_ticket: LastTicket | None = Field(description="The newest; null: none")


class CallerHistory(CallerSummary, TicketPage):
    phone: str = Field(description="The number asked for, normalised as intake stores it")
