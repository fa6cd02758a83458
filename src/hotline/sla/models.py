"""Time-limit policies and the escalation ladder, as data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base


class Policy(Base):
    """A time limit for one clock. Empty selectors match anything; the most specific active
    policy wins (more selectors set, then the newer)."""

    __tablename__ = "sla_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    clock: Mapped[str] = mapped_column(String(16), index=True)
    urgency: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str | None] = mapped_column(String(16))
    line: Mapped[str | None] = mapped_column(String(16))
    category_code: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[str | None] = mapped_column(String(16))  # a whistle's level, for report-in
    amount: Mapped[int]
    unit: Mapped[str] = mapped_column(String(16))  # minutes | working_days
    note: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class LadderStep(Base):
    """One rung of the escalation ladder (提级): grid → village → township → department →
    confirmation group."""

    __tablename__ = "ladder_step"

    level: Mapped[int] = mapped_column(primary_key=True)
    unit_kind: Mapped[str] = mapped_column(String(16))  # village|township|department|group
    name: Mapped[str] = mapped_column(String(50))
