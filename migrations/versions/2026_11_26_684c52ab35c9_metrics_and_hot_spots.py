"""Metrics and hot spots: denormalised ticket columns for the dashboard's figures, clusters
(类案) with their members, and the detector's rule (3 in 30 days by default).

Revision ID: 684c52ab35c9
Revises: 7fdb80ed15e3
Create Date: 2026-11-26 06:57:50.905712
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "684c52ab35c9"
down_revision: str | None = "7fdb80ed15e3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "hotspot_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("min_size", sa.Integer(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotspot_rule")),
    )
    op.bulk_insert(
        sa.table(
            "hotspot_rule",
            *(sa.column(c) for c in ("id", "min_size", "window_days", "threshold", "updated_at")),
        ),
        [
            {
                "id": 1,
                "min_size": 3,
                "window_days": 30,
                "threshold": 0.3,
                "updated_at": datetime.now(UTC).replace(tzinfo=None),
            }
        ],
    )
    op.create_table(
        "cluster",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=64), nullable=False),
        sa.Column("place_code", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("last_seen", sa.DateTime(), nullable=False),
        sa.Column("keywords", JSON, nullable=False),
        sa.Column("trend", JSON, nullable=False),
        sa.Column("lead_unit_code", sa.String(length=32), nullable=True),
        sa.Column("standard", sa.Text(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_code"], ["category.code"], name=op.f("fk_cluster_category_code_category")
        ),
        sa.ForeignKeyConstraint(
            ["lead_unit_code"], ["unit.code"], name=op.f("fk_cluster_lead_unit_code_unit")
        ),
        sa.ForeignKeyConstraint(
            ["place_code"], ["unit.code"], name=op.f("fk_cluster_place_code_unit")
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["catalogue_rule.id"], name=op.f("fk_cluster_rule_id_catalogue_rule")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster")),
    )
    with op.batch_alter_table("cluster", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cluster_category_code_place_code", ["category_code", "place_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_cluster_status"), ["status"], unique=False)

    op.create_table(
        "cluster_member",
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cluster_id"], ["cluster.id"], name=op.f("fk_cluster_member_cluster_id_cluster")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_cluster_member_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("cluster_id", "ticket_id", name=op.f("pk_cluster_member")),
    )
    with op.batch_alter_table("cluster_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cluster_member_ticket_id"), ["ticket_id"], unique=False
        )

    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("village_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("township_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("callback_reached", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("callback_resolution", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("callback_satisfaction", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("return_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("supervised_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_ticket_township_code"), ["township_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ticket_village_code"), ["village_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_village_code"))
        batch_op.drop_index(batch_op.f("ix_ticket_township_code"))
        batch_op.drop_column("supervised_at")
        batch_op.drop_column("return_count")
        batch_op.drop_column("callback_satisfaction")
        batch_op.drop_column("callback_resolution")
        batch_op.drop_column("callback_reached")
        batch_op.drop_column("township_code")
        batch_op.drop_column("village_code")

    with op.batch_alter_table("cluster_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cluster_member_ticket_id"))

    op.drop_table("cluster_member")
    with op.batch_alter_table("cluster", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cluster_status"))
        batch_op.drop_index("ix_cluster_category_code_place_code")

    op.drop_table("cluster")
    op.drop_table("hotspot_rule")
