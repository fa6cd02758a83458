"""Benchmark of the dashboard's figures: a year of tickets on PostgreSQL over 500 grids.

Usage: ``python bench/metrics.py --database-url URL [--tickets 1000000] [--json F]``

The database's public schema is dropped and rebuilt (point it at a scratch database). A
synthetic county of 500 grids is imported, then tickets are written with ``generate_series``,
spread evenly over 2025, in every state, with signs, replies, callbacks, returns and reworks
in realistic shares. Each query runs through the same service code the endpoints use; the
figure is the median of 7 runs after one warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import text

from hotline.config import Settings
from hotline.db import migrate
from hotline.db.engine import create_engine, create_sessionmaker
from hotline.db.session import unit_of_work
from hotline.demo.county import synthetic_county
from hotline.kit.clock import utcnow
from hotline.metrics import service
from hotline.org.units import import_county

INSERT = """
WITH g AS (
  SELECT code, parent_code AS village, row_number() OVER (ORDER BY code) - 1 AS k
  FROM unit WHERE kind = 'grid'
), n AS (SELECT count(*) AS c FROM g)
INSERT INTO ticket (status, kind, category_code, urgency, line, content, caller_confidential,
    location, route, unit_code, grid_code, area_code, village_code, township_code,
    created_at, updated_at, version, dispatched_at, sign_due_at, signed_at, reply_due_at,
    replied_at, closed_at, close_reason, callback_reached, callback_resolution,
    callback_satisfaction, return_count, rework_count)
SELECT
  CASE WHEN i % 10 < 7 THEN 'closed' WHEN i % 10 = 7 THEN 'signed'
       WHEN i % 10 = 8 THEN 'replied' ELSE 'dispatched' END,
  (ARRAY['complaint','help','consult','report','suggestion'])[1 + i % 5],
  (ARRAY['urban.road','utility.water','environment.noise','housing.property',
         'market.food','labour.wages'])[1 + i % 6],
  'normal', CASE WHEN i % 20 = 0 THEN 'enterprise' ELSE 'main' END, '诉求', false,
  '{}'::jsonb, '{"method": "point"}'::jsonb, g.code, g.code, g.code, g.village,
  v.parent_code,
  t.at, t.at, 3, t.at, t.at + interval '1 day',
  CASE WHEN i % 10 <> 9 THEN t.at + (i % 47) * interval '1 hour' END,
  t.at + interval '6 days',
  CASE WHEN i % 10 < 7 OR i % 10 = 8 THEN t.at + (i % 9) * interval '1 day' END,
  CASE WHEN i % 10 < 7 THEN t.at + (i % 11) * interval '1 day' END,
  CASE WHEN i % 10 < 7 THEN CASE WHEN i % 50 = 0 THEN 'answered' ELSE 'resolved' END END,
  CASE WHEN i % 10 < 7 THEN i % 13 <> 0 END,
  CASE WHEN i % 10 < 7 THEN (ARRAY['resolved','partly','unresolved'])[1 + i % 3] END,
  CASE WHEN i % 10 < 7 THEN (ARRAY['satisfied','basic','unsatisfied'])[1 + i % 3] END,
  CASE WHEN i % 17 = 0 THEN 1 ELSE 0 END, CASE WHEN i % 23 = 0 THEN 1 ELSE 0 END
FROM generate_series(0, :count - 1) AS i
CROSS JOIN n
JOIN g ON g.k = i % n.c
JOIN unit v ON v.code = g.village
CROSS JOIN LATERAL (SELECT timestamp '2025-01-01' + (i::float / :count) * interval '365 days'
                    AS at) t
"""


async def _prepare(settings: Settings, tickets: int) -> None:
    engine = create_engine(settings)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    engine = create_engine(settings)
    try:
        async with unit_of_work(create_sessionmaker(engine)) as session:
            await import_county(session, synthetic_county(500), now=utcnow())
        async with engine.begin() as conn:
            await conn.execute(text(INSERT), {"count": tickets})
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE ticket"))
    finally:
        await engine.dispose()


async def _time(settings: Settings) -> dict[str, float]:
    engine = create_engine(settings)
    maker = create_sessionmaker(engine)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    month = service.Scope.of(date(2025, 6, 1), date(2025, 6, 30), {})
    year = service.Scope.of(date(2025, 1, 1), date(2025, 12, 31), {})

    async def median(run: Callable[[Any], Awaitable[Any]]) -> float:
        samples = []
        for attempt in range(8):
            async with unit_of_work(maker, read_only=True) as session:
                started = time.perf_counter()
                await run(session)
                if attempt:
                    samples.append(time.perf_counter() - started)
        return round(statistics.median(samples) * 1000, 1)

    try:
        return {
            "summary_month_ms": await median(lambda s: service.summary(s, month, now)),
            "summary_year_ms": await median(lambda s: service.summary(s, year, now)),
            "breakdown_grid_month_ms": await median(
                lambda s: service.breakdown(s, month, now, "grid")
            ),
            "timeseries_year_daily_ms": await median(
                lambda s: service.timeseries(s, year, now, "day")
            ),
        }
    finally:
        await engine.dispose()


def run(database_url: str, tickets: int = 1_000_000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database={"url": database_url, "timeout": 100})
        started = time.perf_counter()
        asyncio.run(_prepare(settings, tickets))
        prepared = round(time.perf_counter() - started, 1)
        figures = asyncio.run(_time(settings))
    return {"tickets": tickets, "grids": 500, "prepare_s": prepared, **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    figures = run(args.database_url, args.tickets)
    for key, value in figures.items():
        print(f"{key:<26}{value!s:>12}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
