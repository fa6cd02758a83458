"""ticket search (being written in this stop; until then it changes nothing).

Revision ID: a0c1d2e3f4a5
Revises: f1a2b3c4d5e6
Create Date: 2026-12-02 05:30:00
"""

from collections.abc import Sequence

revision: str = "a0c1d2e3f4a5"
down_revision: str | None = "f1a2b3c4d5e6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
