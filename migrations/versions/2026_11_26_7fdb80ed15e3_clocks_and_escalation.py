"""Clocks and escalation: time-limit policies (seeded with the defaults of DESIGN.md §6), the
escalation ladder, the sweeper's marks, escalation and supervision on the ticket.

Revision ID: 7fdb80ed15e3
Revises: 43a3561b2108
Create Date: 2026-11-26 06:37:40.161590
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7fdb80ed15e3"
down_revision: str | None = "43a3561b2108"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# (clock, urgency, line, level, amount, unit, note): DESIGN.md §6.
POLICIES = [
    ("sign", "emergency", None, None, 15, "minutes", "危及生命财产安全：15分钟内签收"),
    ("sign", "utility", None, None, 30, "minutes", "水电气热：30分钟内签收"),
    ("sign", None, None, None, 1, "working_days", "一般诉求：1个工作日内签收"),
    ("reply", None, None, None, 5, "working_days", "一般诉求：5个工作日内答复"),
    ("reply", None, "enterprise", None, 3, "working_days", "12345-9 迎且专线：3个工作日内答复"),
    ("report_in", None, None, "emergency", 30, "minutes", "紧急吹哨：30分钟内报到"),
    ("report_in", None, None, "key", 240, "minutes", "重点吹哨：4小时内报到"),
    ("report_in", None, None, None, 1, "working_days", "常规吹哨：1个工作日内报到"),
    ("return_window", None, None, None, 2, "working_days", "派单后2个工作日内可申请退单"),
    ("extension", None, None, None, 10, "working_days", "延期最多10个工作日，限一次"),
    ("callback", None, None, None, 2, "working_days", "答复后2个工作日内回访"),
]
LADDER = [
    (1, "village", "村/社区"),
    (2, "township", "乡镇/街道"),
    (3, "department", "县直部门"),
    (4, "group", "疑难问题确责小组"),
]


def upgrade() -> None:
    op.create_table(
        "ladder_step",
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("unit_kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("level", name=op.f("pk_ladder_step")),
    )
    op.create_table(
        "sla_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clock", sa.String(length=16), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("line", sa.String(length=16), nullable=True),
        sa.Column("category_code", sa.String(length=64), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policy")),
    )
    with op.batch_alter_table("sla_policy", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_policy_clock"), ["clock"], unique=False)

    now = datetime.now(UTC).replace(tzinfo=None)
    policy = sa.table(
        "sla_policy",
        *(
            sa.column(c)
            for c in (
                "clock",
                "urgency",
                "line",
                "level",
                "amount",
                "unit",
                "note",
                "active",
                "created_at",
                "updated_at",
            )
        ),
    )
    op.bulk_insert(
        policy,
        [
            {
                "clock": c,
                "urgency": u,
                "line": ln,
                "level": lv,
                "amount": a,
                "unit": un,
                "note": n,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for c, u, ln, lv, a, un, n in POLICIES
        ],
    )
    ladder = sa.table("ladder_step", sa.column("level"), sa.column("unit_kind"), sa.column("name"))
    op.bulk_insert(ladder, [{"level": lv, "unit_kind": k, "name": n} for lv, k, n in LADDER])

    with op.batch_alter_table("summons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("started_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reminded_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("overdue_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("next_check_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_summons_next_check_at"), ["next_check_at"], unique=False
        )

    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("callback_due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("deadline_policies", JSON, nullable=False, server_default=sa.text("'{}'"))
        )
        batch_op.add_column(
            sa.Column(
                "calendar_unknown_years", JSON, nullable=False, server_default=sa.text("'[]'")
            )
        )
        batch_op.add_column(sa.Column("sign_reminded_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("sign_overdue_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reply_reminded_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reply_overdue_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("callback_overdue_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("next_check_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("escalation_unit_code", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("co_handlers", JSON, nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("supervision", JSON, nullable=True))
        batch_op.create_index(
            batch_op.f("ix_ticket_next_check_at"), ["next_check_at"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_ticket_escalation_unit_code_unit"),
            "unit",
            ["escalation_unit_code"],
            ["code"],
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_ticket_escalation_unit_code_unit"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_ticket_next_check_at"))
        batch_op.drop_column("supervision")
        batch_op.drop_column("co_handlers")
        batch_op.drop_column("escalation_unit_code")
        batch_op.drop_column("escalation_level")
        batch_op.drop_column("next_check_at")
        batch_op.drop_column("callback_overdue_at")
        batch_op.drop_column("reply_overdue_at")
        batch_op.drop_column("reply_reminded_at")
        batch_op.drop_column("sign_overdue_at")
        batch_op.drop_column("sign_reminded_at")
        batch_op.drop_column("calendar_unknown_years")
        batch_op.drop_column("deadline_policies")
        batch_op.drop_column("callback_due_at")

    with op.batch_alter_table("summons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_summons_next_check_at"))
        batch_op.drop_column("next_check_at")
        batch_op.drop_column("overdue_at")
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("started_at")

    with op.batch_alter_table("sla_policy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_policy_clock"))

    op.drop_table("sla_policy")
    op.drop_table("ladder_step")
