"""Benchmark of importing a county file: N synthetic grids through the same code as
``hotline grids import`` (validation, overlap check, upsert), into a fresh database.

Usage: ``python bench/import_grids.py [--grids 50000] [--database-url URL] [--json out.json]``

Without ``--database-url`` a fresh SQLite file in a temporary directory is used. A PostgreSQL
URL's database is emptied first (its public schema is dropped), so point it at a scratch one.
Peak memory is the process's maximum resident set size, which includes the generated file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
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
from hotline.org.units import import_county


async def _reset(settings: Settings) -> None:
    if settings.database.url is None:
        return
    engine = create_engine(settings)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def _import(settings: Settings, doc: dict[str, Any]) -> float:
    engine = create_engine(settings)
    try:
        started = time.perf_counter()
        async with unit_of_work(create_sessionmaker(engine)) as session:
            await import_county(session, doc, now=utcnow())
        return time.perf_counter() - started
    finally:
        await engine.dispose()


def run(grids: int, database_url: str | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database={"url": database_url})
        asyncio.run(_reset(settings))
        migrate.upgrade(settings.database_url)
        started = time.perf_counter()
        doc = synthetic_county(grids)
        generated = time.perf_counter() - started
        seconds = asyncio.run(_import(settings, doc))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "database": "postgresql" if database_url else "sqlite",
        "grids": grids,
        "features": len(doc["features"]),
        "generate_s": round(generated, 2),
        "import_s": round(seconds, 2),
        "peak_rss_mib": round(peak_mib),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=50_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    figures = run(args.grids, args.database_url)
    for key, value in figures.items():
        print(f"{key:<16}{value:>14}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
