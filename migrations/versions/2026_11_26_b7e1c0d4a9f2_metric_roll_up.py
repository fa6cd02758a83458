"""Metric roll-up: the daily counts and duration histograms per dimension value, the change
number they are complete through, the open tickets by deadline (overdue now) and, on
PostgreSQL, an index per duration for the exact 90th percentile.

Revision ID: b7e1c0d4a9f2
Revises: 9daf8df2e6cb
Create Date: 2026-11-26 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e1c0d4a9f2"
down_revision: str | None = "9daf8df2e6cb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

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
# Open tickets with a deadline, for overdue_now (metrics.models.WAITING).
WAITING = ("open_sign_dated", "open_reply_dated")
OPEN_BY_DEADLINE = (
    ("ix_ticket_sign_due_open", "sign_due_at", "status IN ('dispatched', 'rework')"),
    ("ix_ticket_reply_due_open", "reply_due_at", "status = 'signed'"),
)


def upgrade() -> None:
    op.create_table(
        "metric_day",
        sa.Column("dim", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in (*ROLLED, *WAITING)),
        sa.PrimaryKeyConstraint("dim", "key", "day", name=op.f("pk_metric_day")),
    )
    op.create_index(op.f("ix_metric_day_day"), "metric_day", ["day"])
    op.create_table(
        "metric_bin",
        sa.Column("dim", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("measure", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bin", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total_us", sa.BigInteger(), nullable=False),
        sa.Column("least", sa.Double(), nullable=False),
        sa.Column("greatest", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("dim", "key", "measure", "day", "bin", name=op.f("pk_metric_bin")),
    )
    op.create_index(op.f("ix_metric_bin_day"), "metric_bin", ["day"])
    op.create_table(
        "metric_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watermark", sa.BigInteger(), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(), nullable=True),
        sa.Column("built_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_state")),
    )
    for name, column, where in OPEN_BY_DEADLINE:
        op.create_index(
            name,
            "ticket",
            [column],
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_ticket_sign_seconds ON ticket "
            "(EXTRACT(epoch FROM signed_at - dispatched_at), created_at) "
            "WHERE signed_at IS NOT NULL AND dispatched_at IS NOT NULL"
        )
        op.execute(
            "CREATE INDEX ix_ticket_close_seconds ON ticket "
            "(EXTRACT(epoch FROM closed_at - created_at), created_at) "
            "WHERE closed_at IS NOT NULL AND created_at IS NOT NULL"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_ticket_close_seconds", table_name="ticket")
        op.drop_index("ix_ticket_sign_seconds", table_name="ticket")
    for name, _, _ in OPEN_BY_DEADLINE:
        op.drop_index(name, table_name="ticket")
    op.drop_table("metric_state")
    op.drop_index(op.f("ix_metric_bin_day"), table_name="metric_bin")
    op.drop_table("metric_bin")
    op.drop_index(op.f("ix_metric_day_day"), table_name="metric_day")
    op.drop_table("metric_day")
