"""Starting and moving a ticket's clocks: deadlines are stored as timestamps when a clock
starts (DESIGN.md §6), so the sweeper and the metrics only compare times."""

from __future__ import annotations

from datetime import datetime, timedelta

from hotline.sla import policy
from hotline.sla.calendar import WorkCalendar
from hotline.ticket.models import Ticket


def on_dispatch(ticket: Ticket, calendar: WorkCalendar, now: datetime) -> None:
    """Dispatch starts the sign clock and the return window."""
    ticket.dispatched_at = now
    sign = policy.default_limit(policy.Clock.sign, urgency=ticket.urgency, line=ticket.line)
    ticket.sign_due_at = policy.due(calendar, now, sign).at
    window = policy.default_limit(policy.Clock.return_window)
    ticket.return_until = policy.due(calendar, now, window).at
    ticket.reply_due_at = None


def on_sign(ticket: Ticket, calendar: WorkCalendar, now: datetime) -> None:
    """Signing starts the reply clock."""
    ticket.signed_at = now
    reply = policy.default_limit(policy.Clock.reply, urgency=ticket.urgency, line=ticket.line)
    ticket.reply_due_at = policy.due(calendar, now, reply).at


def extend(ticket: Ticket, calendar: WorkCalendar, days: int) -> None:
    """An approved extension moves the reply deadline by working days."""
    if ticket.reply_due_at is not None:
        # From the last instant of the old deadline's day, so N days means N more working days.
        last_moment = ticket.reply_due_at - timedelta(microseconds=1)
        ticket.reply_due_at = calendar.add_working_days(last_moment, days).at
    ticket.extension_days += days


def report_in_due(calendar: WorkCalendar, now: datetime, level: str) -> datetime:
    limit = policy.default_limit(policy.Clock.report_in, level=level)
    return policy.due(calendar, now, limit).at
