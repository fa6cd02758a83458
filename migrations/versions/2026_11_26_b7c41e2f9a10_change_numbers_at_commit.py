"""Change numbers taken at commit by the database (PostgreSQL).

The application marks a changed row by setting its ``change_seq`` to -1; a deferred constraint
trigger on ``ticket`` and ``summons`` then gives it the next number from ``change_counter``
while the transaction commits. The counter row is then locked
only inside COMMIT, never across a round trip to the application, so concurrent writers queue
on it for microseconds instead of for the rest of their request. Numbers stay in commit order
(see hotline.workflow.changes). SQLite has one writer at a time and numbers in the application.

Revision ID: b7c41e2f9a10
Revises: b7e1c0d4a9f2
Create Date: 2026-11-26 09:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b7c41e2f9a10"
down_revision: str | None = "b7e1c0d4a9f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("ticket", "summons")

FUNCTION = """
CREATE FUNCTION hotline_take_change_number() RETURNS trigger LANGUAGE plpgsql AS $$
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


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    for table in TABLES:
        # The trigger's own UPDATE writes a positive number and so queues no further event.
        op.execute(
            f"CREATE CONSTRAINT TRIGGER {table}_change_number "
            f"AFTER INSERT OR UPDATE OF change_seq ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.change_seq < 0) "
            "EXECUTE FUNCTION hotline_take_change_number()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_change_number ON {table}")
    op.execute("DROP FUNCTION hotline_take_change_number()")
