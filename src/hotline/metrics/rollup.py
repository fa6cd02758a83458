"""Keeping the daily roll-up (metrics.models) equal to the tickets, whoever wrote them.

The unit of work is one county creation day: a ticket never changes its creation day, but it may
change any other dimension (a transfer changes its unit), so when a ticket changed, every roll-up
row of its day is recomputed from the tickets. A day is *dirty* while it holds a ticket whose
``change_seq`` is above the roll-up's watermark; readers (metrics.service) take clean days from
the roll-up and count dirty days live, so an answer never waits for a refresh.

Why the watermark is safe: a refresh reads W = ``committed_through()`` first. Every change ≤ W
is committed, so every later statement of the refresh sees it; a change it also sees above W
stays above the new watermark and makes its day dirty again. Refreshes take the state row's
lock one at a time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    Double,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from hotline.kit.clock import county_zone
from hotline.metrics import formulas
from hotline.metrics.models import DURATIONS, ROLLED, WAITING, MetricState, metric_bin, metric_day
from hotline.ticket.models import Ticket as T

# The dimensions kept per day besides "all"; a filter on any other (village, grid, unit,
# worker: hundreds of values, each narrow enough for its own index) or on two at once is
# answered from the tickets.
DIMS: dict[str, Any] = {
    "township": T.township_code,
    "category": T.category_code,
    "line": T.line,
    "kind": T.kind,
    "urgency": T.urgency,
}
# Upper bounds (seconds) of the duration histogram's bins; the last bin is open. About ×1.1
# apart from a minute to 180 days, so the bin holding the 90th percentile is a few per cent of
# the tickets (service reads the exact value inside it).
BOUNDS: tuple[int, ...] = tuple(
    sorted({60, *(round(60 * 1.1**i) for i in range(1, 132) if 60 * 1.1**i <= 180 * 86400)})
)
# Days per statement when deleting or rebuilding, to keep parameter lists short.
CHUNK = 200
# Imported tickets (history.service) are history without clocks: no figure counts them.
LIVE = T.imported.is_(False)


async def committed_through(session: AsyncSession) -> int:
    """The highest change number N such that every change ≤ N is committed (workflow.changes).

    The only place that knows how change numbers are handed out: the counter row is updated
    under its lock as each writer's last statement, so its committed value is such an N.
    """
    value = await session.scalar(text("SELECT value FROM change_counter WHERE id = 1"))
    return int(value or 0)


def postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def day_of(session: AsyncSession) -> ColumnElement[Any]:
    """The county day a ticket was created on (created_at is naive UTC)."""
    if postgres(session):
        local = func.timezone(county_zone().key, func.timezone("UTC", T.created_at))
        return cast(local, Date)
    offset = county_zone().utcoffset(datetime(2000, 1, 1)) or timedelta()
    return func.date(T.created_at, f"{int(offset.total_seconds() // 60):+d} minutes")


def day_range(day: date) -> tuple[datetime, datetime]:
    zone = county_zone()
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    return start, datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)


def on_days(days: Iterable[date]) -> ColumnElement[bool]:
    """Tickets created on these county days, as ranges of the created_at index."""
    ranges = []
    for first, last in _runs(sorted(set(days))):
        ranges.append(and_(T.created_at >= day_range(first)[0], T.created_at < day_range(last)[1]))
    return or_(*ranges) if ranges else literal(False)


def _runs(days: list[date]) -> list[tuple[date, date]]:
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def seconds(session: AsyncSession, measure: str) -> ColumnElement[Any]:
    later, earlier = DURATIONS[measure]
    if postgres(session):
        # The same expression as the index ix_ticket_<measure>_seconds, exact (numeric).
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def done(measure: str) -> ColumnElement[bool]:
    """The tickets a duration is measured over: both instants known, and no merged duplicate
    (which is no ticket of its own in any figure)."""
    later, earlier = DURATIONS[measure]
    return and_(
        later.is_not(None), earlier.is_not(None), func.coalesce(T.close_reason, "") != "merged"
    )


def bin_of(value: ColumnElement[Any], low: int = 0, high: int = len(BOUNDS)) -> Any:
    """The bin n with BOUNDS[n-1] <= value < BOUNDS[n], by bisection: ~8 comparisons a row.
    Numbers inline, not bound, so that GROUP BY can repeat the expression."""
    if low == high:
        return literal_column(str(low))
    middle = (low + high) // 2
    return case(
        (value < literal_column(str(BOUNDS[middle])), bin_of(value, low, middle)),
        else_=bin_of(value, middle + 1, high),
    )


def in_bin(value: ColumnElement[Any], n: int) -> ColumnElement[bool]:
    """The same partition as bin_of, as a range the duration indexes can answer."""
    parts = []
    if n > 0:
        parts.append(value >= BOUNDS[n - 1])
    if n < len(BOUNDS):
        parts.append(value < BOUNDS[n])
    return and_(*parts)


def fenced(query: Any) -> Any:
    """The query as a subquery the planner keeps apart (OFFSET 0), so that a duration is
    computed once per ticket, not once per use in the ~8 comparisons of bin_of."""
    return query.offset(0).subquery()


def micros(value: ColumnElement[Any]) -> ColumnElement[Any]:
    return cast(func.round(value * 1_000_000), BigInteger)


def count_columns(now: datetime) -> list[ColumnElement[Any]]:
    """The kept counts, as in metric_day: those of formulas.counts and the WAITING ones."""
    exprs = formulas.counts(now)
    kept = [exprs[name].label(name) for name in ROLLED]
    return kept + [formulas._count(c).label(name) for name, c in WAITING.items()]


@dataclass
class State:
    watermark: int | None

    @property
    def built(self) -> bool:
        return self.watermark is not None


async def state(session: AsyncSession) -> State:
    return State(await session.scalar(select(MetricState.watermark).where(MetricState.id == 1)))


async def dirty_days(session: AsyncSession, watermark: int) -> set[date]:
    """The days holding a ticket changed after ``watermark`` (the change_seq index)."""
    rows = await session.scalars(select(day_of(session)).distinct().where(T.change_seq > watermark))
    return {_as_date(d) for d in rows}


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


@dataclass
class Refreshed:
    days: int
    watermark: int
    full: bool


async def refresh(session: AsyncSession, now: datetime, *, full: bool = False) -> Refreshed:
    """Bring the roll-up up to the committed changes: rebuild every dirty day (every day on the
    first run, or with ``full``). Writes only metric_* rows; the caller commits. Concurrent
    refreshes wait for each other on the state row.
    """
    await _lock_state(session)
    previous = await session.scalar(
        select(MetricState.watermark).where(MetricState.id == 1).with_for_update()
    )
    # Read before anything else: see the module docstring.
    through = await committed_through(session)
    full = full or previous is None
    if full:
        await session.execute(delete(metric_day))
        await session.execute(delete(metric_bin))
        days: list[date] | None = None
        count = 0
    else:
        assert previous is not None
        days = sorted(await dirty_days(session, previous))
        count = len(days)
    for chunk in [None] if days is None else _chunks(days):
        if chunk is not None:
            await session.execute(delete(metric_day).where(metric_day.c.day.in_(chunk)))
            await session.execute(delete(metric_bin).where(metric_bin.c.day.in_(chunk)))
        await _build(session, now, chunk)
    if full:
        count = int(await session.scalar(select(func.count(func.distinct(metric_day.c.day)))) or 0)
    await session.execute(
        update(MetricState)
        .where(MetricState.id == 1)
        .values(watermark=through, refreshed_at=now, **({"built_on": now.date()} if full else {}))
    )
    return Refreshed(days=count, watermark=through, full=full)


def _chunks(days: list[date]) -> list[list[date]]:
    return [days[i : i + CHUNK] for i in range(0, len(days), CHUNK)]


async def _lock_state(session: AsyncSession) -> None:
    if postgres(session):
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    await session.execute(upsert(MetricState).values(id=1).on_conflict_do_nothing())


async def _build(session: AsyncSession, now: datetime, days: list[date] | None) -> None:
    if postgres(session):
        await _build_grouped(session, now, days)
        return
    for table, columns, query in _statements(session, now, days):
        await session.execute(insert(table).from_select(columns, query))


def _statements(
    session: AsyncSession, now: datetime, days: list[date] | None
) -> list[tuple[Any, list[str], Any]]:
    """SQLite: (table, its columns, the SELECT of its rows) of these days (every day: None),
    one per dimension and, for the bins, per measure."""
    out: list[tuple[Any, list[str], Any]] = []
    day = day_of(session).label("day")
    scope = and_(LIVE, on_days(days) if days is not None else literal(True))
    groups: list[tuple[str, ColumnElement[Any]]] = [("all", literal(""))]
    groups += [(name, func.coalesce(column, "")) for name, column in DIMS.items()]
    for dim, key in groups:
        keyed = key.label("key")
        query = (
            select(day, literal(dim).label("dim"), keyed, *count_columns(now))
            .where(scope)
            .group_by(day, keyed)
        )
        out.append((metric_day, ["day", "dim", "key", *ROLLED, *WAITING], query))
        for measure in DURATIONS:
            value = seconds(session, measure)
            bin_ = bin_of(value).label("bin")
            query = (
                select(
                    day,
                    literal(dim).label("dim"),
                    keyed,
                    literal(measure).label("measure"),
                    bin_,
                    func.count().label("n"),
                    func.sum(micros(value)).label("total_us"),
                    cast(func.min(value), Double).label("least"),
                    cast(func.max(value), Double).label("greatest"),
                )
                .where(scope, done(measure))
                .group_by(day, keyed, bin_)
            )
            columns = ["day", "dim", "key", "measure", "bin", "n", "total_us", "least", "greatest"]
            out.append((metric_bin, columns, query))
    return out


@dataclass
class Computed:
    """The roll-up rows of the dirty days as of change ``through``, read outside the write
    lock (``compute``), to be stored in a short transaction (``store``)."""

    previous: int
    through: int
    days: list[date]
    rows: list[tuple[Any, list[dict[str, Any]]]]


async def compute(session: AsyncSession, now: datetime) -> Computed | None:
    """SQLite: what ``refresh`` would write for the dirty days, read in the caller's read-only
    transaction (one snapshot: the watermark reasoning of the module docstring holds). None
    before the roll-up is first built, which ``refresh`` does whole."""
    previous = (await state(session)).watermark
    if previous is None:
        return None
    through = await committed_through(session)
    days = sorted(await dirty_days(session, previous))
    rows: list[tuple[Any, list[dict[str, Any]]]] = []
    for chunk in _chunks(days):
        for table, _, query in _statements(session, now, chunk):
            found = [dict(r._mapping) for r in await session.execute(query)]
            for row in found:
                row["day"] = _as_date(row["day"])
            rows.append((table, found))
    return Computed(previous, through, days, rows)


async def store(session: AsyncSession, computed: Computed, now: datetime) -> Refreshed | None:
    """Write what ``compute`` read, unless another refresh moved the watermark since (its
    figures then stand, and those days are clean or dirty again by its account)."""
    await _lock_state(session)
    current = await session.scalar(
        select(MetricState.watermark).where(MetricState.id == 1).with_for_update()
    )
    if current != computed.previous:
        return None
    for chunk in _chunks(computed.days):
        await session.execute(delete(metric_day).where(metric_day.c.day.in_(chunk)))
        await session.execute(delete(metric_bin).where(metric_bin.c.day.in_(chunk)))
    for table, rows in computed.rows:
        if rows:
            await session.execute(insert(table), rows)
    await session.execute(
        update(MetricState)
        .where(MetricState.id == 1)
        .values(watermark=computed.through, refreshed_at=now)
    )
    return Refreshed(days=len(computed.days), watermark=computed.through, full=False)


async def _build_grouped(session: AsyncSession, now: datetime, days: list[date] | None) -> None:
    """PostgreSQL: every dimension in one pass per table (GROUPING SETS), 3 passes in all."""
    zone = county_zone().key
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]+", zone):
        raise ValueError(f"unexpected time zone name {zone!r}")
    # Inline, not bound: GROUP BY must repeat the very expression.
    local = func.timezone(literal_column(f"'{zone}'"), func.timezone(text("'UTC'"), T.created_at))
    day = cast(local, Date)
    scope = and_(LIVE, on_days(days) if days is not None else literal(True))

    def labelled(columns: dict[str, Any]) -> tuple[Any, Any]:
        dim = case(
            *((func.grouping(c) == 0, literal(n)) for n, c in columns.items()), else_=literal("all")
        )
        key = case(
            *((func.grouping(c) == 0, func.coalesce(c, "")) for c in columns.values()),
            else_=literal(""),
        )
        return dim.label("dim"), key.label("key")

    def sets(day: Any, columns: dict[str, Any], *extra: Any) -> Any:
        return func.grouping_sets(
            tuple_(day, *extra), *(tuple_(day, c, *extra) for c in columns.values())
        )

    query = (
        select(day.label("day"), *labelled(DIMS), *count_columns(now))
        .where(scope)
        .group_by(sets(day, DIMS))
    )
    await session.execute(
        insert(metric_day).from_select(["day", "dim", "key", *ROLLED, *WAITING], query)
    )
    for measure in DURATIONS:
        times = fenced(
            select(
                day.label("day"),
                *(c.label(n) for n, c in DIMS.items()),
                seconds(session, measure).label("v"),
            ).where(scope, done(measure))
        )
        columns = {n: times.c[n] for n in DIMS}
        value, bin_ = times.c.v, bin_of(times.c.v)
        query = select(
            times.c.day,
            *labelled(columns),
            literal(measure).label("measure"),
            bin_.label("bin"),
            func.count().label("n"),
            func.sum(micros(value)).label("total_us"),
            cast(func.min(value), Double).label("least"),
            cast(func.max(value), Double).label("greatest"),
        ).group_by(sets(times.c.day, columns, bin_))
        await session.execute(
            insert(metric_bin).from_select(
                ["day", "dim", "key", "measure", "bin", "n", "total_us", "least", "greatest"],
                query,
            )
        )
