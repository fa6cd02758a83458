"""The sweeper: one pass reminds before breaches, marks breaches overdue and escalates what the
ladder says (DESIGN.md §6). ``hotline sweep`` runs one pass (``--now`` evaluates as of that
instant); ``hotline serve`` runs passes every few seconds.

Several processes may sweep at once: rows are claimed with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL (SQLite serialises writers), and each row's marks are re-read under the lock, so no
reminder, breach or escalation happens twice. The serve loop also takes a PostgreSQL advisory
lock per pass, so only one process sweeps at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from hotline.db.session import unit_of_work
from hotline.escalation.service import Ladder, escalate
from hotline.kit.clock import utcnow
from hotline.kit.failures import FailureLog
from hotline.routing.state import RoutingCache
from hotline.sla import deadlines, sweep_rules
from hotline.ticket import events
from hotline.ticket.models import Ticket
from hotline.workflow import changes
from hotline.workflow.models import Summons

log = logging.getLogger(__name__)
BATCH = 500
LOOP_LOCK = 0x4E4F544C494E45  # advisory lock id of the serve loop


@dataclass
class Report:
    reminded: int = 0
    overdue: int = 0
    escalated: int = 0
    seconds: float = 0.0
    by_clock: dict[str, int] = field(default_factory=dict)


async def _claim(session: AsyncSession, model: Any, now: datetime) -> list[Any]:
    column = model.next_check_at
    rows: Any = await session.scalars(
        select(model)
        .where(column <= now)
        .order_by(column)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    return list(rows.all())


async def _ticket(
    rungs: Ladder,
    ticket: Ticket,
    now: datetime,
    share: float,
    report: Report,
    trigger_prefix: str = "",
) -> None:
    session = rungs.session
    for clock, what in sweep_rules.due_now(sweep_rules.clocks_of(ticket), now, share):
        due = clock.due_at.isoformat() if clock.due_at else None
        if what == "remind":
            setattr(ticket, f"{clock.name}_reminded_at", now)
            events.record(
                session,
                ticket,
                "reminded",
                actor=None,
                at=now,
                from_status=ticket.status,
                details={"clock": clock.name, "due_at": due},
            )
            report.reminded += 1
            continue
        setattr(ticket, f"{clock.name}_overdue_at", now)
        events.record(
            session,
            ticket,
            "overdue",
            actor=None,
            at=now,
            from_status=ticket.status,
            details={"clock": clock.name, "due_at": due},
        )
        report.overdue += 1
        report.by_clock[clock.name] = report.by_clock.get(clock.name, 0) + 1
        if clock.name in sweep_rules.ESCALATING and await escalate(
            rungs,
            ticket,
            reason=f"{clock.name} deadline {due} passed",
            trigger=f"{trigger_prefix}{clock.name}_overdue",
            actor=None,
            now=now,
        ):
            report.escalated += 1
    ticket.version += 1
    ticket.updated_at = now
    ticket.next_check_at = sweep_rules.next_check(sweep_rules.clocks_of(ticket), share)


async def _tickets(
    maker: async_sessionmaker[AsyncSession],
    routing: RoutingCache,
    now: datetime,
    share: float,
    report: Report,
) -> int:
    async with unit_of_work(maker) as session:
        rows = await _claim(session, Ticket, now)
        rungs = Ladder(session, await routing.current(session))
        for ticket in rows:
            await _ticket(rungs, ticket, now, share, report)
        await session.flush()
        await changes.stamp_many(session, rows)
    return len(rows)


async def _summons(
    maker: async_sessionmaker[AsyncSession],
    routing: RoutingCache,
    now: datetime,
    share: float,
    report: Report,
) -> int:
    async with unit_of_work(maker) as session:
        rows: list[Summons] = list(await _claim(session, Summons, now))
        if not rows:
            return 0
        rungs = Ladder(session, await routing.current(session))
        tickets = {
            t.id: t
            for t in await session.scalars(
                select(Ticket)
                .where(Ticket.id.in_({s.ticket_id for s in rows}))
                .order_by(Ticket.id)
                .with_for_update()
            )
        }
        touched: dict[int, Ticket] = {}
        for summons in rows:
            ticket = tickets[summons.ticket_id]
            clock = sweep_rules.clock_of_summons(summons, ticket.status != "closed")
            for _, what in sweep_rules.due_now([clock], now, share):
                touched[ticket.id] = ticket
                details = {
                    "clock": "report_in",
                    "summons_id": summons.id,
                    "due_at": summons.due_at.isoformat(),
                }
                if what == "remind":
                    summons.reminded_at = now
                    events.record(
                        session,
                        ticket,
                        "reminded",
                        actor=None,
                        at=now,
                        from_status=ticket.status,
                        details=details,
                    )
                    report.reminded += 1
                    continue
                summons.overdue_at = now
                events.record(
                    session,
                    ticket,
                    "overdue",
                    actor=None,
                    at=now,
                    from_status=ticket.status,
                    details=details,
                )
                report.overdue += 1
                report.by_clock["report_in"] = report.by_clock.get("report_in", 0) + 1
                if await escalate(
                    rungs,
                    ticket,
                    reason="no report-in after the whistle",
                    trigger="report_in_overdue",
                    actor=None,
                    now=now,
                ):
                    report.escalated += 1
            summons.next_check_at = sweep_rules.next_check(
                [sweep_rules.clock_of_summons(summons, ticket.status != "closed")], share
            )
        for ticket in touched.values():
            ticket.version += 1
            ticket.updated_at = now
            deadlines.reschedule(ticket)
        await session.flush()
        await changes.stamp_many(session, list(touched.values()), rows)
    return len(rows)


async def sweep(
    maker: async_sessionmaker[AsyncSession],
    routing: RoutingCache,
    *,
    now: datetime | None = None,
    share: float | None = None,
) -> Report:
    """One pass over everything due at ``now`` (default: the wall clock), in batches."""
    started = time.perf_counter()
    now = now or utcnow()
    share = sweep_rules.REMIND_SHARE[0] if share is None else share
    report = Report()
    while await _tickets(maker, routing, now, share, report) == BATCH:
        pass
    while await _summons(maker, routing, now, share, report) == BATCH:
        pass
    report.seconds = time.perf_counter() - started
    return report


async def loop(
    engine: AsyncEngine,
    maker: async_sessionmaker[AsyncSession],
    routing: RoutingCache,
    *,
    interval: float,
    share: float,
    hotspot_interval: float = 600.0,
) -> None:
    """Sweep every ``interval`` seconds until cancelled; one process at a time on PostgreSQL.
    The hot-spot detector runs after a pass at most every ``hotspot_interval`` seconds."""
    postgres = engine.dialect.name == "postgresql"
    detected = [0.0]
    failures = FailureLog(log, "sweep")

    async def work() -> None:
        _log(await sweep(maker, routing, share=share))
        await _refresh_metrics(maker)
        if time.monotonic() - detected[0] >= hotspot_interval:
            detected[0] = time.monotonic()
            await _detect(maker)

    while True:
        try:
            if postgres:
                async with engine.connect() as conn:
                    got = await conn.scalar(
                        text("SELECT pg_try_advisory_lock(:k)"), {"k": LOOP_LOCK}
                    )
                    if got:
                        try:
                            await work()
                        finally:
                            await conn.execute(
                                text("SELECT pg_advisory_unlock(:k)"), {"k": LOOP_LOCK}
                            )
                            await conn.commit()
            else:
                await work()
            failures.succeeded()
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be down: log, and try again next tick
            failures.failed()
        await asyncio.sleep(interval)


# The last pass of this process, for /metrics.
LAST: list[Report] = []
PASSES = {"count": 0, "seconds": 0.0}


def _log(report: Report) -> None:
    LAST[:] = [report]
    PASSES["count"] += 1
    PASSES["seconds"] += report.seconds
    if report.reminded or report.overdue:
        log.info(
            "sweep: %d reminded, %d overdue, %d escalated in %.2fs",
            report.reminded,
            report.overdue,
            report.escalated,
            report.seconds,
        )


async def _refresh_metrics(maker: async_sessionmaker[AsyncSession]) -> None:
    """Fold the changes since the last pass into the dashboard's roll-up (metrics.rollup)."""
    from hotline.metrics import rollup

    started = time.perf_counter()
    async with unit_of_work(maker) as session:
        done = await rollup.refresh(session, utcnow())
    if done.full or done.days:
        log.info(
            "metrics roll-up: %s through change %d in %.2fs",
            "built" if done.full else f"{done.days} day(s) refreshed",
            done.watermark,
            time.perf_counter() - started,
        )


async def _detect(maker: async_sessionmaker[AsyncSession]) -> None:
    from hotline.hotspot import service as hotspots

    async with unit_of_work(maker) as session:
        result = await hotspots.detect(session, now=utcnow())
    if result.created or result.updated:
        log.info("hot spots: %d new, %d updated", result.created, result.updated)
