"""The daily roll-up of the dashboard's figures (docs/metrics.md, "How the figures are kept").

    metric_day    per county creation day and one dimension value (``dim`` = all, township,
                  category, unit, line, kind or urgency; ``key`` = its code, '' for none):
                  the time-independent counts of ``formulas.counts``
    metric_bin    per day, dimension value, duration (sign, close) and histogram bin: how many
                  tickets, the sum of their durations in µs, the least and the greatest
    metric_state  the change number through which the roll-up is complete (one row)

Plus three indexes on ``ticket`` for the parts computed live: the open tickets (overdue now),
and on PostgreSQL each duration with the creation time (the exact 90th percentile).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Date, Double, Index, Integer, String, Table, func, text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base
from hotline.ticket.models import Ticket as T

# The counts of formulas.counts that do not depend on `now`, in that order.
ROLLED = (
    "received",
    "dispatched",
    "answered_directly",
    "closed",
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
    "escalated_to_1",
    "escalated_to_2",
    "escalated_to_3",
    "escalated_to_4",
)
# Counts that depend on `now`, always computed live over the open tickets.
LIVE = ("overdue_now",)
OPEN = ("dispatched", "rework", "signed")

metric_day = Table(
    "metric_day",
    Base.metadata,
    Column("day", Date, primary_key=True),
    Column("dim", String(16), primary_key=True),
    Column("key", String(64), primary_key=True),
    *(Column(name, Integer, nullable=False) for name in ROLLED),
)

metric_bin = Table(
    "metric_bin",
    Base.metadata,
    Column("day", Date, primary_key=True),
    Column("dim", String(16), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("measure", String(8), primary_key=True),
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


# Overdue-now is counted over the open tickets of the period: a small partial index that holds
# every column a filter or a breakdown may need, so the count never reads the table.
Index(
    "ix_ticket_open_created_at",
    T.created_at,
    postgresql_include=[
        "status",
        "sign_due_at",
        "reply_due_at",
        "township_code",
        "village_code",
        "area_code",
        "unit_code",
        "category_code",
        "line",
        "kind",
        "urgency",
    ],
    postgresql_where=text("status IN ('dispatched', 'rework', 'signed')"),
    sqlite_where=text("status IN ('dispatched', 'rework', 'signed')"),
)


# The exact 90th percentile reads the few tickets of one histogram bin in duration order
# (service._p90): PostgreSQL only, SQLite scans the period.
DURATIONS = {
    "sign": (T.signed_at, T.dispatched_at),
    "close": (T.closed_at, T.created_at),
}
for _measure, (_later, _earlier) in DURATIONS.items():
    Index(
        f"ix_ticket_{_measure}_seconds",
        func.extract("epoch", _later - _earlier),
        T.created_at,
    ).ddl_if(dialect="postgresql")
