"""Alembic environment: async engine, SQLite batch mode, the hotline metadata."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from hotline.config import async_url, get_settings
from hotline.db.models import metadata

config = context.config
target_metadata = metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    return async_url(url) if url else get_settings().database_url


# Search structures no model describes (migration a0c1d2e3f4a5, hotline.ticket.search):
# PostgreSQL's generated tsvector column, SQLite's FTS5 table and the shadow tables FTS5 keeps.
UNMODELLED_TABLES = ("ticket_search",)
UNMODELLED_COLUMNS = {("ticket", "search_vector")}


def _modelled(thing: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    if kind == "table" and name and name.startswith(UNMODELLED_TABLES):
        return False
    if kind == "column" and reflected and compare_to is None:
        return (thing.table.name, name) not in UNMODELLED_COLUMNS
    if kind == "index" and name == "ix_ticket_search_vector":
        return False
    return True


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=_modelled,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    url = _url()
    if url.startswith("sqlite"):
        from pathlib import Path

        from sqlalchemy.engine import make_url

        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(_run_async())
