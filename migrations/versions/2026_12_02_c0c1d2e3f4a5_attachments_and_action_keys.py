"""Photo attachments of tickets, the answers of actions sent with an Idempotency-Key, and the
categories whose reply needs an ``after`` photo (issue 19).

Revision ID: c0c1d2e3f4a5
Revises: b0c1d2e3f4a5
Create Date: 2026-12-02 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c0c1d2e3f4a5"
down_revision: str | None = "b0c1d2e3f4a5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("storage_key", sa.String(length=64), nullable=False),
        sa.Column("original_format", sa.String(length=8), nullable=False),
        sa.Column("original_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("served_bytes", sa.Integer(), nullable=False),
        sa.Column("thumb_bytes", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=True),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("distance_m", sa.Double(), nullable=True),
        sa.Column("minutes_since_dispatch", sa.Integer(), nullable=True),
        sa.Column("flags", JSON, nullable=False),
        sa.Column("uploaded_by_key_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_by_role", sa.String(length=16), nullable=False),
        sa.Column("uploaded_by_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_attachment_ticket_id_ticket")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_key_id"],
            ["api_key.id"],
            name=op.f("fk_attachment_uploaded_by_key_id_api_key"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_staff_id"],
            ["staff.id"],
            name=op.f("fk_attachment_uploaded_by_staff_id_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_attachment_storage_key")),
    )
    op.create_index(
        op.f("ix_attachment_ticket_id_stage"), "attachment", ["ticket_id", "stage"], unique=False
    )
    op.create_table(
        "action_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_key.id"], name=op.f("fk_action_key_api_key_id_api_key")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_key")),
        sa.UniqueConstraint("api_key_id", "key", name=op.f("uq_action_key_api_key_id_key")),
    )
    op.create_index(op.f("ix_action_key_created_at"), "action_key", ["created_at"], unique=False)
    with op.batch_alter_table("category") as batch:
        batch.add_column(
            sa.Column(
                "requires_after_photo", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("category") as batch:
        batch.drop_column("requires_after_photo")
    op.drop_index(op.f("ix_action_key_created_at"), table_name="action_key")
    op.drop_table("action_key")
    op.drop_index(op.f("ix_attachment_ticket_id_stage"), table_name="attachment")
    op.drop_table("attachment")
