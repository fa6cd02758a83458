"""Two `hotline sweep` processes started together never act twice on one ticket."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from hotline.config import Settings
from hotline.db.engine import create_engine, create_sessionmaker
from hotline.db.session import unit_of_work
from hotline.ticket.models import Ticket, TicketEvent

GRID = "210124100002001"
DUE = 10_000


async def seed_due(settings: Settings, count: int, now: datetime) -> None:
    """``count`` dispatched tickets whose sign clock ran out an hour before ``now``."""
    engine = create_engine(settings)
    started = now - timedelta(days=2)
    row = {
        "status": "dispatched",
        "kind": "complaint",
        "category_code": "urban.road",
        "urgency": "normal",
        "line": "main",
        "content": "路面塌陷",
        "caller_confidential": False,
        "location": {},
        "route": {"method": "grid_code"},
        "unit_code": GRID,
        "grid_code": GRID,
        "area_code": GRID,
        "created_at": started,
        "updated_at": started,
        "version": 2,
        "dispatched_at": started,
        "sign_due_at": now - timedelta(hours=1),
        "sign_reminded_at": started,
        "next_check_at": now - timedelta(hours=1),
    }
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            for start in range(0, count, 2000):
                await session.execute(insert(Ticket), [row] * min(2000, count - start))
    finally:
        await engine.dispose()


async def count_events(settings: Settings, action: str) -> tuple[int, int]:
    engine = create_engine(settings)
    try:
        async with unit_of_work(create_sessionmaker(engine), read_only=True) as session:
            total = await session.scalar(
                select(func.count()).select_from(TicketEvent).where(TicketEvent.action == action)
            )
            tickets = await session.scalar(
                select(func.count(func.distinct(TicketEvent.ticket_id))).where(
                    TicketEvent.action == action
                )
            )
        return int(total or 0), int(tickets or 0)
    finally:
        await engine.dispose()


@pytest.mark.slow
def test_two_sweepers_escalate_each_due_ticket_exactly_once(
    settings: Settings, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("row claiming with SKIP LOCKED is the PostgreSQL path; SQLite serialises")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_DATA_DIR"] = str(settings.data_dir)
    env["HOTLINE_DATABASE__URL"] = str(settings.database.url)
    subprocess.run(
        [sys.executable, "-m", "hotline", "demo"], env=env, check=True, capture_output=True
    )
    now = datetime(2026, 3, 4, 10, tzinfo=UTC)
    asyncio.run(seed_due(settings, DUE, now))
    command = [sys.executable, "-m", "hotline", "sweep", "--now", now.isoformat()]
    sweepers = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600)[0] for p in sweepers]
    assert all(p.returncode == 0 for p in sweepers), outputs
    escalated, tickets = asyncio.run(count_events(settings, "escalated"))
    assert (escalated, tickets) == (DUE, DUE)
    overdue, _ = asyncio.run(count_events(settings, "overdue"))
    assert overdue == DUE
    # Both took part: the rows were shared out, not swept twice.
    assert all("escalated" in out for out in outputs), outputs
