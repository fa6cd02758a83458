"""Levels: officers above the grid, a ladder per kind of owner with a clock on every rung,
rulings that hold with their co-handlers, the triage and ruling clocks, staged answers and
terminations, years of the working-day calendar kept in the database, and figures that count
merged duplicates and closures from triage apart.

- ``ladder_rung`` replaces ``ladder_step``: a ladder per track (grid, department, enterprise).
- ``co_handler``: the units a ruling names to co-handle a ticket, and their reports.
- ``calendar_year``: years set through ``PUT /v1/calendar/{year}``.
- ``ticket``: the rung clock, the triage and ruling clocks, the reply clock's start, the
  ruling in force, the staged answer.
- ``sla_policy``: the new clocks' defaults and the 30-minute sign clock of water, power, gas
  and heating by category.
- ``metric_day`` gets the new counts; the roll-up is emptied, to be rebuilt in full.

Revision ID: c4e7a1b93d20
Revises: b7c41e2f9a10
Create Date: 2026-12-01 17:00:00
"""

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c4e7a1b93d20"
down_revision: str | None = "b7c41e2f9a10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# (track, level, kind, name): escalation.ladder.
LADDER = [
    ("grid", 1, "village", "村/社区"),
    ("grid", 2, "township", "乡镇/街道"),
    ("grid", 3, "county", "县级督办"),
    ("grid", 4, "group", "疑难问题确责小组"),
    ("department", 1, "department", "部门负责人"),
    ("department", 2, "county", "县级督办"),
    ("department", 3, "group", "疑难问题确责小组"),
    ("enterprise", 1, "department", "承办单位负责人"),
    ("enterprise", 2, "line", "12345-9 专线主管单位"),
    ("enterprise", 3, "county", "县级督办"),
    ("enterprise", 4, "group", "疑难问题确责小组"),
]
OLD_LADDER = [
    (1, "village", "村/社区"),
    (2, "township", "乡镇/街道"),
    (3, "department", "县直部门"),
    (4, "group", "疑难问题确责小组"),
]
# (clock, urgency, category, level, amount, unit, note): DESIGN.md §6.
POLICIES = [
    *(
        ("sign", "normal", c, None, 30, "minutes", f"水电气热（{n}）：30分钟内签收")
        for c, n in (
            ("utility.water", "供水"),
            ("utility.power", "供电"),
            ("utility.gas", "供气"),
            ("utility.heating", "供暖"),
        )
    ),
    ("triage", None, None, None, 30, "minutes", "待派单：30分钟内派单（即时派单）"),
    ("ruling", None, None, None, 3, "working_days", "确责小组：3个工作日内裁定"),
    ("escalation", None, None, "village", 1, "working_days", "提级至村/社区：1个工作日内处置"),
    ("escalation", None, None, "township", 1, "working_days", "提级至乡镇/街道：1个工作日内处置"),
    ("escalation", None, None, "county", 1, "working_days", "县级督办：1个工作日内处置"),
    ("escalation", None, None, "department", 1, "working_days", "部门负责人：1个工作日内处置"),
    ("escalation", None, None, "line", 1, "working_days", "专线主管单位：1个工作日内处置"),
]
TICKET_TIMES = (
    "reply_started_at",
    "triage_started_at",
    "triage_due_at",
    "triage_reminded_at",
    "triage_overdue_at",
    "arbitration_at",
    "ruling_due_at",
    "ruling_reminded_at",
    "ruling_overdue_at",
    "escalated_at",
    "escalation_started_at",
    "escalation_due_at",
    "escalation_reminded_at",
    "escalation_overdue_at",
    "staged_at",
)
TICKET_CODES = ("escalation_track", "escalation_rung", "escalation_peak")
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
OLD_ROLLED = (
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
WAITING = ("open_sign_dated", "open_reply_dated")
# The old ladder's levels, as kinds of rung (for tickets escalated before this revision).
OLD_KINDS = {1: "village", 2: "township", 3: "department", 4: "group"}


def _metric_day(columns: Sequence[str]) -> None:
    op.create_table(
        "metric_day",
        sa.Column("dim", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in (*columns, *WAITING)),
        sa.PrimaryKeyConstraint("dim", "key", "day", name=op.f("pk_metric_day")),
    )
    op.create_index(op.f("ix_metric_day_day"), "metric_day", ["day"])


def _reset_rollup(columns: Sequence[str]) -> None:
    """The roll-up is a cache: emptied, it is rebuilt in full by the next refresh."""
    op.drop_index(op.f("ix_metric_day_day"), table_name="metric_day")
    op.drop_table("metric_day")
    _metric_day(columns)
    op.execute("DELETE FROM metric_bin")
    op.execute("UPDATE metric_state SET watermark = NULL")


def upgrade() -> None:
    op.create_table(
        "ladder_rung",
        sa.Column("track", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("track", "level", name=op.f("pk_ladder_rung")),
    )
    rung = sa.table(
        "ladder_rung", sa.column("track"), sa.column("level"), sa.column("kind"), sa.column("name")
    )
    op.bulk_insert(
        rung, [{"track": t, "level": lv, "kind": k, "name": n} for t, lv, k, n in LADDER]
    )
    op.drop_table("ladder_step")

    op.create_table(
        "co_handler",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("named_at", sa.DateTime(), nullable=False),
        sa.Column("reported_at", sa.DateTime(), nullable=True),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("reported_by_name", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_co_handler_ticket_id_ticket")
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"], ["unit.code"], name=op.f("fk_co_handler_unit_code_unit")
        ),
        sa.PrimaryKeyConstraint("ticket_id", "unit_code", name=op.f("pk_co_handler")),
    )
    op.create_index(op.f("ix_co_handler_unit_code"), "co_handler", ["unit_code"])

    op.create_table(
        "calendar_year",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holidays", JSON, nullable=False),
        sa.Column("workdays", JSON, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_calendar_year")),
    )

    # Plain ADD COLUMNs (no foreign keys): SQLite alters the table in place.
    for name in TICKET_TIMES:
        op.add_column("ticket", sa.Column(name, sa.DateTime(), nullable=True))
    for name in TICKET_CODES:
        op.add_column("ticket", sa.Column(name, sa.String(length=16), nullable=True))
    op.add_column("ticket", sa.Column("ruling", JSON, nullable=True))
    op.add_column("ticket", sa.Column("staged", JSON, nullable=True))
    op.create_index(op.f("ix_ticket_escalation_unit_code"), "ticket", ["escalation_unit_code"])

    # Tickets escalated on the old ladder keep their rung, as the new figures count it.
    for level, kind in OLD_KINDS.items():
        op.execute(
            sa.text(
                "UPDATE ticket SET escalation_peak = :kind, escalation_rung = :kind, "
                "escalation_track = 'grid' WHERE escalation_level = :level"
            ).bindparams(kind=kind, level=level)
        )
    op.execute("UPDATE ticket SET reply_started_at = signed_at WHERE signed_at IS NOT NULL")
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, co_handlers, updated_at FROM ticket WHERE designated")
    ).all()
    co = sa.table(
        "co_handler",
        sa.column("ticket_id"),
        sa.column("unit_code"),
        sa.column("named_at"),
        sa.column("report"),
    )
    named = []
    for ticket_id, units, at in rows:
        if isinstance(units, str):
            units = json.loads(units)
        named += [
            {"ticket_id": ticket_id, "unit_code": u, "named_at": at, "report": ""}
            for u in dict.fromkeys(units or [])
        ]
    if named:
        op.bulk_insert(co, named)

    now = datetime.now(UTC).replace(tzinfo=None)
    policy = sa.table(
        "sla_policy",
        *(
            sa.column(c)
            for c in (
                "clock",
                "urgency",
                "category_code",
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
                "category_code": cat,
                "level": lv,
                "amount": a,
                "unit": un,
                "note": n,
                "active": True,
                "created_at": now,
                "updated_at": now,
            }
            for c, u, cat, lv, a, un, n in POLICIES
        ],
    )
    _reset_rollup(ROLLED)


def downgrade() -> None:
    _reset_rollup(OLD_ROLLED)
    op.execute(
        "DELETE FROM sla_policy WHERE clock IN ('triage', 'ruling', 'escalation') "
        "OR (clock = 'sign' AND category_code IN "
        "('utility.water', 'utility.power', 'utility.gas', 'utility.heating'))"
    )
    op.drop_index(op.f("ix_ticket_escalation_unit_code"), table_name="ticket")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        for name in ("staged", "ruling", *TICKET_CODES, *TICKET_TIMES):
            batch_op.drop_column(name)
    op.drop_table("calendar_year")
    op.drop_index(op.f("ix_co_handler_unit_code"), table_name="co_handler")
    op.drop_table("co_handler")
    op.create_table(
        "ladder_step",
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("unit_kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.PrimaryKeyConstraint("level", name=op.f("pk_ladder_step")),
    )
    step = sa.table("ladder_step", sa.column("level"), sa.column("unit_kind"), sa.column("name"))
    op.bulk_insert(step, [{"level": lv, "unit_kind": k, "name": n} for lv, k, n in OLD_LADDER])
    op.drop_table("ladder_rung")
