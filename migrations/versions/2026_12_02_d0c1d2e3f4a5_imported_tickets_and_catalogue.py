"""Imported tickets and the managed category catalogue (issue 16).

- ``ticket.imported``: tickets brought by ``hotline tickets import`` (history: no clocks, no
  webhooks, left out of the metrics). ``ticket.external_id`` already has its unique constraint,
  which allows many NULLs on both databases. No index on ``imported``: the filter narrows a
  list already walked by (created_at, id), and the metrics read it beside other conditions.
- ``category.parent_code`` (the category above), ``duty_unit_code`` (the department on duty,
  kept as a catalogue rule too), ``default_urgency`` and ``updated_at``, for
  ``POST/PATCH /v1/categories``.

Revision ID: d0c1d2e3f4a5
Revises: c0c1d2e3f4a5
Create Date: 2026-12-02 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d0c1d2e3f4a5"
down_revision: str | None = "c0c1d2e3f4a5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (no foreign key): SQLite alters the ticket table in place.
    op.add_column(
        "ticket",
        sa.Column("imported", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    with op.batch_alter_table("category") as batch:
        batch.add_column(sa.Column("parent_code", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("duty_unit_code", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("default_urgency", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_category_parent_code_category"), "category", ["parent_code"], ["code"]
        )
        batch.create_foreign_key(
            op.f("fk_category_duty_unit_code_unit"), "unit", ["duty_unit_code"], ["code"]
        )


def downgrade() -> None:
    with op.batch_alter_table("category") as batch:
        batch.drop_constraint(op.f("fk_category_duty_unit_code_unit"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_category_parent_code_category"), type_="foreignkey")
        for name in ("updated_at", "default_urgency", "duty_unit_code", "parent_code"):
            batch.drop_column(name)
    # Not a batch: rebuilding the table would lose SQLite's ticket_number trigger.
    op.execute("ALTER TABLE ticket DROP COLUMN imported")
