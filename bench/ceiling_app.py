"""The ceiling of the stack for ``bench/intake.py``: one FastAPI endpoint that validates a ticket
body with pydantic and inserts one row through SQLAlchemy async, nothing else.

Served by uvicorn exactly as ``hotline serve`` serves the product (uvloop and httptools when
installed, ``log_level="info"`` so every request writes an access-log line, proxy headers on):
``uvicorn ceiling_app:create_app --factory --app-dir bench --workers N``. The database comes from
``CEILING_DATABASE_URL`` (``postgresql://`` or ``sqlite:///`` URLs are accepted) and the row goes
to its own table, ``ceiling_ticket``, which ``prepare(url)`` drops and creates before a run.

The body is validated by the service's own ``TicketCreate``, so the shape and its constraints
(phone normalisation included) cannot drift from what ``POST /v1/tickets`` accepts. The engine
is configured like the service's (``hotline.db.engine``): on PostgreSQL a pool of 10 plus 10
overflow with pre-ping; on SQLite WAL and a busy timeout. No authentication, no routing, no
events, no idempotency: that is the point.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from fastapi import FastAPI, Request, status
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
    insert,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from hotline.config import async_url
from hotline.ticket.schemas import TicketCreate

TIMEOUT = 5.0  # seconds, as HOTLINE_DATABASE__TIMEOUT's default
POOL = 10  # as HOTLINE_DATABASE__POOL_SIZE's default

metadata = MetaData()
ceiling_ticket = Table(
    "ceiling_ticket",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("category", String(32), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("line", String(16), nullable=False),
    Column("content", Text, nullable=False),
    Column("caller_name", String(50)),
    Column("caller_phone", String(32)),
    Column("lat", Float),
    Column("lon", Float),
    Column("address", String(500)),
    Column("location", JSON, nullable=False),
    Column("external_id", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


def make_engine(url: str) -> AsyncEngine:
    url = async_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": TIMEOUT})

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(TIMEOUT * 1000)}")
            cursor.close()

        return engine
    return create_async_engine(
        url,
        pool_size=POOL,
        max_overflow=POOL,
        pool_timeout=TIMEOUT,
        pool_pre_ping=True,
        connect_args={"timeout": TIMEOUT, "command_timeout": TIMEOUT * 6},
    )


def prepare(url: str) -> None:
    """Drop and create ``ceiling_ticket`` (before the server starts)."""

    async def run() -> None:
        engine = make_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(metadata.drop_all)
                await conn.run_sync(metadata.create_all)
        finally:
            await engine.dispose()

    asyncio.run(run())


def create_app() -> FastAPI:
    url = os.environ["CEILING_DATABASE_URL"]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(url)
        app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(title="ceiling", lifespan=lifespan)

    @app.post("/v1/tickets", status_code=status.HTTP_201_CREATED)
    async def create_ticket(data: TicketCreate, request: Request) -> dict[str, Any]:
        now = datetime.now(UTC)
        loc = data.location
        async with request.app.state.sessionmaker.begin() as session:
            ticket_id = await session.scalar(
                insert(ceiling_ticket)
                .values(
                    kind=data.kind.value,
                    category=data.category,
                    urgency=data.urgency.value,
                    line=data.line.value,
                    content=data.content,
                    caller_name=data.caller.name,
                    caller_phone=data.caller.phone,
                    lat=loc.lat,
                    lon=loc.lon,
                    address=loc.address,
                    location=loc.model_dump(mode="json", exclude_none=True),
                    external_id=data.external_id,
                    created_at=now,
                )
                .returning(ceiling_ticket.c.id)
            )
        return {"id": ticket_id, "created_at": now.isoformat(), **data.model_dump(mode="json")}

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    return app
