"""Benchmark of a history import: N closed tickets in a JSON Lines file through the same code as
``hotline tickets import`` (every row checked, then 1,000 per transaction), into a fresh demo
database. Goal (issue 16): 100,000 rows in under 2 minutes.

Usage: ``python bench/import_history.py [--rows 100000] [--database-url URL] [--json out.json]``

Without ``--database-url`` a fresh SQLite file in a temporary directory is used. A PostgreSQL
URL's database is emptied first (its public schema is dropped), so point it at a scratch one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import select, text

from hotline.config import Settings
from hotline.db import migrate
from hotline.db.engine import create_engine, create_sessionmaker
from hotline.db.session import unit_of_work
from hotline.demo.loader import load_demo
from hotline.history import service
from hotline.kit.clock import utcnow
from hotline.org.models import Category, Unit


async def _reset(settings: Settings) -> None:
    if settings.database.url is None:
        return
    engine = create_engine(settings)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def _write_file(settings: Settings, path: Path, rows: int) -> None:
    """Rows spread over five years, a third with a reply, all with an external id."""
    engine = create_engine(settings)
    try:
        async with unit_of_work(create_sessionmaker(engine), read_only=True) as session:
            categories = list(await session.scalars(select(Category.code)))
            grids = list(await session.scalars(select(Unit.code).where(Unit.kind == "grid")))
    finally:
        await engine.dispose()
    start = datetime(2021, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as out:
        for n in range(rows):
            created = start + timedelta(minutes=25 * n)
            row: dict[str, Any] = {
                "content": f"第{n}号历史诉求：小区路灯不亮，夜间出行不便，请尽快修复",
                "category": categories[n % len(categories)],
                "created_at": created.isoformat(),
                "closed_at": (created + timedelta(days=3, hours=n % 24)).isoformat(),
                "unit_code": grids[n % len(grids)],
                "external_id": f"BENCH-{n:07d}",
                "kind": "complaint",
            }
            if n % 3 == 0:
                row["reply"] = "已派人修复，经回访群众满意"
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


async def _import(settings: Settings, path: Path) -> tuple[float, service.Imported]:
    engine = create_engine(settings)
    try:
        started = time.perf_counter()
        done = await service.import_file(create_sessionmaker(engine), path, now=utcnow())
        return time.perf_counter() - started, done
    finally:
        await engine.dispose()


def run(rows: int, database_url: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database={"url": database_url})
        asyncio.run(_reset(settings))
        migrate.upgrade(settings.database_url)
        asyncio.run(load_demo(settings))
        path = Path(tmp) / "history.jsonl"
        asyncio.run(_write_file(settings, path, rows))
        size_mib = path.stat().st_size / 2**20
        seconds, done = asyncio.run(_import(settings, path))
        again, rerun = asyncio.run(_import(settings, path))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "database": "postgresql" if database_url else "sqlite",
        "rows": rows,
        "file_mib": round(size_mib, 1),
        "written": done.written,
        "import_s": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "rerun_s": round(again, 2),
        "rerun_skipped": rerun.skipped,
        "peak_rss_mib": round(peak_mib),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result = run(args.rows, args.database_url)
    text_out = json.dumps(result, indent=2)
    print(text_out)
    if args.json:
        args.json.write_text(text_out + "\n")


if __name__ == "__main__":
    main()
