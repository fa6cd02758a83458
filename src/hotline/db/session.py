"""Units of work: one transaction per request (or job), committed before the response is sent.

``Session`` writes; ``ReadSession`` only reads, which on SQLite means it does not take the write
lock (see db.engine). Both connect lazily, on their first query.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated
from weakref import WeakKeyDictionary

from fastapi import Depends, Request
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.db.engine import READ_ONLY

# session.info keys: coroutines to run just before the unit of work commits (the change
# pipeline finishes its changes there, hotline.change), and callables to run once it has
# committed (never on rollback).
PRE_COMMIT = "pre_commit"
POST_COMMIT = "post_commit"


def before_commit(session: AsyncSession, hook: Callable[[AsyncSession], Awaitable[None]]) -> None:
    session.info.setdefault(PRE_COMMIT, []).append(hook)


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    session.info.setdefault(POST_COMMIT, []).append(callback)


# One queue of writers per SQLite database in this process (see ``_writer_turn``).
_writers: WeakKeyDictionary[Engine, asyncio.Lock] = WeakKeyDictionary()


@asynccontextmanager
async def _writer_turn(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    """On SQLite, writers of this process wait their turn here, in arrival order.

    SQLite has one writer at a time. Left to its busy handler, waiting writers sleep and retry
    with growing naps (up to 100 ms), so under load some wait far longer than the work takes.
    A first-come first-served asyncio lock hands the database to the next writer the moment the
    last one commits; only writers of other processes still meet the busy handler.
    """
    bind = maker.kw.get("bind")
    if bind is None or bind.dialect.name != "sqlite":
        yield
        return
    lock = _writers.get(bind.sync_engine)
    if lock is None:
        lock = _writers[bind.sync_engine] = asyncio.Lock()
    async with lock:
        yield


@asynccontextmanager
async def unit_of_work(
    maker: async_sessionmaker[AsyncSession], *, read_only: bool = False, snapshot: bool = False
) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction: committed on success, rolled back on any exception.

    A read-only unit connects at once (to mark the connection); a writing one on first query,
    after its turn among this process's SQLite writers. ``snapshot`` (read-only): every
    statement sees the same committed state, REPEATABLE READ on PostgreSQL (a read-only one
    never fails to serialise); SQLite's read transactions already are snapshots.
    """
    if not read_only:
        async with _writer_turn(maker), _transaction(maker, read_only=False) as session:
            yield session
        return
    async with _transaction(maker, read_only=True, snapshot=snapshot) as session:
        yield session


@asynccontextmanager
async def _transaction(
    maker: async_sessionmaker[AsyncSession], *, read_only: bool, snapshot: bool = False
) -> AsyncIterator[AsyncSession]:
    async with maker() as session:
        async with session.begin():
            if read_only:
                # Must be the first use: the option has to reach the connection before BEGIN.
                options: dict[str, object] = {READ_ONLY: True}
                if snapshot and session.get_bind().dialect.name == "postgresql":
                    options["isolation_level"] = "REPEATABLE READ"
                await session.connection(execution_options=options)
            yield session
            for hook in session.info.pop(PRE_COMMIT, []):
                await hook(session)
        for callback in session.info.pop(POST_COMMIT, []):
            callback()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with unit_of_work(request.app.state.sessionmaker) as session:
        yield session


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with unit_of_work(request.app.state.sessionmaker, read_only=True) as session:
        yield session


async def get_snapshot_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with unit_of_work(request.app.state.sessionmaker, read_only=True, snapshot=True) as s:
        yield s


# scope="function": the commit happens before the response, so a failed commit is never a 200.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
ReadSession = Annotated[AsyncSession, Depends(get_read_session, scope="function")]
# A ReadSession whose statements all see one snapshot (figures assembled from several queries).
SnapshotSession = Annotated[AsyncSession, Depends(get_snapshot_session, scope="function")]
