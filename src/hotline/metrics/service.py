"""The figures' queries: from the roll-up where it covers the scope (metrics.rolled), else one
aggregate pass over the period's tickets, grouped or not. Exact either way."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, literal_column, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from hotline.hotspot.models import Cluster, ClusterMember
from hotline.kit.clock import county_zone
from hotline.metrics import formulas, rolled, rollup
from hotline.metrics.models import metric_day
from hotline.metrics.scope import GROUPS, Scope
from hotline.org.models import Staff, Unit
from hotline.suggestion.models import TicketSuggestion
from hotline.ticket.models import Summons
from hotline.ticket.models import Ticket as T

__all__ = ["GROUPS", "Scope", "breakdown", "names", "summary", "timeseries"]


async def _counts(
    session: AsyncSession, scope: Scope, now: datetime, by: str | None = None
) -> list[tuple[Any, dict[str, int]]]:
    plan = await rolled.plan(session, scope, by)
    if plan is not None:
        return await rolled.rolled_counts(session, scope, now, by, plan)
    exprs = formulas.counts(now)
    columns = [e.label(n) for n, e in exprs.items()]
    key = GROUPS[by] if by else literal_column("NULL")
    query = scope.where(select(key.label("key"), *columns).select_from(T))
    if by:
        query = query.group_by(key)
    rows = await session.execute(query)
    found = [(r.key, {n: int(getattr(r, n) or 0) for n in exprs}) for r in rows]
    # A group holding only merged duplicates still shows them (as merged), as the roll-up does.
    return [(k, c) for k, c in found if c["received"] or c["merged"] or not by]


async def _custom_plans(session: AsyncSession) -> None:
    """Plan each statement for its own values. asyncpg prepares statements, and after five runs
    PostgreSQL may switch to a generic plan that cannot see that ``sign_due_at >= now`` is a
    handful of rows (measured: 1.9 s instead of 5 ms). Planning costs far less than these scans.
    """
    if rollup.postgres(session):
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _seconds(session: AsyncSession, later: Any, earlier: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


async def _durations(
    session: AsyncSession, scope: Scope, plan: rolled.Plan | None
) -> dict[str, dict[str, float | None]]:
    """Average and 90th percentile (nearest rank), in minutes, of time to sign and to close,
    over the tickets that have both instants."""
    if plan is not None:
        return await rolled.durations(session, scope, plan)
    pairs = {
        "time_to_sign": (T.signed_at, T.dispatched_at, "sign"),
        "time_to_close": (T.closed_at, T.created_at, "close"),
    }
    out: dict[str, dict[str, float | None]] = {}
    if session.get_bind().dialect.name == "postgresql":
        columns = []
        for later, earlier, measure in pairs.values():
            seconds = _seconds(session, later, earlier)
            done = rollup.done(measure)
            columns += [
                func.avg(seconds).filter(done),
                func.percentile_disc(0.9).within_group(seconds).filter(done),
            ]
        row = (await session.execute(scope.where(select(*columns).select_from(T)))).one()
        for n, name in enumerate(pairs):
            out[name] = {
                "avg_minutes": formulas.minutes(row[2 * n]),
                "p90_minutes": formulas.minutes(row[2 * n + 1]),
            }
        return out
    for name, (later, earlier, measure) in pairs.items():
        seconds = _seconds(session, later, earlier)
        done = rollup.done(measure)
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
        out[name] = {"avg_minutes": formulas.minutes(avg), "p90_minutes": formulas.minutes(p90)}
    return out


async def summary(session: AsyncSession, scope: Scope, now: datetime) -> dict[str, Any]:
    """The headline figures. Reads only; from the roll-up where it covers the scope (exact
    either way). Expects one snapshot for all its statements (SnapshotSession)."""
    await _custom_plans(session)
    plan = await rolled.plan(session, scope, None)
    ((_, counted),) = await (
        rolled.rolled_counts(session, scope, now, None, plan)
        if plan
        else _counts(session, scope, now)
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
            rung: counted[f"escalated_{rung}"]
            for rung in formulas.RUNGS
            if counted[f"escalated_{rung}"]
        },
        "clusters": {"open": int(clusters[0] or 0), "tickets": int(clusters[1] or 0)},
        "suggestions": await _suggestions(session, scope),
    }


def _share(numerator: int, denominator: int) -> dict[str, Any]:
    value = round(numerator / denominator, 4) if denominator else None
    return {"value": value, "numerator": numerator, "denominator": denominator}


async def _suggestions(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    """The suggestion figures over the period's tickets (docs/metrics.md): intake accuracy and
    top-3 (the suggested category against the category the ticket has now), the automatic
    acceptance rate, and first dispatch right (never returned, re-dispatched or ruled)."""
    rows = (
        await session.execute(
            scope.where(
                select(T.category_code, TicketSuggestion.category_code, TicketSuggestion.top3)
                .select_from(TicketSuggestion)
                .join(T, T.id == TicketSuggestion.ticket_id)
                .add_columns(TicketSuggestion.accepted)
            )
        )
    ).all()
    dispatched = (
        await session.execute(
            scope.where(
                select(
                    func.count(),
                    formulas._count(and_(T.transfer_count == 0, T.designated.is_(False))),
                ).where(T.dispatched_at.is_not(None))
            )
        )
    ).one()
    posted = len(rows)
    return {
        "accuracy_on_intake": _share(sum(final == top for final, top, _, _ in rows), posted),
        "top3_on_intake": _share(sum(final in (top3 or ()) for final, _, top3, _ in rows), posted),
        "automatic_acceptance": _share(sum(bool(r[3]) for r in rows), posted),
        "first_dispatch_right": _share(int(dispatched[1] or 0), int(dispatched[0] or 0)),
    }


def staff_code(staff_id: int) -> str:
    """How a worker is named where their name must not show (the viewer's screens)."""
    return f"S{staff_id}"


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
    plan = await rolled.plan(session, scope, None)
    if plan is not None:
        days = await rolled.rolled(
            session, scope, now, plan, metric_day.c.day, rollup.day_of(session)
        )
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
