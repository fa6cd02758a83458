"""When hot spots were last detected, for every process to see (``hotspot_rule.detected_at``).

A process that only remembered its own last detection detected again the first time it held
the sweep's lock, so with several API processes detection ran more often than its interval.

Revision ID: e7a9c3d1f5b8
Revises: d5f8b2c4e6a1
Create Date: 2026-12-01 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e7a9c3d1f5b8"
down_revision: str | None = "d5f8b2c4e6a1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hotspot_rule") as batch:
        batch.add_column(sa.Column("detected_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hotspot_rule") as batch:
        batch.drop_column("detected_at")
