"""Requests awaiting a dispatcher's decision (returns, extensions, staged answers,
terminations)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base, JSONType


class TicketRequest(Base):
    """A return (退单) or extension (延期) request awaiting a dispatcher's decision."""

    __tablename__ = "ticket_request"
    __table_args__ = (Index("ix_ticket_request_kind_status", "kind", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # return | extension
    status: Mapped[str] = mapped_column(String(16))  # pending | approved | rejected
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, default="")
    days: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    requested_by_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    requested_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    requested_at: Mapped[datetime]
    decided_by_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")
