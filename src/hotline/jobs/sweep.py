"""The sweeper: one pass reminds before breaches, marks breaches overdue and escalates what the
ladder says (DESIGN.md §6). ``hotline sweep`` runs one pass (``--now`` evaluates as of that
instant); ``hotline serve`` runs passes every few seconds (jobs.serve).

Several processes may sweep at once: rows are claimed with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL (SQLite serialises writers), and each row's marks are re-read under the lock, so no
reminder, breach or escalation happens twice. The serve loop also takes a PostgreSQL advisory
lock per pass, so only one process sweeps at a time. Each batch's unit of work numbers its rows
in one statement (hotline.change). A pass ends by forgetting the actions' Idempotency-Keys
older than their keeping (48 h).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.change import pipeline
from hotline.db.session import unit_of_work
from hotline.escalation.service import Ladder, escalate
from hotline.idempotency import service as idempotency
from hotline.kit.clock import local_iso, utcnow
from hotline.routing.state import RoutingCache
from hotline.sla import sweep_rules
from hotline.sla.calendars import CalendarCache
from hotline.ticket import events
from hotline.ticket import repository as ticket_repository
from hotline.ticket.models import Summons, Ticket

log = logging.getLogger(__name__)
BATCH = 500


@dataclass
class Report:
    reminded: int = 0
    overdue: int = 0
    escalated: int = 0
    # Idempotency-Keys of actions past their keeping (hotline.idempotency).
    keys_forgotten: int = 0
    seconds: float = 0.0
    by_clock: dict[str, int] = field(default_factory=dict)


async def _claim(session: AsyncSession, model: Any, now: datetime) -> list[Any]:
    return await ticket_repository.due_for_check(session, model, now, BATCH)


async def _ticket(
    rungs: Ladder,
    ticket: Ticket,
    now: datetime,
    share: float,
    report: Report,
) -> None:
    session = rungs.session
    for clock, what in sweep_rules.due_now(sweep_rules.clocks_of(ticket), now, share):
        if getattr(ticket, f"{clock.name}_due_at") != clock.due_at:
            continue  # a climb earlier in this loop restarted this clock
        details = {"clock": clock.name, "due_at": local_iso(clock.due_at)}
        if what == "remind":
            setattr(ticket, f"{clock.name}_reminded_at", now)
            _mark(session, ticket, "reminded", now, details)
            report.reminded += 1
            continue
        setattr(ticket, f"{clock.name}_overdue_at", now)
        _mark(session, ticket, "overdue", now, details)
        report.overdue += 1
        report.by_clock[clock.name] = report.by_clock.get(clock.name, 0) + 1
        await _climb(rungs, ticket, clock, f"{clock.name} deadline passed", now, report)
    ticket.version += 1
    ticket.updated_at = now
    ticket.next_check_at = sweep_rules.next_check(sweep_rules.clocks_of(ticket), share)


def _mark(
    session: AsyncSession, ticket: Ticket, action: str, now: datetime, details: dict[str, Any]
) -> None:
    events.record(
        session, ticket, action, actor=None, at=now, from_status=ticket.status, details=details
    )


async def _climb(
    rungs: Ladder,
    ticket: Ticket,
    clock: sweep_rules.ClockState,
    reason: str,
    now: datetime,
    report: Report,
) -> None:
    """One rung for a breach, unless the ticket already climbed since this clock ran out."""
    if not sweep_rules.climbs(clock, ticket.escalated_at):
        return
    due = local_iso(clock.due_at)
    if await escalate(
        rungs,
        ticket,
        reason=f"{reason} ({due})",
        trigger=f"{clock.name}_overdue",
        actor=None,
        now=now,
    ):
        report.escalated += 1


@dataclass(frozen=True)
class _Pass:
    """What every batch of one pass shares."""

    maker: async_sessionmaker[AsyncSession]
    routing: RoutingCache
    calendars: CalendarCache
    now: datetime
    share: float
    report: Report

    async def ladder(self, session: AsyncSession) -> Ladder:
        calendar = await self.calendars.current(session)
        return Ladder(session, await self.routing.current(session), calendar)


async def _tickets(run: _Pass) -> int:
    now, share, report = run.now, run.share, run.report
    async with unit_of_work(run.maker) as session:
        rows = await _claim(session, Ticket, now)
        if not rows:
            return 0
        rungs = await run.ladder(session)
        for ticket in rows:
            pipeline.touch(session, ticket)
            await _ticket(rungs, ticket, now, share, report)
    return len(rows)


async def _summons(run: _Pass) -> int:
    now, share, report = run.now, run.share, run.report
    async with unit_of_work(run.maker) as session:
        rows: list[Summons] = list(await _claim(session, Summons, now))
        if not rows:
            return 0
        rungs = await run.ladder(session)
        tickets = await ticket_repository.locked_many(session, (s.ticket_id for s in rows))
        touched: dict[int, Ticket] = {}
        for summons in rows:
            pipeline.touch(session, summons)
            ticket = tickets[summons.ticket_id]
            clock = sweep_rules.clock_of_summons(summons, ticket.status != "closed")
            for _, what in sweep_rules.due_now([clock], now, share):
                if ticket.id not in touched:
                    pipeline.touch(session, ticket)
                touched[ticket.id] = ticket
                details = {
                    "clock": "report_in",
                    "summons_id": summons.id,
                    "due_at": local_iso(summons.due_at),
                }
                if what == "remind":
                    summons.reminded_at = now
                    _mark(session, ticket, "reminded", now, details)
                    report.reminded += 1
                    continue
                summons.overdue_at = now
                _mark(session, ticket, "overdue", now, details)
                report.overdue += 1
                report.by_clock["report_in"] = report.by_clock.get("report_in", 0) + 1
                await _climb(rungs, ticket, clock, "no report-in after the whistle", now, report)
            summons.next_check_at = sweep_rules.next_check(
                [sweep_rules.clock_of_summons(summons, ticket.status != "closed")], share
            )
        for ticket in touched.values():
            ticket.version += 1
            ticket.updated_at = now
            ticket.next_check_at = sweep_rules.next_check(sweep_rules.clocks_of(ticket), share)
    return len(rows)


async def sweep(
    maker: async_sessionmaker[AsyncSession],
    routing: RoutingCache,
    calendars: CalendarCache,
    *,
    now: datetime | None = None,
    share: float | None = None,
) -> Report:
    """One pass over everything due at ``now`` (default: the wall clock), in batches."""
    started = time.perf_counter()
    now = now or utcnow()
    share = sweep_rules.DEFAULT_REMIND_SHARE if share is None else share
    report = Report()
    run = _Pass(maker, routing, calendars, now, share, report)
    while await _tickets(run) == BATCH:
        pass
    while await _summons(run) == BATCH:
        pass
    async with unit_of_work(maker) as session:
        report.keys_forgotten = await idempotency.purge(session, now)
    report.seconds = time.perf_counter() - started
    return report
