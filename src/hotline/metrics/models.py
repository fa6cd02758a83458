"""The daily roll-up of the dashboard's figures (docs/metrics.md, "How the figures are kept").

    metric_day    per county creation day and one dimension value (``dim`` = all, township,
                  category, line, kind or urgency; ``key`` = its code, '' for none):
                  the time-independent counts of ``formulas.counts``
    metric_bin    per day, dimension value, duration (sign, close) and histogram bin: how many
                  tickets, the sum of their durations in µs, the least and the greatest
    metric_state  the change number through which the roll-up is complete (one row)

Plus indexes on ``ticket``: the open tickets by deadline (overdue now) and, on PostgreSQL, each
duration with the creation time (the exact 90th percentile).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Double,
    Index,
    Integer,
    String,
    Table,
    and_,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base
from hotline.ticket.models import Ticket as T

# The counts of formulas.counts that do not depend on `now`, in that order.
ROLLED = (
    "received",
    "merged",
    "dispatched",
    "answered_directly",
    "closed",
    "completed",
    "redirected",
    "terminated",
    "backlog",
    "signed",
    "signed_on_time",
    "replied",
    "replied_on_time",
    "callbacks_reached",
    "resolved",
    "satisfied",
    "returned",
    "reworked",
    "escalated",
    "ruled",
    "supervised",
    "staged",
    "escalated_village",
    "escalated_department",
    "escalated_township",
    "escalated_line",
    "escalated_county",
    "escalated_group",
)
# Counts that depend on `now`: overdue_now = the open tickets with a deadline (kept, below)
# minus those whose deadline is still ahead (live, through the deadline indexes: few).
LIVE = ("overdue_now",)
WAITING = {
    "open_sign_dated": and_(T.status.in_(("dispatched", "rework")), T.sign_due_at.is_not(None)),
    "open_reply_dated": and_(T.status == "signed", T.reply_due_at.is_not(None)),
}

# Keyed dimension value first: a query reads one value's run of days. A refresh deletes by day.
metric_day = Table(
    "metric_day",
    Base.metadata,
    Column("dim", String(16), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("day", Date, primary_key=True, index=True),
    *(Column(name, Integer, nullable=False) for name in (*ROLLED, *WAITING)),
)

metric_bin = Table(
    "metric_bin",
    Base.metadata,
    Column("dim", String(16), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("measure", String(8), primary_key=True),
    Column("day", Date, primary_key=True, index=True),
    Column("bin", Integer, primary_key=True),
    Column("n", Integer, nullable=False),
    Column("total_us", BigInteger, nullable=False),
    Column("least", Double, nullable=False),
    Column("greatest", Double, nullable=False),
)


class MetricState(Base):
    __tablename__ = "metric_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Every change numbered ≤ watermark is in the roll-up; null until the first full build.
    watermark: Mapped[int | None] = mapped_column(BigInteger)
    refreshed_at: Mapped[datetime | None]
    built_on: Mapped[date | None]


# The open tickets by deadline, for the part of overdue_now whose deadline is still ahead:
# small (open tickets only), and what lets that count skip the period's open tickets.
Index(
    "ix_ticket_sign_due_open",
    T.sign_due_at,
    postgresql_where=text("status IN ('dispatched', 'rework')"),
    sqlite_where=text("status IN ('dispatched', 'rework')"),
)
Index(
    "ix_ticket_reply_due_open",
    T.reply_due_at,
    postgresql_where=text("status = 'signed'"),
    sqlite_where=text("status = 'signed'"),
)

# The exact 90th percentile reads the few tickets of one histogram bin in duration order
# (service._p90): PostgreSQL only, SQLite scans the period.
DURATIONS = {
    "sign": (T.signed_at, T.dispatched_at),
    "close": (T.closed_at, T.created_at),
}
# Partial: only finished durations are read, and open tickets (which the sweeper rewrites)
# then cost these indexes nothing.
for _measure, (_later, _earlier) in DURATIONS.items():
    Index(
        f"ix_ticket_{_measure}_seconds",
        func.extract("epoch", _later - _earlier),
        T.created_at,
        postgresql_where=and_(_later.is_not(None), _earlier.is_not(None)),
    ).ddl_if(dialect="postgresql")
