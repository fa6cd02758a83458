"""The change pipeline and intake in few statements.

- ``ticket_departure``: departures from a poller's scope, numbered in the change order like
  tickets and summons (PostgreSQL: by the same commit trigger).
- ``config_state`` replaces ``org_state``: one generation per kind of cached configuration
  (keys, org, policies, webhooks, calendar, categories), checked by every process's caches.
- Trigger ``ticket_number``: an INSERT that gives ``number`` as the county day (8 digits) gets
  the id appended (6 digits at least), so intake writes a ticket in one statement.

Revision ID: d5f8b2c4e6a1
Revises: c4e7a1b93d20
Create Date: 2026-12-01 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d5f8b2c4e6a1"
down_revision: str | None = "c4e7a1b93d20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE OR REPLACE FUNCTION hotline_take_change_number() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  taken bigint;
BEGIN
  UPDATE change_counter SET value = value + 1 WHERE id = 1 RETURNING value INTO taken;
  IF TG_TABLE_NAME = 'ticket' THEN
    UPDATE ticket SET change_seq = taken WHERE id = NEW.id;
  ELSIF TG_TABLE_NAME = 'summons' THEN
    UPDATE summons SET change_seq = taken WHERE id = NEW.id;
  ELSE
    UPDATE ticket_departure SET change_seq = taken WHERE id = NEW.id;
  END IF;
  RETURN NULL;
END
$$
"""
OLD_FUNCTION = """
CREATE OR REPLACE FUNCTION hotline_take_change_number() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  taken bigint;
BEGIN
  UPDATE change_counter SET value = value + 1 WHERE id = 1 RETURNING value INTO taken;
  IF TG_TABLE_NAME = 'ticket' THEN
    UPDATE ticket SET change_seq = taken WHERE id = NEW.id;
  ELSE
    UPDATE summons SET change_seq = taken WHERE id = NEW.id;
  END IF;
  RETURN NULL;
END
$$
"""


NUMBER_PG = """
CREATE FUNCTION hotline_ticket_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF length(NEW.number) = 8 THEN
    NEW.number := NEW.number || repeat('0', greatest(0, 6 - length(NEW.id::text))) || NEW.id::text;
  END IF;
  RETURN NEW;
END
$$
"""
NUMBER_SQLITE = """
CREATE TRIGGER ticket_number AFTER INSERT ON ticket WHEN length(NEW.number) = 8
BEGIN
  UPDATE ticket SET number = NEW.number || printf('%06d', NEW.id) WHERE id = NEW.id;
END
"""
PARTS = ("keys", "org", "policies", "webhooks", "calendar", "categories")


def upgrade() -> None:
    op.create_table(
        "config_state",
        sa.Column("id", sa.Integer(), nullable=False),
        *(sa.Column(part, sa.BigInteger(), nullable=False) for part in PARTS),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_state")),
    )
    op.execute(
        "INSERT INTO config_state (id, keys, org, policies, webhooks, calendar, categories) "
        "SELECT 1, 0, COALESCE((SELECT generation FROM org_state WHERE id = 1), 0), 0, 0, 0, 0"
    )
    op.drop_table("org_state")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(NUMBER_PG)
        op.execute(
            "CREATE TRIGGER ticket_number BEFORE INSERT ON ticket "
            "FOR EACH ROW EXECUTE FUNCTION hotline_ticket_number()"
        )
    else:
        op.execute(NUMBER_SQLITE)
    op.create_table(
        "ticket_departure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=48), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_ticket_departure_ticket_id_ticket")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ticket_departure")),
    )
    op.create_index("ix_ticket_departure_key_change_seq", "ticket_departure", ["key", "change_seq"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)
        op.execute(
            "CREATE CONSTRAINT TRIGGER ticket_departure_change_number "
            "AFTER INSERT OR UPDATE OF change_seq ON ticket_departure "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.change_seq < 0) "
            "EXECUTE FUNCTION hotline_take_change_number()"
        )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER ticket_departure_change_number ON ticket_departure")
        op.execute(OLD_FUNCTION)
    op.drop_index("ix_ticket_departure_key_change_seq", table_name="ticket_departure")
    op.drop_table("ticket_departure")
    if postgres:
        op.execute("DROP TRIGGER ticket_number ON ticket")
        op.execute("DROP FUNCTION hotline_ticket_number()")
    else:
        op.execute("DROP TRIGGER ticket_number")
    op.create_table(
        "org_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_state")),
    )
    op.execute("INSERT INTO org_state (id, generation) SELECT 1, org FROM config_state")
    op.drop_table("config_state")
