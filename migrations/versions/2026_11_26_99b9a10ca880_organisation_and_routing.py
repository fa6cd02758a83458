"""Organisation: units and grid boundaries, staff, grid members, the dispatch catalogue, and
the generation counter that tells API processes to rebuild their routing indexes.

Revision ID: 99b9a10ca880
Revises: e3264517a223
Create Date: 2026-11-26 06:16:26.617625
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "99b9a10ca880"
down_revision: str | None = "e3264517a223"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "org_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_state")),
    )
    op.bulk_insert(
        sa.table("org_state", sa.column("id"), sa.column("generation")),
        [{"id": 1, "generation": 0}],
    )
    op.create_table(
        "unit",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=32), nullable=True),
        sa.Column("aliases", JSON, nullable=False),
        sa.Column("boundary", JSON, nullable=True),
        sa.Column("default_grid_code", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_code"], ["unit.code"], name=op.f("fk_unit_parent_code_unit")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_unit")),
    )
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_unit_parent_code"), ["parent_code"], unique=False)

    op.create_table(
        "catalogue_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=64), nullable=True),
        sa.Column("line", sa.String(length=16), nullable=True),
        sa.Column("area_code", sa.String(length=32), nullable=True),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_code"], ["unit.code"], name=op.f("fk_catalogue_rule_area_code_unit")
        ),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["category.code"],
            name=op.f("fk_catalogue_rule_category_code_category"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"], ["unit.code"], name=op.f("fk_catalogue_rule_unit_code_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_rule")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("unit_code", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_code"], ["unit.code"], name=op.f("fk_staff_unit_code_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
    )
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.create_index("ix_staff_unit_code_role", ["unit_code", "role"], unique=False)

    op.create_table(
        "grid_member",
        sa.Column("grid_code", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grid_code"], ["unit.code"], name=op.f("fk_grid_member_grid_code_unit")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_grid_member_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("grid_code", "staff_id", name=op.f("pk_grid_member")),
    )
    with op.batch_alter_table("grid_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grid_member_staff_id"), ["staff_id"], unique=False)

    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_api_key_staff_id_staff"), "staff", ["staff_id"], ["id"]
        )

    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("area_code", sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_ticket_area_code"), ["area_code"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_ticket_area_code_unit"), "unit", ["area_code"], ["code"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_ticket_grid_code_unit"), "unit", ["grid_code"], ["code"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_ticket_assignee_id_staff"), "staff", ["assignee_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_ticket_unit_code_unit"), "unit", ["unit_code"], ["code"]
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_ticket_area_code_unit"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_ticket_area_code"))
        batch_op.drop_column("area_code")
        batch_op.drop_constraint(batch_op.f("fk_ticket_unit_code_unit"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_ticket_assignee_id_staff"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_ticket_grid_code_unit"), type_="foreignkey")

    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_api_key_staff_id_staff"), type_="foreignkey")

    with op.batch_alter_table("grid_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grid_member_staff_id"))

    op.drop_table("grid_member")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_unit_code_role")

    op.drop_table("staff")
    op.drop_table("catalogue_rule")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_parent_code"))
        batch_op.drop_index(batch_op.f("ix_unit_kind"))

    op.drop_table("unit")
    op.drop_table("org_state")
