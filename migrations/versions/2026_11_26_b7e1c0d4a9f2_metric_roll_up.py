"""Metric roll-up: the daily counts and duration histograms per dimension value, the change
number they are complete through, and the indexes of the figures computed live.

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
OPEN = "status IN ('dispatched', 'rework', 'signed')"


def upgrade() -> None:
    op.create_table(
        "metric_day",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dim", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in ROLLED),
        sa.PrimaryKeyConstraint("day", "dim", "key", name=op.f("pk_metric_day")),
    )
    op.create_table(
        "metric_bin",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dim", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("measure", sa.String(length=8), nullable=False),
        sa.Column("bin", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("total_us", sa.BigInteger(), nullable=False),
        sa.Column("least", sa.Double(), nullable=False),
        sa.Column("greatest", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("day", "dim", "key", "measure", "bin", name=op.f("pk_metric_bin")),
    )
    op.create_table(
        "metric_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watermark", sa.BigInteger(), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(), nullable=True),
        sa.Column("built_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_state")),
    )
    op.create_index(
        "ix_ticket_open_created_at",
        "ticket",
        ["created_at"],
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
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_ticket_sign_seconds ON ticket "
            "(EXTRACT(epoch FROM signed_at - dispatched_at), created_at)"
        )
        op.execute(
            "CREATE INDEX ix_ticket_close_seconds ON ticket "
            "(EXTRACT(epoch FROM closed_at - created_at), created_at)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_ticket_close_seconds", table_name="ticket")
        op.drop_index("ix_ticket_sign_seconds", table_name="ticket")
    op.drop_index("ix_ticket_open_created_at", table_name="ticket")
    op.drop_table("metric_state")
    op.drop_table("metric_bin")
    op.drop_table("metric_day")
