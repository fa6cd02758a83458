"""attachments and action keys (being written in this stop; until then it changes nothing).

Revision ID: c0c1d2e3f4a5
Revises: b0c1d2e3f4a5
Create Date: 2026-12-02 05:30:00
"""

from collections.abc import Sequence

revision: str = "c0c1d2e3f4a5"
down_revision: str | None = "b0c1d2e3f4a5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
