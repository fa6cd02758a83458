"""Time-limit policies and the years of the working-day calendar set through the API."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base, JSONType


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


class CalendarYear(Base):
    """A year of the working-day calendar set through the API: it replaces what the package
    and the calendar file know of that year, in every process."""

    __tablename__ = "calendar_year"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    holidays: Mapped[list[str]] = mapped_column(JSONType, default=list)
    workdays: Mapped[list[str]] = mapped_column(JSONType, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    # Raised by every write: the processes' caches compare the sum (sla.calendars).
    revision: Mapped[int] = mapped_column(default=1)
    updated_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime]
