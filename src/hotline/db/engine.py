"""Engine and session factory for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from hotline.config import Settings
from hotline.errors import OutOfRange, Unprocessable

# SQLSTATEs of a NUL in text (character_not_in_repertoire) or in JSON (untranslatable_character).
NUL_REFUSED = frozenset({"22021", "22P05"})
# string_data_right_truncation: longer than a VARCHAR(n) column (SQLite does not check lengths).
TOO_LONG = "22001"
# Execution option marking a session that only reads (see db.session.read_only).
READ_ONLY = "hotline_read_only"


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    url = url or settings.database_url
    timeout = settings.database.timeout
    if is_sqlite(url):
        # aiosqlite logs every statement with its bound values (callers' names and phones) at
        # DEBUG: an operator debugging anything else must not write them to the log.
        logging.getLogger("aiosqlite").setLevel(logging.INFO)
        path = make_url(url).database
        if path and path != ":memory:":
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            echo=settings.database.echo,
            hide_parameters=True,
            connect_args={"timeout": timeout},
        )
        _serialise_sqlite_writers(engine, busy_ms=int(timeout * 1000))
        return engine
    engine = create_async_engine(
        url,
        echo=settings.database.echo,
        # Bound values are callers' names and phones: never in a log line or an error message.
        hide_parameters=True,
        pool_size=settings.database.pool_size,
        max_overflow=settings.database.pool_size,
        pool_timeout=timeout,
        pool_pre_ping=True,
        connect_args={"timeout": timeout, "command_timeout": timeout * 6},
    )
    _refuse_unstorable_values(engine)
    return engine


def _refuse_unstorable_values(engine: AsyncEngine) -> None:
    """A value PostgreSQL cannot take is the client's mistake, not a 500.

    NUL in text or JSON (SQLite stores it), an integer beyond int64 (asyncpg refuses it
    before sending) and a text longer than its column can arrive through any body, query or
    path the schemas do not bound. They become domain errors, so every route, Open311's
    included, answers them in its own error format.
    """

    @event.listens_for(engine.sync_engine, "handle_error")
    def _translate(context: Any) -> None:
        original = context.original_exception
        if getattr(original, "sqlstate", None) in NUL_REFUSED:
            raise Unprocessable("Text may not contain the NUL character (U+0000)")
        if "out of int" in str(original):  # asyncpg: "value out of int64 range"
            raise OutOfRange("A number is out of range")
        if getattr(original, "sqlstate", None) == TOO_LONG:
            raise Unprocessable("A text is longer than its field allows")


def _serialise_sqlite_writers(engine: AsyncEngine, busy_ms: int) -> None:
    """Every SQLite transaction takes the write lock up front (BEGIN IMMEDIATE).

    A deferred transaction that reads and then writes cannot wait for the lock: SQLite fails it at
    once with "database is locked". Taking the lock first turns contention into a queue bounded by
    busy_timeout, at the price of serialising transactions, which SQLite does anyway.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Readers need no lock up front: in WAL mode they never block the writer.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
