"""Starting and moving a ticket's clocks. Deadlines are stored as timestamps when a clock
starts (DESIGN.md §6), with the policy that set each, so a later change of policy affects only
clocks started after it, and the sweeper and the metrics only compare times."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.sla import policy, sweep_rules
from hotline.sla.calendar import Deadline, WorkCalendar
from hotline.sla.models import Policy
from hotline.sla.policy import Clock
from hotline.ticket.models import Ticket

# Years this process had to guess Mon–Fri for a deadline; /readyz lists them.
GUESSED_YEARS: set[int] = set()


# session.info key: the active rules, read once per unit of work (intake starts two clocks).
_RULES = "hotline.sla.rules"


async def _rules(session: AsyncSession, clock: Clock) -> list[policy.Rule]:
    rules: list[policy.Rule] | None = session.info.get(_RULES)
    if rules is None:
        rows = await session.scalars(select(Policy).where(Policy.active))
        rules = session.info[_RULES] = [
            policy.Rule(
                r.id,
                r.clock,
                policy.Limit(r.amount, policy.Unit(r.unit)),
                r.urgency,
                r.kind,
                r.line,
                r.category_code,
                r.level,
            )
            for r in rows
        ]
    return [r for r in rules if r.clock == clock]


async def start(
    session: AsyncSession,
    ticket: Ticket,
    clock: Clock,
    calendar: WorkCalendar,
    at: datetime,
    *,
    level: str | None = None,
) -> Deadline:
    """The deadline of ``clock`` started at ``at`` for this ticket; records the policy used and
    any year the calendar had to guess."""
    rule = policy.pick(
        await _rules(session, clock),
        clock,
        urgency=ticket.urgency,
        kind=ticket.kind,
        line=ticket.line,
        category=ticket.category_code,
        level=level,
    )
    limit = (
        rule.limit
        if rule
        else policy.default_limit(
            clock, urgency=ticket.urgency, line=ticket.line, level=level or "routine"
        )
    )
    deadline = policy.due(calendar, at, limit)
    if clock is not Clock.report_in:
        ticket.deadline_policies = {
            **(ticket.deadline_policies or {}),
            clock.value: rule.id if rule else None,
        }
    if deadline.unknown_years:
        GUESSED_YEARS.update(deadline.unknown_years)
        known = set(ticket.calendar_unknown_years or [])
        ticket.calendar_unknown_years = sorted(known | set(deadline.unknown_years))
    return deadline


def reschedule(ticket: Ticket) -> None:
    """When the sweeper must next look at the ticket, after any change to it."""
    ticket.next_check_at = sweep_rules.next_check(sweep_rules.clocks_of(ticket))


async def on_dispatch(
    session: AsyncSession, ticket: Ticket, calendar: WorkCalendar, now: datetime
) -> None:
    """Dispatch starts the sign clock and the return window."""
    ticket.dispatched_at = now
    ticket.sign_due_at = (await start(session, ticket, Clock.sign, calendar, now)).at
    ticket.return_until = (await start(session, ticket, Clock.return_window, calendar, now)).at
    ticket.sign_reminded_at = ticket.sign_overdue_at = None
    ticket.reply_due_at = ticket.reply_reminded_at = ticket.reply_overdue_at = None
    reschedule(ticket)


async def on_sign(
    session: AsyncSession, ticket: Ticket, calendar: WorkCalendar, now: datetime
) -> None:
    """Signing starts the reply clock."""
    ticket.signed_at = now
    ticket.reply_due_at = (await start(session, ticket, Clock.reply, calendar, now)).at
    ticket.reply_reminded_at = ticket.reply_overdue_at = None
    reschedule(ticket)


async def on_reply(
    session: AsyncSession, ticket: Ticket, calendar: WorkCalendar, now: datetime
) -> None:
    """A reply starts the callback clock (the call centre's)."""
    ticket.callback_due_at = (await start(session, ticket, Clock.callback, calendar, now)).at
    ticket.callback_overdue_at = None
    reschedule(ticket)


def extend(ticket: Ticket, calendar: WorkCalendar, days: int) -> None:
    """An approved extension moves the reply deadline by working days."""
    if ticket.reply_due_at is not None:
        # From the last instant of the old deadline's day, so N days means N more working days.
        last_moment = ticket.reply_due_at - timedelta(microseconds=1)
        ticket.reply_due_at = calendar.add_working_days(last_moment, days).at
        ticket.reply_overdue_at = None
    ticket.extension_days += days
    reschedule(ticket)


async def extension_cap(session: AsyncSession, ticket: Ticket) -> int:
    rule = policy.pick(
        await _rules(session, Clock.extension),
        Clock.extension,
        urgency=ticket.urgency,
        kind=ticket.kind,
        line=ticket.line,
        category=ticket.category_code,
    )
    return rule.limit.amount if rule else policy.MAX_EXTENSION_DAYS


async def report_in_due(
    session: AsyncSession, ticket: Ticket, calendar: WorkCalendar, now: datetime, level: str
) -> datetime:
    return (await start(session, ticket, Clock.report_in, calendar, now, level=level)).at
