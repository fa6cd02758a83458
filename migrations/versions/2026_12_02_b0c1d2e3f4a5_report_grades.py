"""report grades: the reports' (通报) grading thresholds, one row; none stored means the
defaults of hotline.report.grades (A ≥ 95% on time and ≥ 90% satisfied, …).

Revision ID: b0c1d2e3f4a5
Revises: a0c1d2e3f4a5
Create Date: 2026-12-02 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b0c1d2e3f4a5"
down_revision: str | None = "a0c1d2e3f4a5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

THRESHOLDS = (
    "a_on_time",
    "a_satisfaction",
    "b_on_time",
    "b_satisfaction",
    "c_on_time",
    "c_satisfaction",
    "satisfaction_floor",
)


def upgrade() -> None:
    op.create_table(
        "report_grade",
        sa.Column("id", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Double(), nullable=False) for name in THRESHOLDS),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_grade")),
    )


def downgrade() -> None:
    op.drop_table("report_grade")
