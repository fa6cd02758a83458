"""Full-text search over tickets: ``ticket.search_words`` (jieba's words of the content and the
reply, hotline.ticket.search) and its index.

PostgreSQL: a stored generated ``search_vector`` (``to_tsvector('simple', search_words)``) with a
GIN index. SQLite: an FTS5 table ``ticket_search`` over the column (external content, rowid =
ticket id) kept by triggers. Tickets already stored get their words here, in batches.

Revision ID: a0c1d2e3f4a5
Revises: f1a2b3c4d5e6
Create Date: 2026-12-02 05:30:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a0c1d2e3f4a5"
down_revision: str | None = "f1a2b3c4d5e6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000

SQLITE_TRIGGERS = (
    """CREATE TRIGGER ticket_search_insert AFTER INSERT ON ticket BEGIN
        INSERT INTO ticket_search(rowid, search_words) VALUES (new.id, new.search_words);
    END""",
    """CREATE TRIGGER ticket_search_delete AFTER DELETE ON ticket BEGIN
        INSERT INTO ticket_search(ticket_search, rowid, search_words)
        VALUES ('delete', old.id, old.search_words);
    END""",
    """CREATE TRIGGER ticket_search_update AFTER UPDATE OF search_words ON ticket BEGIN
        INSERT INTO ticket_search(ticket_search, rowid, search_words)
        VALUES ('delete', old.id, old.search_words);
        INSERT INTO ticket_search(rowid, search_words) VALUES (new.id, new.search_words);
    END""",
)


def _backfill(connection: sa.engine.Connection) -> None:
    from hotline.ticket import search

    last = 0
    while True:
        rows = connection.execute(
            sa.text("SELECT id, content, reply FROM ticket WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            return
        updates = []
        for ticket_id, content, reply in rows:
            if isinstance(reply, str):
                reply = json.loads(reply)
            text = reply.get("text") if isinstance(reply, dict) else None
            updates.append({"id": ticket_id, "words": search.words(content, text)})
        connection.execute(
            sa.text("UPDATE ticket SET search_words = :words WHERE id = :id"), updates
        )
        last = rows[-1][0]


def upgrade() -> None:
    connection = op.get_bind()
    op.add_column("ticket", sa.Column("search_words", sa.Text(), nullable=True))
    if connection.dialect.name == "postgresql":
        _backfill(connection)
        op.execute(
            "ALTER TABLE ticket ADD COLUMN search_vector tsvector GENERATED ALWAYS AS"
            " (to_tsvector('simple', coalesce(search_words, ''))) STORED"
        )
        op.execute("CREATE INDEX ix_ticket_search_vector ON ticket USING gin (search_vector)")
    else:
        op.execute(
            "CREATE VIRTUAL TABLE ticket_search USING fts5("
            "search_words, content='ticket', content_rowid='id')"
        )
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
        _backfill(connection)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_ticket_search_vector")
        op.execute("ALTER TABLE ticket DROP COLUMN search_vector")
    else:
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER ticket_search_{name}")
        op.execute("DROP TABLE ticket_search")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_column("search_words")
