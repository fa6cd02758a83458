"""The change counter, the configuration generation, and departures from a poller's scope."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base


class ChangeCounter(Base):
    """One row. Taking the next number locks it until commit, so numbers are handed out in
    commit order and a poller resuming after N can never miss a change numbered below N."""

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Departure(Base):
    """A ticket left someone's scope (a grid, a unit, a person): their next ``since`` poll says
    so once, so their list can drop it (workflow.assignments)."""

    __tablename__ = "ticket_departure"
    __table_args__ = (Index("ix_ticket_departure_key_change_seq", "key", "change_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"))
    key: Mapped[str] = mapped_column(String(48))
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)
