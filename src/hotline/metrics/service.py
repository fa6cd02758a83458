"""The figures' queries: one aggregate pass over the period's tickets, grouped or not."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from hotline.hotspot.models import Cluster, ClusterMember
from hotline.kit.clock import county_zone
from hotline.metrics import formulas, rollup
from hotline.metrics.models import DURATIONS, ROLLED, WAITING, metric_bin, metric_day
from hotline.org.models import Staff, Unit
from hotline.ticket.models import Ticket as T
from hotline.workflow.models import Summons

GROUPS: dict[str, Any] = {
    "township": T.township_code,
    "village": T.village_code,
    "grid": T.area_code,
    "unit": T.unit_code,
    "line": T.line,
    "category": T.category_code,
    "kind": T.kind,
    "urgency": T.urgency,
    "worker": T.assignee_id,
}


@dataclass(frozen=True)
class Scope:
    """The period (county dates, both included) and the filters."""

    start: datetime
    end: datetime
    filters: dict[str, str]

    @classmethod
    def of(cls, first: date, last: date, filters: dict[str, str | None]) -> Scope:
        zone = county_zone()
        start = datetime.combine(first, time(), zone)
        end = datetime.combine(last + timedelta(days=1), time(), zone)
        return cls(start, end, {k: v for k, v in filters.items() if v is not None})

    def days(self) -> tuple[date, date] | None:
        """The first and last county day, when the period is whole days."""
        zone = county_zone()
        first, end = self.start.astimezone(zone), self.end.astimezone(zone)
        if first.time() != time() or end.time() != time():
            return None
        return first.date(), end.date() - timedelta(days=1)

    def where(self, query: Any) -> Any:
        query = query.where(T.created_at >= self.start, T.created_at < self.end)
        for name, value in self.filters.items():
            query = query.where(GROUPS[name] == value)
        return query


async def _counts(
    session: AsyncSession, scope: Scope, now: datetime, by: str | None = None
) -> list[tuple[Any, dict[str, int]]]:
    plan = await _plan(session, scope, by)
    if plan is not None:
        return await _rolled_counts(session, scope, now, by, plan)
    exprs = formulas.counts(now)
    columns = [e.label(n) for n, e in exprs.items()]
    key = GROUPS[by] if by else literal_column("NULL")
    query = scope.where(select(key.label("key"), *columns).select_from(T))
    if by:
        query = query.group_by(key)
    rows = await session.execute(query)
    return [(r.key, {n: int(getattr(r, n) or 0) for n in exprs}) for r in rows]


@dataclass(frozen=True)
class Plan:
    """How to read the roll-up for a scope: rows of ``dim`` (= ``key`` if given), every day of
    the period but the dirty ones, which are counted from the tickets."""

    dim: str
    key: str | None
    first: date
    last: date
    dirty: frozenset[date]


# Past this many dirty days in the period the plain query is as cheap.
MAX_DIRTY = 62


async def _custom_plans(session: AsyncSession) -> None:
    """Plan each statement for its own values. asyncpg prepares statements, and after five runs
    PostgreSQL may switch to a generic plan that cannot see that ``sign_due_at >= now`` is a
    handful of rows (measured: 1.9 s instead of 5 ms). Planning costs far less than these scans.
    """
    if rollup.postgres(session):
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def _plan(session: AsyncSession, scope: Scope, by: str | None) -> Plan | None:
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
    if len(dirty) > MAX_DIRTY:
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


async def _rolled_counts(
    session: AsyncSession, scope: Scope, now: datetime, by: str | None, plan: Plan
) -> list[tuple[Any, dict[str, int]]]:
    """Clean days from metric_day, dirty days and the counts that depend on ``now`` live."""
    if by is None:
        out = await _rolled(session, scope, now, plan, None, None)
        return [(None, out.get(None) or dict.fromkeys(formulas.counts(now), 0))]
    out = await _rolled(session, scope, now, plan, metric_day.c.key, GROUPS[by])
    return [(k or None, v) for k, v in out.items() if v["received"]]


async def _rolled(
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


def _seconds(session: AsyncSession, later: Any, earlier: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _minutes(value: Any) -> float | None:
    return round(float(value) / 60, 1) if value is not None else None


async def _durations(
    session: AsyncSession, scope: Scope, plan: Plan | None
) -> dict[str, dict[str, float | None]]:
    """Average and 90th percentile (nearest rank), in minutes, of time to sign and to close,
    over the tickets that have both instants."""
    if plan is not None:
        return await _rolled_durations(session, scope, plan)
    pairs = {
        "time_to_sign": (T.signed_at, T.dispatched_at),
        "time_to_close": (T.closed_at, T.created_at),
    }
    out: dict[str, dict[str, float | None]] = {}
    if session.get_bind().dialect.name == "postgresql":
        columns = []
        for later, earlier in pairs.values():
            seconds = _seconds(session, later, earlier)
            done = and_(later.is_not(None), earlier.is_not(None))
            columns += [
                func.avg(seconds).filter(done),
                func.percentile_disc(0.9).within_group(seconds).filter(done),
            ]
        row = (await session.execute(scope.where(select(*columns).select_from(T)))).one()
        for n, name in enumerate(pairs):
            out[name] = {
                "avg_minutes": _minutes(row[2 * n]),
                "p90_minutes": _minutes(row[2 * n + 1]),
            }
        return out
    for name, (later, earlier) in pairs.items():
        seconds = _seconds(session, later, earlier)
        done = and_(later.is_not(None), earlier.is_not(None))
        avg, n = (
            await session.execute(
                scope.where(select(func.avg(seconds), func.count()).select_from(T).where(done))
            )
        ).one()
        p90 = None
        if n:
            # Nearest rank, as percentile_disc on PostgreSQL.
            rank = max(math.ceil(0.9 * n) - 1, 0)
            p90 = await session.scalar(
                scope.where(select(seconds).select_from(T).where(done))
                .order_by(seconds)
                .offset(rank)
                .limit(1)
            )
        out[name] = {"avg_minutes": _minutes(avg), "p90_minutes": _minutes(p90)}
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


async def _rolled_durations(
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
        value = rollup.seconds(session, measure)
        at = rollup.bin_of(value).label("bin")
        live = scope.where(
            select(at, func.count(), func.sum(rollup.micros(value)), func.min(value))
            .add_columns(func.max(value))
            .where(rollup.done(measure), rollup.on_days(plan.dirty))
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
        out[name] = {"avg_minutes": _minutes(average), "p90_minutes": _minutes(p90)}
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


async def summary(session: AsyncSession, scope: Scope, now: datetime) -> dict[str, Any]:
    """The headline figures. Reads only; from the roll-up where it covers the scope (exact
    either way). Expects one snapshot for all its statements (SnapshotSession)."""
    await _custom_plans(session)
    plan = await _plan(session, scope, None)
    ((_, counted),) = await (
        _rolled_counts(session, scope, now, None, plan) if plan else _counts(session, scope, now)
    )
    whistles = (
        await session.execute(
            scope.where(
                select(
                    func.count(),
                    formulas._count(
                        and_(Summons.reported_at.is_not(None), Summons.late.is_(False))
                    ),
                )
                .select_from(Summons)
                .join(T, T.id == Summons.ticket_id)
            )
        )
    ).one()
    clusters = (
        await session.execute(
            select(func.count(func.distinct(Cluster.id)), func.count(ClusterMember.ticket_id))
            .select_from(Cluster)
            .outerjoin(ClusterMember, ClusterMember.cluster_id == Cluster.id)
            .where(
                Cluster.status != "closed",
                Cluster.last_seen >= scope.start,
                Cluster.first_seen < scope.end,
            )
        )
    ).one()
    on_time, summoned = int(whistles[1] or 0), int(whistles[0] or 0)
    report_in: dict[str, Any] = {
        "value": round(on_time / summoned, 4) if summoned else None,
        "numerator": on_time,
        "denominator": summoned,
    }
    return {
        "counts": counted,
        "rates": formulas.rates(counted),
        **await _durations(session, scope, plan),
        "whistles": {"summoned": summoned, "report_in_on_time": report_in},
        "escalations_by_level": {
            str(level): counted[f"escalated_to_{level}"]
            for level in (1, 2, 3, 4)
            if counted[f"escalated_to_{level}"]
        },
        "clusters": {"open": int(clusters[0] or 0), "tickets": int(clusters[1] or 0)},
    }


async def names(session: AsyncSession, by: str, keys: list[Any]) -> dict[Any, str]:
    keys = [k for k in keys if k is not None]
    if not keys:
        return {}
    if by == "worker":
        rows = await session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(keys)))
    elif by in ("township", "village", "grid", "unit"):
        rows = await session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(keys)))
    else:
        return {}
    return {k: n for k, n in rows}


async def breakdown(
    session: AsyncSession, scope: Scope, now: datetime, by: str
) -> list[dict[str, Any]]:
    await _custom_plans(session)
    groups = await _counts(session, scope, now, by)
    labels = await names(session, by, [k for k, _ in groups])
    return [
        {"key": key, "name": labels.get(key), "counts": counted, "rates": formulas.rates(counted)}
        for key, counted in groups
    ]


def _bucket(session: AsyncSession, interval: str) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        local = func.timezone(county_zone().key, func.timezone("UTC", T.created_at))
        return func.to_char(func.date_trunc(interval, local), "YYYY-MM-DD")
    offset = county_zone().utcoffset(datetime(2000, 1, 1))
    hours = f"{int(offset.total_seconds() // 3600):+d} hours" if offset else "+0 hours"
    local_day = func.date(T.created_at, hours)
    if interval == "week":
        return func.date(local_day, "-6 days", "weekday 1")
    if interval == "month":
        return func.strftime("%Y-%m-01", local_day)
    return local_day


async def timeseries(
    session: AsyncSession, scope: Scope, now: datetime, interval: str
) -> list[dict[str, Any]]:
    await _custom_plans(session)
    plan = await _plan(session, scope, None)
    if plan is not None:
        days = await _rolled(session, scope, now, plan, metric_day.c.day, rollup.day_of(session))
        periods: dict[date, dict[str, int]] = {}
        for day, counted in sorted(days.items()):
            start = _period_start(day, interval)
            into = periods.setdefault(start, dict.fromkeys(counted, 0))
            for n, v in counted.items():
                into[n] += v
        return [_point(start.isoformat(), c) for start, c in sorted(periods.items())]
    bucket = _bucket(session, interval).label("bucket")
    exprs = formulas.counts(now)
    query = (
        scope.where(select(bucket, *[e.label(n) for n, e in exprs.items()]).select_from(T))
        .group_by(bucket)
        .order_by(bucket)
    )
    out = []
    for row in await session.execute(query):
        out.append(_point(str(row.bucket)[:10], {n: int(getattr(row, n) or 0) for n in exprs}))
    return out


def _period_start(day: date, interval: str) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def _point(period: str, counted: dict[str, int]) -> dict[str, Any]:
    rates = formulas.rates(counted)
    shown = ("completion", "on_time_completion", "on_time_signing", "satisfaction")
    return {"period": period, "counts": counted, "rates": {k: rates[k] for k in shown}}
