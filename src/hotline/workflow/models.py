"""Whistles and their summons, requests awaiting a dispatcher's decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base, JSONType


class Whistle(Base):
    """A grid worker blowing the whistle (吹哨) on a ticket."""

    __tablename__ = "whistle"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]


class Summons(Base):
    """One party a whistle summons: a dedicated member, or a department (any of its members
    may report in, 报到). Each has its own deadline."""

    __tablename__ = "summons"
    __table_args__ = (Index("ix_summons_change_seq", "change_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    whistle_id: Mapped[int] = mapped_column(ForeignKey("whistle.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("unit.code"), index=True)
    started_at: Mapped[datetime | None]
    due_at: Mapped[datetime] = mapped_column(index=True)
    reminded_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    reported_at: Mapped[datetime | None]
    reported_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    late: Mapped[bool | None]
    note: Mapped[str] = mapped_column(Text, default="")
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)

    def change_keys(self) -> set[str]:
        """Who the summons concerns (hotline.change): the member, or the department."""
        keys = {f"staff:{self.staff_id}"} if self.staff_id else set()
        return keys | ({f"unit:{self.unit_code}"} if self.unit_code else set())


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
