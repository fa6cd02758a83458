"""Engine and session factory for SQLite (embedded) and PostgreSQL (production)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
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
from hotline.errors import HotlineError, OutOfRange, Unprocessable

# SQLSTATEs of a NUL in text (character_not_in_repertoire) or in JSON (untranslatable_character).
NUL_REFUSED = frozenset({"22021", "22P05"})
# string_data_right_truncation: longer than a VARCHAR(n) column (SQLite does not check lengths).
TOO_LONG = "22001"
# Execution option marking a session that only reads (see db.session.read_only).
READ_ONLY = "hotline_read_only"
# A live server ends a statement itself at this share of its budget: a clean error (SQLSTATE
# 57014) on a connection that stays usable, and no statement left running behind a client that
# gave up. The driver's own limit, the whole budget, is for a server that no longer answers.
SERVER_SHARE = 0.9
# Seconds a request's transaction may sit idle before the server ends its session. No request
# waits inside a transaction (the long poll waits outside one): this is an API process that
# stopped (frozen, or its loop blocked) while holding row locks, which then go free.
REQUEST_IDLE_IN_TRANSACTION = 60.0
# connection_record.info key: the budget the server-side settings of a connection are set to.
_BUDGET = "hotline_budget"
# Set in the contexts that do background work (see ``background_work``).
_background: ContextVar[bool] = ContextVar("hotline_background_work", default=False)


@dataclass(frozen=True)
class Budget:
    """How long one statement may take: asyncpg's ``command_timeout`` on the client, and on the
    server ``statement_timeout`` (a share of it) and ``idle_in_transaction_session_timeout``
    (0: off)."""

    name: str
    seconds: float
    idle_in_transaction: float = 0.0

    def server_settings(self) -> dict[str, str]:
        return {
            # At least 1 ms: 0 would switch it off.
            "statement_timeout": str(max(1, round(self.seconds * SERVER_SHARE * 1000))),
            "idle_in_transaction_session_timeout": str(round(self.idle_in_transaction * 1000)),
        }

    def set_statement(self) -> str:
        return "; ".join(f"SET {name} = {value}" for name, value in self.server_settings().items())


@contextmanager
def background_work() -> Iterator[None]:
    """Statements in this block, and in the tasks it starts, get the background budget
    (``HOTLINE_DATABASE__BACKGROUND_TIMEOUT``) instead of a request's."""
    token = _background.set(True)
    try:
        yield
    finally:
        _background.reset(token)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    """The engine; on PostgreSQL, every statement under a budget (see ``_budget_statements``).

    A request's statements get ``HOTLINE_DATABASE__TIMEOUT``; background work (the loops of
    `hotline serve`, CLI commands: everything started from the context that called this
    function, or inside ``background_work()``) gets ``HOTLINE_DATABASE__BACKGROUND_TIMEOUT``,
    as the metrics roll-up alone may take half a minute on a million tickets.
    """
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
            json_serializer=json_without_nul,
            connect_args={"timeout": timeout},
        )
        _serialise_sqlite_writers(engine, busy_ms=int(timeout * 1000))
        _refuse_nul_text(engine)
        _raise_domain_errors(engine)
        return engine
    request = Budget("request", timeout, REQUEST_IDLE_IN_TRANSACTION)
    # Off for background work: the sweeper holds its advisory lock in a transaction left idle
    # for the whole pass.
    background = Budget("background", max(settings.database.background_timeout, timeout))
    engine = create_async_engine(
        url,
        echo=settings.database.echo,
        # Bound values are callers' names and phones: never in a log line or an error message.
        hide_parameters=True,
        pool_size=settings.database.pool_size,
        max_overflow=settings.database.pool_size,
        # Waiting for a free connection, connecting (a frozen server still accepts the TCP
        # connection, then never answers) and each statement, pre-ping included: each within
        # the request budget, so a request gets its 503 within it.
        pool_timeout=timeout,
        pool_pre_ping=True,
        json_serializer=json_without_nul,
        connect_args={
            "timeout": timeout,
            "command_timeout": request.seconds,
            "server_settings": request.server_settings(),
        },
    )
    _refuse_unstorable_values(engine)
    _raise_domain_errors(engine)
    _budget_statements(engine, request, background)
    # The code that builds the engine (the server's lifespan, a CLI command, a script) goes on
    # to start the background work: the sweeper, the metrics roll-up, the hot spots, the
    # webhook outbox. They run in tasks started from here, so they inherit this mark. The ASGI
    # server runs each request in a task started outside the lifespan: requests never inherit
    # it and keep the request budget (tests/faults/test_hung_database.py fails if one does).
    _background.set(True)
    return engine


def _budget_statements(engine: AsyncEngine, request: Budget, background: Budget) -> None:
    """Each checkout gets the budget of the work that takes the connection.

    Connections are made with the request budget, and every connection goes back to the pool
    under it: the next checkout's pre-ping (and SQLAlchemy runs it before any checkout event)
    is bounded like a request's statement. A background checkout then switches the driver's
    limit, and the server's settings when the connection last served the other kind of work
    (one round trip, only then).

    No lock_timeout: waiting for a lock is part of a statement, which statement_timeout
    already bounds.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(_dbapi_connection: Any, record: Any) -> None:
        record.info[_BUDGET] = request.name  # connect_args' server_settings

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        budget = background if _background.get() else request
        if record.info.get(_BUDGET) != budget.name:
            statement = budget.set_statement()
            dbapi_connection.run_async(lambda conn: conn.execute(statement))
            record.info[_BUDGET] = budget.name
        _command_timeout(dbapi_connection, budget.seconds)

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:  # None: invalidated
            _command_timeout(dbapi_connection, request.seconds)

    @event.listens_for(engine.sync_engine, "invalidate")
    def _on_invalidate(
        dbapi_connection: Any, _record: Any, exception: BaseException | None
    ) -> None:
        # SQLAlchemy closes an invalidated connection gracefully: it says goodbye and waits up
        # to 2 s for the server to hang up. A server that timed out will not: drop the socket
        # now, or those 2 s come on top of the request's budget. The server, once it runs
        # again, reads what was sent before the hang-up (a COMMIT sent before the time-out
        # still commits: a request answered 503 may have been stored) and rolls back the rest.
        if dbapi_connection is not None and _timed_out(exception):
            dbapi_connection.driver_connection.terminate()


def _command_timeout(dbapi_connection: Any, seconds: float) -> None:
    """asyncpg reads a connection's default statement timeout from its configuration at each
    call and has no setter for it: the configuration (a NamedTuple) is replaced."""
    driver = dbapi_connection.driver_connection
    if driver._config.command_timeout != seconds:
        driver._config = driver._config._replace(command_timeout=seconds)


def _timed_out(exception: BaseException | None) -> bool:
    seen: set[int] = set()
    while exception is not None and id(exception) not in seen:
        if isinstance(exception, TimeoutError):
            return True
        seen.add(id(exception))
        exception = exception.__cause__ or exception.__context__
    return False


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
            raise Unprocessable(NUL_REFUSAL, en=NUL_REFUSAL_EN)
        if "out of int" in str(original):  # asyncpg: "value out of int64 range"
            raise OutOfRange("数字超出范围", en="A number is out of range")
        if getattr(original, "sqlstate", None) == TOO_LONG:
            raise Unprocessable(
                "文字超过该字段允许的长度", en="A text is longer than its field allows"
            )


def _raise_domain_errors(engine: AsyncEngine) -> None:
    """A domain error raised while a statement is prepared (``json_without_nul`` binding a
    value) reaches the route as itself, not wrapped in SQLAlchemy's StatementError."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def _unwrap(context: Any) -> None:
        if isinstance(context.original_exception, HotlineError):
            raise context.original_exception


NUL_REFUSAL = "文字中不能含有 NUL 字符（U+0000）"
NUL_REFUSAL_EN = "Text may not contain the NUL character (U+0000)"
# A JSON-escaped NUL: ``\u0000`` after an even number of backslashes (``\\u0000`` is the text
# "\u0000" a caller may well type).
_ESCAPED_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def json_without_nul(value: Any) -> str:
    """JSON for the JSON columns, refusing a NUL anywhere in it: PostgreSQL's jsonb cannot hold
    U+0000, so SQLite, which could, refuses it too. Same answer on both databases."""
    text = json.dumps(value)
    if "\\u0000" in text and _ESCAPED_NUL.search(text):
        raise Unprocessable(NUL_REFUSAL, en=NUL_REFUSAL_EN)
    return text


def _refuse_nul_text(engine: AsyncEngine) -> None:
    """SQLite stores a NUL in text, PostgreSQL refuses it (``_refuse_unstorable_values``):
    SQLite refuses it too, before the statement runs, so both answer the same 422."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _check(
        _conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if _has_nul(parameters):
            raise Unprocessable(NUL_REFUSAL, en=NUL_REFUSAL_EN)


def _has_nul(parameters: Any) -> bool:
    """Whether a NUL is in any text of the statement's parameters: one row or many, as a
    tuple, a list or a dict."""
    if isinstance(parameters, str):
        return "\x00" in parameters
    if isinstance(parameters, dict):
        parameters = parameters.values()
    elif not isinstance(parameters, (tuple, list)):
        return False
    return any(_has_nul(value) for value in parameters)


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
