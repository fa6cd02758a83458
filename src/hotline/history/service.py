"""An import run: every row checked first, then the tickets written in batches.

All or nothing for the checks: a file with any bad row writes nothing, and every problem is
reported with its line and field. The writing commits one batch at a time (intake goes on
between batches, even on SQLite's single writer); a run stopped half-way is safe to run again
for rows with an ``external_id``, which the second run skips and counts. Rows without one are
written again (README, *Bringing history*).

Imported tickets are history: ``imported`` is true, no clock is started (no deadlines, no
``next_check_at``: the sweeper never looks at them), nothing goes through the change pipeline
(no webhook outbox rows, no wake-ups, ``change_seq`` 0 so pollers and the metrics' dirty days
never see them), and each gets one ``imported`` event on its timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.db.session import unit_of_work
from hotline.history import files, repository, rows
from hotline.kit.clock import county_zone
from hotline.ticket import search

BATCH = 1000
Progress = Callable[[str, int, int], None]


@dataclass
class Refused(Exception):
    """Nothing was written: the file, or these rows, are not acceptable."""

    problems: list[rows.Problem]


@dataclass
class Imported:
    rows: int = 0
    written: int = 0
    skipped: int = 0  # their external_id was seen before
    skipped_ids: list[str] = field(default_factory=list)


async def catalogue(session: AsyncSession, now: datetime) -> rows.Catalogue:
    return rows.Catalogue(
        categories=await repository.categories(session),
        places=await repository.places(session),
        zone=county_zone(),
        now=now,
    )


def check(path: Path, known: rows.Catalogue, progress: Progress | None = None) -> list[Any]:
    """The tickets' values, in file order. Raises Refused with every problem of the file."""
    checked: list[Any] = []
    problems: list[rows.Problem] = []
    try:
        for n, row in enumerate(files.read(path, rows.FIELDS), start=1):
            if isinstance(row, files.Unreadable):
                problems.append(rows.Problem(row.line, "-", row.problem))
                continue
            values, found = rows.check(row, known)
            problems += found
            if values is not None:
                checked.append((row.line, values))
            if progress is not None and n % BATCH == 0:
                progress("checking", n, 0)
    except files.FileRefused as exc:
        raise Refused([rows.Problem(0, "-", str(exc))]) from exc
    problems += rows.seen_twice(
        [(line, v["external_id"]) for line, v in checked if v["external_id"]]
    )
    if problems:
        raise Refused(sorted(problems, key=lambda p: p.line))
    if not checked:
        raise Refused([rows.Problem(0, "-", "no rows")])
    return [v for _, v in checked]


async def import_file(
    maker: async_sessionmaker[AsyncSession],
    path: Path,
    *,
    now: datetime,
    progress: Progress | None = None,
    batch: int = BATCH,
) -> Imported:
    """Check the whole file, then write it ``batch`` rows per transaction (module docstring).
    Raises Refused, having written nothing, when any row is bad."""
    async with unit_of_work(maker, read_only=True) as session:
        known = await catalogue(session, now)
    tickets = check(path, known, progress)
    done = Imported(rows=len(tickets))
    for start in range(0, len(tickets), batch):
        chunk = tickets[start : start + batch]
        async with unit_of_work(maker) as session:
            seen = await repository.seen(
                session, [t["external_id"] for t in chunk if t["external_id"]]
            )
            fresh = [t for t in chunk if t["external_id"] not in seen]
            for t in fresh:
                # GET /v1/tickets?q= finds imported tickets too; jieba's cut is about a third
                # of an import's time, so rows skipped are not cut.
                t["search_words"] = search.words(t["content"], search.reply_text(t["reply"]))
            if fresh:
                await repository.insert_batch(session, fresh, now=now, source=path.name)
        done.written += len(fresh)
        done.skipped += len(chunk) - len(fresh)
        done.skipped_ids += sorted(seen)[: max(0, 20 - len(done.skipped_ids))]
        if progress is not None:
            progress("writing", start + len(chunk), len(tickets))
    return done
