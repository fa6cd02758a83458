"""Benchmark of the dashboard's figures: a year of tickets on PostgreSQL over 500 grids.

Usage: ``python bench/metrics.py --database-url URL [--tickets 1000000] [--json F] [--reuse]
[--plain]``

The database's public schema is dropped and rebuilt (point it at a scratch database; with
``--reuse`` a database this script filled before is kept, only its roll-up is dropped). A
synthetic county of 500 grids is imported, then tickets are written with ``generate_series``,
spread evenly over 2025, in every state, with signs, replies, callbacks, returns and reworks
in realistic shares. Each query runs through the same service code the endpoints use, in a
snapshot session as the endpoints do; the figure is the median of 7 runs after one warm-up.

Then the roll-up (metrics.rollup): its full build, the figures read from it, the figures while
1,000 tickets changed since the last refresh (their days counted live), and the incremental
refresh of those days; first 1,000 recent tickets, then 1,000 spread over the year.
``--plain`` also times the plain queries first (the roll-up not built).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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
from hotline.metrics import rollup, service
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


# 1,000 open tickets get closed (or signed), one change number each, as the workflow would
# number them: the first ones of December (recent work), or every 199th of the year (spread).
CHANGE = """
WITH picked AS (
  SELECT id, row_number() OVER (ORDER BY id) AS k FROM ticket
  WHERE status IN ('dispatched', 'signed') AND created_at >= :since
  AND id % :spread = 0 ORDER BY id LIMIT :count
), counter AS (
  UPDATE change_counter SET value = value + :count WHERE id = 1 RETURNING value
)
UPDATE ticket SET
  status = CASE WHEN ticket.status = 'signed' THEN 'closed' ELSE 'signed' END,
  signed_at = coalesce(signed_at, created_at + interval '5 hours'),
  closed_at = CASE WHEN ticket.status = 'signed' THEN created_at + interval '3 days' END,
  close_reason = CASE WHEN ticket.status = 'signed' THEN 'resolved' END,
  change_seq = counter.value - :count + picked.k
FROM picked, counter WHERE ticket.id = picked.id
"""


async def _reset_rollup(settings: Settings) -> None:
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("TRUNCATE metric_day, metric_bin, metric_state"))
    finally:
        await engine.dispose()


async def _time(settings: Settings, plain: bool) -> dict[str, Any]:
    engine = create_engine(settings)
    maker = create_sessionmaker(engine)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    month = service.Scope.of(date(2025, 6, 1), date(2025, 6, 30), {})
    year = service.Scope.of(date(2025, 1, 1), date(2025, 12, 31), {})
    december = service.Scope.of(date(2025, 12, 1), date(2025, 12, 31), {})
    grid = await _scalar(engine, "SELECT min(code) FROM unit WHERE kind = 'grid'")
    township = await _scalar(engine, "SELECT min(township_code) FROM ticket")
    grid_month = service.Scope.of(date(2025, 6, 1), date(2025, 6, 30), {"grid": grid})
    grid_year = service.Scope.of(date(2025, 1, 1), date(2025, 12, 31), {"grid": grid})
    town_year = service.Scope.of(date(2025, 1, 1), date(2025, 12, 31), {"township": township})

    async def median(run: Callable[[Any], Awaitable[Any]]) -> float:
        samples = []
        for attempt in range(8):
            async with unit_of_work(maker, read_only=True, snapshot=True) as session:
                started = time.perf_counter()
                await run(session)
                if attempt:
                    samples.append(time.perf_counter() - started)
        return round(statistics.median(samples) * 1000, 1)

    async def refresh(full: bool = False) -> tuple[float, Any]:
        started = time.perf_counter()
        async with unit_of_work(maker) as session:
            done = await rollup.refresh(session, now, full=full)
        return round(time.perf_counter() - started, 2), done

    out: dict[str, Any] = {}
    try:
        if plain:
            out["plain"] = {
                "summary_month_ms": await median(lambda s: service.summary(s, month, now)),
                "summary_year_ms": await median(lambda s: service.summary(s, year, now)),
                "timeseries_year_daily_ms": await median(
                    lambda s: service.timeseries(s, year, now, "day")
                ),
            }
        out["load_before_build"] = os.getloadavg()[0]
        out["rollup_full_build_s"], built = await refresh(full=True)
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE metric_day, metric_bin, ticket"))
        out["rollup_rows"] = await _scalar(engine, "SELECT count(*) FROM metric_day")
        out["rollup_bin_rows"] = await _scalar(engine, "SELECT count(*) FROM metric_bin")
        out["load_before_queries"] = os.getloadavg()[0]
        out["summary_month_ms"] = await median(lambda s: service.summary(s, month, now))
        out["summary_year_ms"] = await median(lambda s: service.summary(s, year, now))
        out["summary_township_year_ms"] = await median(lambda s: service.summary(s, town_year, now))
        out["summary_grid_month_ms"] = await median(lambda s: service.summary(s, grid_month, now))
        out["summary_grid_year_ms"] = await median(lambda s: service.summary(s, grid_year, now))
        out["breakdown_grid_month_ms"] = await median(
            lambda s: service.breakdown(s, month, now, "grid")
        )
        out["breakdown_township_year_ms"] = await median(
            lambda s: service.breakdown(s, year, now, "township")
        )
        out["timeseries_year_daily_ms"] = await median(
            lambda s: service.timeseries(s, year, now, "day")
        )
        recent = {"count": 1000, "since": datetime(2025, 12, 1), "spread": 1}
        async with engine.begin() as conn:
            changed = (await conn.execute(text(CHANGE), recent)).rowcount
        out["changed_tickets"] = changed
        out["dirty_summary_year_ms"] = await median(lambda s: service.summary(s, year, now))
        out["dirty_summary_december_ms"] = await median(lambda s: service.summary(s, december, now))
        out["load_before_refresh"] = os.getloadavg()[0]
        out["rollup_refresh_s"], done = await refresh()
        out["rollup_refreshed_days"] = done.days
        out["summary_year_after_refresh_ms"] = await median(lambda s: service.summary(s, year, now))
        spread = {"count": 1000, "since": datetime(2025, 1, 1), "spread": 199}
        async with engine.begin() as conn:
            await conn.execute(text(CHANGE), spread)
        out["spread_summary_year_ms"] = await median(lambda s: service.summary(s, year, now))
        out["spread_summary_month_ms"] = await median(lambda s: service.summary(s, month, now))
        out["load_before_spread_refresh"] = os.getloadavg()[0]
        out["spread_refresh_s"], done = await refresh()
        out["spread_refreshed_days"] = done.days
        out["load_after"] = os.getloadavg()[0]
        out["built_through"] = built.watermark
    finally:
        await engine.dispose()
    return out


async def _scalar(engine: Any, sql: str) -> Any:
    async with engine.connect() as conn:
        return await conn.scalar(text(sql))


async def _filled(settings: Settings, tickets: int) -> bool:
    engine = create_engine(settings)
    try:
        async with engine.connect() as conn:
            return bool(await conn.scalar(text("SELECT count(*) FROM ticket")) == tickets)
    except Exception:
        return False
    finally:
        await engine.dispose()


def run(
    database_url: str, tickets: int = 1_000_000, *, reuse: bool = False, plain: bool = False
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database={"url": database_url, "timeout": 100})
        started = time.perf_counter()
        if reuse and asyncio.run(_filled(settings, tickets)):
            asyncio.run(_reset_rollup(settings))
            # The previous run changed some tickets: the same data otherwise.
        else:
            asyncio.run(_prepare(settings, tickets))
        prepared = round(time.perf_counter() - started, 1)
        figures = asyncio.run(_time(settings, plain))
    return {"tickets": tickets, "grids": 500, "prepare_s": prepared, **figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--reuse", action="store_true", help="keep a database filled before")
    parser.add_argument("--plain", action="store_true", help="also time the plain queries")
    args = parser.parse_args()
    figures = run(args.database_url, args.tickets, reuse=args.reuse, plain=args.plain)
    for key, value in figures.items():
        print(f"{key:<26}{value!s:>12}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
