"""Answering from the roll-up (metrics.rollup): clean days from its rows, dirty days and the
counts that depend on the clock from the tickets. Every answer equals the plain query's.

    plan()            whether the roll-up covers a scope, and which of its days are dirty
    rolled()          counts per key (nothing, a dimension's value, a day)
    durations()       averages and exact 90th percentiles from the histograms
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from hotline.metrics import formulas, rollup
from hotline.metrics.models import DURATIONS, ROLLED, WAITING, metric_bin, metric_day
from hotline.metrics.scope import GROUPS, Scope
from hotline.ticket.models import Ticket as T


@dataclass(frozen=True)
class Plan:
    """How to read the roll-up for a scope: rows of ``dim`` (= ``key`` if given), every day of
    the period but the dirty ones, which are counted from the tickets."""

    dim: str
    key: str | None
    first: date
    last: date
    dirty: frozenset[date]


# Past this many dirty days in the period (or a third of its days) the plain query is as cheap:
# a dirty day costs about what the plain query pays for a day, plus the histograms.
MAX_DIRTY = 62


async def plan(session: AsyncSession, scope: Scope, by: str | None) -> Plan | None:
    """A plan when the roll-up covers the scope (at most one filter, on a kept dimension; a
    breakdown by a kept dimension without filters) and is built; else None (plain query)."""
    days = scope.days()
    if days is None:
        return None
    if by is not None:
        if by not in rollup.DIMS or scope.filters:
            return None
        dim, key = by, None
    elif not scope.filters:
        dim, key = "all", ""
    elif len(scope.filters) == 1 and next(iter(scope.filters)) in rollup.DIMS:
        ((dim, key),) = scope.filters.items()
    else:
        return None
    kept = await rollup.state(session)
    if kept.watermark is None:
        return None
    first, last = days
    dirty = {d for d in await rollup.dirty_days(session, kept.watermark) if first <= d <= last}
    if len(dirty) > min(MAX_DIRTY, (last - first).days // 3 + 1):
        return None
    return Plan(dim, key, first, last, frozenset(dirty))


def _rows(table: Any, plan: Plan) -> list[ColumnElement[bool]]:
    where = [
        table.c.dim == plan.dim,
        table.c.day >= plan.first,
        table.c.day <= plan.last,
    ]
    if plan.key is not None:
        where.append(table.c.key == plan.key)
    if plan.dirty:
        where.append(table.c.day.not_in(sorted(plan.dirty)))
    return where


async def rolled_counts(
    session: AsyncSession, scope: Scope, now: datetime, by: str | None, plan: Plan
) -> list[tuple[Any, dict[str, int]]]:
    """Clean days from metric_day, dirty days and the counts that depend on ``now`` live."""
    if by is None:
        out = await rolled(session, scope, now, plan, None, None)
        return [(None, out.get(None) or dict.fromkeys(formulas.counts(now), 0))]
    out = await rolled(session, scope, now, plan, metric_day.c.key, GROUPS[by])
    return [(k or None, v) for k, v in out.items() if v["received"] or v["merged"]]


async def rolled(
    session: AsyncSession,
    scope: Scope,
    now: datetime,
    plan: Plan,
    stored_key: Any,
    live_key: Any,
) -> dict[Any, dict[str, int]]:
    """Counts per key (None: one group): the stored rows' ``stored_key`` and the live rows'
    ``live_key`` must name the same groups."""
    names = list(formulas.counts(now))
    kept = (*ROLLED, *WAITING)
    out: dict[Any, dict[str, int]] = {}

    def add(key: Any, row: Any, columns: Iterable[str], sign: int = 1) -> None:
        if isinstance(key, str) and stored_key is metric_day.c.day:
            key = date.fromisoformat(key)  # SQLite's date() is text
        counted = out.setdefault(key, dict.fromkeys((*names, *WAITING), 0))
        for n in columns:
            counted[n] += sign * int(getattr(row, n) or 0)

    day = metric_day.c
    skey = stored_key if stored_key is not None else literal_column("NULL")
    stored = select(skey.label("key"), *(func.sum(day[n]).label(n) for n in kept))
    stored = stored.where(*_rows(metric_day, plan))
    for row in await session.execute(stored.group_by(skey) if stored_key is not None else stored):
        add(row.key, row, kept)
    key = live_key if live_key is not None else literal_column("NULL")

    def grouped(query: Any) -> Any:
        return query.group_by(key) if live_key is not None else query

    if plan.dirty:
        live = rollup.count_columns(now)
        query = scope.where(select(key.label("key"), *live)).where(rollup.on_days(plan.dirty))
        for row in await session.execute(grouped(query)):
            add(row.key, row, kept)
    # Overdue now = open with a deadline − open with the deadline still ahead (formulas.counts'
    # overdue_now, split at `now`). The second part is few rows, found by the deadline indexes.
    ahead = {
        "open_sign_dated": and_(T.status.in_(("dispatched", "rework")), T.sign_due_at >= now),
        "open_reply_dated": and_(T.status == "signed", T.reply_due_at >= now),
    }
    columns = [formulas._count(c).label(n) for n, c in ahead.items()]
    query = scope.where(select(key.label("key"), *columns).where(or_(*ahead.values())))
    for row in await session.execute(grouped(query)):
        add(row.key, row, WAITING, sign=-1)
    for counted in out.values():
        counted["overdue_now"] = sum(counted.pop(n) for n in WAITING)
    return out


@dataclass
class Bin:
    n: int = 0
    total_us: int = 0
    least: float = math.inf
    greatest: float = -math.inf

    def add(self, n: Any, total_us: Any, least: Any, greatest: Any) -> None:
        self.n += int(n)
        self.total_us += int(total_us)
        self.least = min(self.least, float(least))
        self.greatest = max(self.greatest, float(greatest))


async def durations(
    session: AsyncSession, scope: Scope, plan: Plan
) -> dict[str, dict[str, float | None]]:
    """The histograms of clean days (metric_bin) and dirty days (live), merged; the average
    from their exact sums, the 90th percentile located in its bin and read from the tickets."""
    bins: dict[str, dict[int, Bin]] = {m: {} for m in DURATIONS}
    b = metric_bin.c
    stored = (
        select(b.measure, b.bin, func.sum(b.n), func.sum(b.total_us), func.min(b.least))
        .add_columns(func.max(b.greatest))
        .where(*_rows(metric_bin, plan))
        .group_by(b.measure, b.bin)
    )
    for measure, n, *sums in await session.execute(stored):
        bins[measure].setdefault(n, Bin()).add(*sums)
    for measure in DURATIONS if plan.dirty else ():
        times = rollup.fenced(
            scope.where(select(rollup.seconds(session, measure).label("v"))).where(
                rollup.done(measure), rollup.on_days(plan.dirty)
            )
        )
        value = times.c.v
        at = rollup.bin_of(value).label("bin")
        live = (
            select(at, func.count(), func.sum(rollup.micros(value)), func.min(value))
            .add_columns(func.max(value))
            .group_by(at)
        )
        for n, *sums in await session.execute(live):
            bins[measure].setdefault(n, Bin()).add(*sums)
    out: dict[str, dict[str, float | None]] = {}
    for measure, name in (("sign", "time_to_sign"), ("close", "time_to_close")):
        histogram = bins[measure]
        count = sum(h.n for h in histogram.values())
        if not count:
            out[name] = {"avg_minutes": None, "p90_minutes": None}
            continue
        total = sum(h.total_us for h in histogram.values())
        average = Decimal(total) / Decimal(count) / Decimal(1_000_000)
        p90 = await _p90(session, scope, measure, histogram, count)
        out[name] = {"avg_minutes": formulas.minutes(average), "p90_minutes": formulas.minutes(p90)}
    return out


async def _p90(
    session: AsyncSession, scope: Scope, measure: str, histogram: dict[int, Bin], count: int
) -> Any:
    """Nearest rank, as percentile_disc(0.9): the ceil(0.9·n)-th value. Its bin and its place
    in the bin come from the histogram; the value itself from the tickets of that bin."""
    rank = max(math.ceil(0.9 * count) - 1, 0)
    below = 0
    for at in sorted(histogram):
        h = histogram[at]
        if rank < below + h.n:
            offset = rank - below
            if offset == 0 or h.least == h.greatest:
                return h.least
            if offset == h.n - 1:
                return h.greatest
            value = rollup.seconds(session, measure)
            return await session.scalar(
                scope.where(select(value).where(rollup.done(measure), rollup.in_bin(value, at)))
                .order_by(value)
                .offset(offset)
                .limit(1)
            )
        below += h.n
    raise AssertionError("rank beyond the histogram")
