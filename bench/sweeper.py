"""Benchmark of one sweeper pass: N open tickets of which D are due, on PostgreSQL.

Usage: ``python bench/sweeper.py --database-url URL [--open 1000000] [--due 10000] [--json F]``

The database's public schema is dropped and rebuilt (point it at a scratch database). The demo
county is loaded, then the tickets are written with ``generate_series`` (their clocks started
two days ago; the due ones ran out an hour ago, the rest run out next week). The figure is the
wall time of ``sweep()``: claim, remind/breach, escalate, stamp, commit, in batches.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import text

from hotline.config import Settings
from hotline.db import migrate
from hotline.db.engine import create_engine, create_sessionmaker
from hotline.db.session import unit_of_work
from hotline.demo.loader import load_into
from hotline.jobs import sweep as sweeper
from hotline.routing.state import RoutingCache
from hotline.sla.calendars import CalendarCache

NOW = datetime(2026, 3, 4, 10, tzinfo=UTC)
INSERT = """
INSERT INTO ticket (status, kind, category_code, urgency, line, content, caller_confidential,
    location, route, unit_code, grid_code, area_code, created_at, updated_at, version,
    dispatched_at, sign_due_at, sign_reminded_at, next_check_at)
SELECT 'dispatched', 'complaint', 'urban.road', 'normal', 'main', '路面塌陷', false,
    '{}'::jsonb, '{"method": "grid_code"}'::jsonb, g.code, g.code, g.code, :started, :started, 2,
    :started, :due, :started, :due
FROM generate_series(1, :n) AS i
JOIN (SELECT code, row_number() OVER (ORDER BY code) - 1 AS k FROM unit WHERE kind = 'grid') g
  ON g.k = i % 60
"""


async def _prepare(settings: Settings, open_tickets: int, due: int) -> None:
    engine = create_engine(settings)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    engine = create_engine(settings)
    try:
        maker = create_sessionmaker(engine)
        async with unit_of_work(maker) as session:
            await load_into(session, settings.data_dir / "demo-keys.json")
        started = NOW - timedelta(days=2)
        async with engine.begin() as conn:
            await conn.execute(
                text(INSERT),
                {
                    "started": started.replace(tzinfo=None),
                    "due": (NOW - timedelta(hours=1)).replace(tzinfo=None),
                    "n": due,
                },
            )
            await conn.execute(
                text(INSERT),
                {
                    "started": started.replace(tzinfo=None),
                    "due": (NOW + timedelta(days=7)).replace(tzinfo=None),
                    "n": open_tickets - due,
                },
            )
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE ticket"))
    finally:
        await engine.dispose()


async def _sweep(settings: Settings) -> sweeper.Report:
    engine = create_engine(settings)
    calendars = CalendarCache(ZoneInfo("Asia/Shanghai"), None)
    try:
        return await sweeper.sweep(create_sessionmaker(engine), RoutingCache(), calendars, now=NOW)
    finally:
        await engine.dispose()


def run(database_url: str, open_tickets: int = 1_000_000, due: int = 10_000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        # Writing a million rows takes longer than a request may wait.
        settings = Settings(data_dir=Path(tmp), database={"url": database_url, "timeout": 100})
        started = time.perf_counter()
        asyncio.run(_prepare(settings, open_tickets, due))
        prepared = time.perf_counter() - started
        report = asyncio.run(_sweep(settings))
    return {
        "open_tickets": open_tickets,
        "due": due,
        "prepare_s": round(prepared, 1),
        "sweep_s": round(report.seconds, 2),
        "overdue": report.overdue,
        "escalated": report.escalated,
        "tickets_per_s": round(report.overdue / report.seconds) if report.seconds else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--open", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    figures = run(args.database_url, args.open, args.due)
    for key, value in figures.items():
        print(f"{key:<16}{value!s:>12}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
