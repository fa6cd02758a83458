"""Failed deliveries keep only a status and a short reason: clear what older versions kept.

Before this, ``webhook_delivery.last_error`` held up to 500 characters of the target's answer
(or of the exception), and ``webhook.disabled_reason`` quoted it: an admin could aim a webhook
at an inside address and read its answer there. Stored rows get the short form now written:
``HTTP <status>`` where a status was recorded, else a reason saying the old one was dropped.

Revision ID: f1a2b3c4d5e6
Revises: e7a9c3d1f5b8
Create Date: 2026-12-02 02:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "f1a2b3c4d5e6"
down_revision: str | None = "e7a9c3d1f5b8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE webhook_delivery SET last_error = CASE"
        " WHEN last_status_code IS NOT NULL THEN 'HTTP ' || CAST(last_status_code AS VARCHAR)"
        " ELSE 'failed (the reason recorded by an older version was dropped)' END"
        " WHERE last_error IS NOT NULL"
    )
    op.execute(
        "UPDATE webhook SET disabled_reason ="
        " 'every delivery failed for a day (the reason recorded by an older version was dropped)'"
        " WHERE disabled_reason IS NOT NULL"
    )


def downgrade() -> None:
    """What was dropped cannot come back; the short reasons stay."""
