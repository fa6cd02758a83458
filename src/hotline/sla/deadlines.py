"""Starting and moving a ticket's clocks. Deadlines are stored as timestamps when a clock
starts (DESIGN.md §6), with the policy that set each, so a later change of policy affects only
clocks started after it, and the sweeper and the metrics only compare times."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.sla import policies, policy, repository, sweep_rules
from hotline.sla.calendar import Deadline, WorkCalendar
from hotline.sla.policy import Clock
from hotline.ticket.models import Ticket

# Years this process had to guess Mon–Fri for a deadline; /readyz lists them.
GUESSED_YEARS: set[int] = set()


# session.info key: the active rules, read once per unit of work (intake starts two clocks).
_RULES = "hotline.sla.rules"


def use(session: AsyncSession, rules: list[policy.Rule]) -> None:
    """Let this unit of work use policies already read (sla.policies.Policies)."""
    session.info[_RULES] = rules


async def _rules(session: AsyncSession, clock: Clock) -> list[policy.Rule]:
    rules: list[policy.Rule] | None = session.info.get(_RULES)
    if rules is None:
        rules = session.info[_RULES] = await policies.active_rules(session)
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
            clock,
            urgency=ticket.urgency,
            line=ticket.line,
            level=level or "routine",
            category=ticket.category_code,
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


# session.info key: the share of a clock after which a reminder goes out, from the settings
# (HOTLINE_SWEEPER__REMIND_SHARE) through the app's sessionmaker.
REMIND_SHARE = "hotline.remind_share"


def remind_share(session: AsyncSession) -> float:
    return float(session.info.get(REMIND_SHARE, sweep_rules.DEFAULT_REMIND_SHARE))


def reschedule(session: AsyncSession, ticket: Ticket) -> None:
    """When the sweeper must next look at the ticket, after any change to it."""
    ticket.next_check_at = sweep_rules.next_check(
        sweep_rules.clocks_of(ticket), remind_share(session)
    )


async def on_dispatch(
    session: AsyncSession, ticket: Ticket, calendar: WorkCalendar, now: datetime
) -> None:
    """Dispatch starts the sign clock and the return window."""
    ticket.dispatched_at = now
    ticket.sign_due_at = (await start(session, ticket, Clock.sign, calendar, now)).at
    ticket.return_until = (await start(session, ticket, Clock.return_window, calendar, now)).at
    ticket.sign_reminded_at = ticket.sign_overdue_at = None
    ticket.reply_due_at = ticket.reply_reminded_at = ticket.reply_overdue_at = None
    ticket.reply_started_at = None
    reschedule(session, ticket)


async def on_sign(
    session: AsyncSession,
    ticket: Ticket,
    calendar: WorkCalendar,
    now: datetime,
    *,
    rework: bool = False,
) -> None:
    """Signing starts the reply clock; signing a rework keeps the reply deadline the rework
    set (重办时限 runs from the rework, not from the new signature)."""
    ticket.signed_at = now
    if not (rework and ticket.reply_due_at is not None):
        await start_reply(session, ticket, calendar, now)
    reschedule(session, ticket)


async def start_reply(
    session: AsyncSession, ticket: Ticket, calendar: WorkCalendar, now: datetime
) -> None:
    ticket.reply_started_at = now
    ticket.reply_due_at = (await start(session, ticket, Clock.reply, calendar, now)).at
    ticket.reply_reminded_at = ticket.reply_overdue_at = None


async def on_rework(
    session: AsyncSession, ticket: Ticket, calendar: WorkCalendar, now: datetime
) -> None:
    """A rework sends the ticket back to its owner: the sign clock and, counted from now, a
    reply deadline of its own."""
    await on_dispatch(session, ticket, calendar, now)
    await start_reply(session, ticket, calendar, now)
    if ticket.escalation_level:
        await start_rung(session, ticket, calendar, now)
    reschedule(session, ticket)


async def on_triage(
    session: AsyncSession, ticket: Ticket, calendar: WorkCalendar, now: datetime
) -> None:
    """Waiting for a dispatcher starts the dispatch clock (即时派单)."""
    ticket.triage_started_at = now
    ticket.triage_due_at = (await start(session, ticket, Clock.triage, calendar, now)).at
    ticket.triage_reminded_at = ticket.triage_overdue_at = None
    reschedule(session, ticket)


async def on_arbitration(
    session: AsyncSession, ticket: Ticket, calendar: WorkCalendar, now: datetime
) -> None:
    """The confirmation group's queue starts its ruling clock; the rung clock stops."""
    ticket.arbitration_at = now
    ticket.ruling_due_at = (await start(session, ticket, Clock.ruling, calendar, now)).at
    ticket.ruling_reminded_at = ticket.ruling_overdue_at = None
    ticket.escalation_due_at = None
    reschedule(session, ticket)


async def start_rung(
    session: AsyncSession, ticket: Ticket, calendar: WorkCalendar, now: datetime
) -> None:
    """The clock of the rung the ticket stands on: its unit must act before it runs out."""
    ticket.escalation_started_at = now
    ticket.escalation_due_at = (
        await start(session, ticket, Clock.escalation, calendar, now, level=ticket.escalation_rung)
    ).at
    ticket.escalation_reminded_at = ticket.escalation_overdue_at = None


async def acted(
    session: AsyncSession, ticket: Ticket, calendar: WorkCalendar, now: datetime
) -> None:
    """Someone acted on an escalated ticket. If the ticket now has a sign or reply clock still
    running, that clock drives any further climb and the rung's clock stops; otherwise the
    rung's clock starts again, so a ticket whose own clocks are spent climbs on unless someone
    keeps acting on it. Call after the action's own changes."""
    if ticket.escalation_due_at is None or ticket.escalation_overdue_at is not None:
        return
    own = [
        c
        for c in sweep_rules.clocks_of(ticket)
        if c.name in ("sign", "reply") and c.running and c.due_at and c.overdue_at is None
    ]
    if own:
        ticket.escalation_due_at = None
        ticket.escalation_reminded_at = None
    else:
        await start_rung(session, ticket, calendar, now)


def leave_ladder(ticket: Ticket) -> None:
    """A new owner (dispatch, approved return, ruling) starts at the foot of its ladder; the
    highest rung ever reached stays for the figures."""
    ticket.escalation_level = 0
    ticket.escalation_unit_code = ticket.escalation_track = ticket.escalation_rung = None
    ticket.escalated_at = ticket.escalation_started_at = None
    ticket.escalation_due_at = ticket.escalation_reminded_at = ticket.escalation_overdue_at = None


async def on_reply(
    session: AsyncSession, ticket: Ticket, calendar: WorkCalendar, now: datetime
) -> None:
    """A reply starts the callback clock (the call centre's) and stops the rung's."""
    ticket.escalation_due_at = None
    ticket.callback_due_at = (await start(session, ticket, Clock.callback, calendar, now)).at
    ticket.callback_overdue_at = None
    reschedule(session, ticket)


def extend(session: AsyncSession, ticket: Ticket, calendar: WorkCalendar, days: int) -> None:
    """An approved extension moves the reply deadline by working days."""
    if ticket.reply_due_at is not None:
        # From the last instant of the old deadline's day, so N days means N more working days.
        last_moment = ticket.reply_due_at - timedelta(microseconds=1)
        ticket.reply_due_at = calendar.add_working_days(last_moment, days).at
        ticket.reply_overdue_at = None
    ticket.extension_days += days
    reschedule(session, ticket)


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


# Each stored deadline, and the instant its clock started from.
_STARTS = {
    "sign_due_at": ("sign", "dispatched_at"),
    "return_until": ("return_window", "dispatched_at"),
    "reply_due_at": ("reply", "reply_started_at"),
    "callback_due_at": ("callback", "replied_at"),
    "triage_due_at": ("triage", "triage_started_at"),
    "ruling_due_at": ("ruling", "arbitration_at"),
    "escalation_due_at": ("escalation", "escalation_started_at"),
}


def stored(ticket: Ticket) -> dict[str, datetime | None]:
    return {name: getattr(ticket, name) for name in _STARTS}


async def _all_rules(session: AsyncSession) -> dict[int, policy.Rule]:
    """Every policy by id, retired ones too: a clock is counted again by the policy it started
    under."""
    rows = await repository.policies(session)
    return {
        r.id: policy.Rule(r.id, r.clock, policy.Limit(r.amount, policy.Unit(r.unit))) for r in rows
    }


async def recompute(
    session: AsyncSession, ticket: Ticket, calendar: WorkCalendar, now: datetime
) -> None:
    """Count every stored deadline again from its clock's start by the policy that set it, on
    ``calendar`` (a year that was guessed is now known). A staged answer's date stays as
    approved; an extension is added again. A mark of a breach that the new deadline undoes is
    cleared, so the sweeper watches that clock again."""
    rules = await _all_rules(session)
    unknown: set[int] = set()
    for name, (clock_name, start_name) in _STARTS.items():
        due, start = getattr(ticket, name), getattr(ticket, start_name)
        if due is None or start is None or (name == "reply_due_at" and ticket.staged):
            continue
        clock = Clock(clock_name)
        rule = rules.get((ticket.deadline_policies or {}).get(clock_name) or -1)
        limit = (
            rule.limit
            if rule
            else policy.default_limit(
                clock,
                urgency=ticket.urgency,
                line=ticket.line,
                category=ticket.category_code,
            )
        )
        deadline = policy.due(calendar, start, limit)
        at = deadline.at
        if name == "reply_due_at" and ticket.extension_days:
            at = calendar.add_working_days(at - timedelta(microseconds=1), ticket.extension_days).at
        unknown.update(deadline.unknown_years)
        setattr(ticket, name, at)
        prefix = name.removesuffix("_due_at")
        for mark in (f"{prefix}_overdue_at", f"{prefix}_reminded_at"):
            if at > now and hasattr(Ticket, mark):
                setattr(ticket, mark, None)
    ticket.calendar_unknown_years = sorted(unknown)
    reschedule(session, ticket)
