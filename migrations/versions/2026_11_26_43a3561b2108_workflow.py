"""Workflow: whistles and summons, return and extension requests, the change counter, the
record of personal-data reads, and the ticket's workflow columns and deadlines.

Revision ID: 43a3561b2108
Revises: 99b9a10ca880
Create Date: 2026-11-26 06:30:44.022310
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "43a3561b2108"
down_revision: str | None = "99b9a10ca880"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_counter")),
    )
    op.bulk_insert(
        sa.table("change_counter", sa.column("id"), sa.column("value")), [{"id": 1, "value": 0}]
    )
    op.create_table(
        "pii_read",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_key_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sa.String(length=16), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("path", sa.String(length=200), nullable=False),
        sa.Column("ticket_ids", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_key_id"], ["api_key.id"], name=op.f("fk_pii_read_actor_key_id_api_key")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pii_read")),
    )
    with op.batch_alter_table("pii_read", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pii_read_at"), ["at"], unique=False)

    op.create_table(
        "ticket_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.Column("requested_by_key_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by_key_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_key_id"],
            ["api_key.id"],
            name=op.f("fk_ticket_request_decided_by_key_id_api_key"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_key_id"],
            ["api_key.id"],
            name=op.f("fk_ticket_request_requested_by_key_id_api_key"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_staff_id"],
            ["staff.id"],
            name=op.f("fk_ticket_request_requested_by_staff_id_staff"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_ticket_request_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_request")),
    )
    with op.batch_alter_table("ticket_request", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_request_kind_status", ["kind", "status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ticket_request_ticket_id"), ["ticket_id"], unique=False
        )

    op.create_table(
        "whistle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_staff_id"], ["staff.id"], name=op.f("fk_whistle_by_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_whistle_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whistle")),
    )
    with op.batch_alter_table("whistle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_whistle_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "summons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("whistle_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("unit_code", sa.String(length=32), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("reported_at", sa.DateTime(), nullable=True),
        sa.Column("reported_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["reported_by_staff_id"],
            ["staff.id"],
            name=op.f("fk_summons_reported_by_staff_id_staff"),
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_summons_staff_id_staff")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_summons_ticket_id_ticket")
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"], ["unit.code"], name=op.f("fk_summons_unit_code_unit")
        ),
        sa.ForeignKeyConstraint(
            ["whistle_id"], ["whistle.id"], name=op.f("fk_summons_whistle_id_whistle")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_summons")),
    )
    with op.batch_alter_table("summons", schema=None) as batch_op:
        batch_op.create_index("ix_summons_change_seq", ["change_seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_summons_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_summons_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_summons_ticket_id"), ["ticket_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_summons_unit_code"), ["unit_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_summons_whistle_id"), ["whistle_id"], unique=False)

    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("designated", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("rework_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("transfer_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("close_reason", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("possible_repeat_of_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reply", JSON, nullable=True))
        batch_op.add_column(sa.Column("last_callback", JSON, nullable=True))
        batch_op.add_column(
            sa.Column("extra_callers", JSON, nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("dispatched_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("signed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("replied_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("sign_due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("reply_due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("return_until", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("extension_days", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("change_seq", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.create_index(batch_op.f("ix_ticket_change_seq"), ["change_seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_reply_due_at"), ["reply_due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ticket_sign_due_at"), ["sign_due_at"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_ticket_possible_repeat_of_id_ticket"),
            "ticket",
            ["possible_repeat_of_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_ticket_merged_into_id_ticket"), "ticket", ["merged_into_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_ticket_merged_into_id_ticket"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_ticket_possible_repeat_of_id_ticket"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_ticket_sign_due_at"))
        batch_op.drop_index(batch_op.f("ix_ticket_reply_due_at"))
        batch_op.drop_index(batch_op.f("ix_ticket_change_seq"))
        batch_op.drop_column("change_seq")
        batch_op.drop_column("extension_days")
        batch_op.drop_column("return_until")
        batch_op.drop_column("reply_due_at")
        batch_op.drop_column("sign_due_at")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("replied_at")
        batch_op.drop_column("signed_at")
        batch_op.drop_column("dispatched_at")
        batch_op.drop_column("extra_callers")
        batch_op.drop_column("last_callback")
        batch_op.drop_column("reply")
        batch_op.drop_column("possible_repeat_of_id")
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("close_reason")
        batch_op.drop_column("transfer_count")
        batch_op.drop_column("rework_count")
        batch_op.drop_column("designated")

    with op.batch_alter_table("summons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_summons_whistle_id"))
        batch_op.drop_index(batch_op.f("ix_summons_unit_code"))
        batch_op.drop_index(batch_op.f("ix_summons_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_summons_staff_id"))
        batch_op.drop_index(batch_op.f("ix_summons_due_at"))
        batch_op.drop_index("ix_summons_change_seq")

    op.drop_table("summons")
    with op.batch_alter_table("whistle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_whistle_ticket_id"))

    op.drop_table("whistle")
    with op.batch_alter_table("ticket_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_request_ticket_id"))
        batch_op.drop_index("ix_ticket_request_kind_status")

    op.drop_table("ticket_request")
    with op.batch_alter_table("pii_read", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pii_read_at"))

    op.drop_table("pii_read")
    op.drop_table("change_counter")
