"""suggestion models (issue 16): the versioned models every process serves, and what intake
suggested for each ticket posted without a category.

- ``suggestion_model``: one row per trained (or seed) model, its pickled blob, held-out figures
  and the active flag; ``hotline suggest use VERSION`` moves the flag. Indexed on ``active``:
  every process looks the active version up every few seconds.
- ``ticket_suggestion``: the top suggestion, its score, the top three and whether intake took
  it, keyed by the ticket; indexed on ``created_at`` for the figures of a period.

Revision ID: e0c1d2e3f4a5
Revises: d0c1d2e3f4a5
Create Date: 2026-12-02 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "e0c1d2e3f4a5"
down_revision: str | None = "d0c1d2e3f4a5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "suggestion_model",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("trained_at", sa.DateTime(), nullable=False),
        sa.Column("ticket_count", sa.Integer(), nullable=False),
        sa.Column("figures", JSON, nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("activated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_suggestion_model")),
    )
    op.create_index(
        op.f("ix_suggestion_model_active"), "suggestion_model", ["active"], unique=False
    )
    op.create_table(
        "ticket_suggestion",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("top3", JSON, nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_ticket_suggestion_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_suggestion")),
    )
    op.create_index(
        op.f("ix_ticket_suggestion_created_at"), "ticket_suggestion", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_ticket_suggestion_created_at"), table_name="ticket_suggestion")
    op.drop_table("ticket_suggestion")
    op.drop_index(op.f("ix_suggestion_model_active"), table_name="suggestion_model")
    op.drop_table("suggestion_model")
