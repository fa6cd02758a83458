"""What the sweeper does, as pure rules: for each running clock, a reminder once a share of it
has passed, and a breach once it has run out (DESIGN.md §6).

    clock       runs while the ticket is          started at             on breach
    sign        dispatched or rework              dispatched_at          overdue + escalate
    reply       signed or rework                  reply_started_at       overdue + escalate
    callback    replied                           replied_at             overdue (the centre's)
    triage      in triage                         triage_started_at      overdue (the centre's)
    ruling      in arbitration                    arbitration_at         overdue (the group's)
    escalation  escalated, not yet replied        escalation_started_at  overdue + climb
    report_in   the summons is unanswered         started_at             overdue + escalate

A breach climbs one rung only if the ticket has not climbed since that clock ran out
(``climbs``): several clocks breached at once climb one rung, however many passes or
processes see them.

``next_check`` is the earliest instant any of that falls due; the sweeper looks only at rows
whose ``next_check_at`` has come, through one index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hotline.ticket.schemas import CLIMBING as _CLIMBING

DEFAULT_REMIND_SHARE = 0.8
ESCALATING = frozenset({"sign", "reply", "report_in", "escalation"})
# The states a ticket can climb in (workflow.states: Action.escalate).
CLIMBING = _CLIMBING


@dataclass(frozen=True)
class ClockState:
    name: str
    running: bool
    started_at: datetime | None
    due_at: datetime | None
    reminded_at: datetime | None
    overdue_at: datetime | None
    remind: bool = True

    def remind_at(self, share: float) -> datetime | None:
        if self.started_at is None or self.due_at is None:
            return None
        return self.started_at + (self.due_at - self.started_at) * share


def clocks_of(ticket: Any) -> list[ClockState]:
    status = ticket.status
    return [
        ClockState(
            "sign",
            status in ("dispatched", "rework"),
            ticket.dispatched_at,
            ticket.sign_due_at,
            ticket.sign_reminded_at,
            ticket.sign_overdue_at,
        ),
        ClockState(
            "reply",
            status in ("signed", "rework"),
            ticket.reply_started_at or ticket.signed_at,
            ticket.reply_due_at,
            ticket.reply_reminded_at,
            ticket.reply_overdue_at,
        ),
        ClockState(
            "callback",
            status == "replied",
            ticket.replied_at,
            ticket.callback_due_at,
            None,
            ticket.callback_overdue_at,
            remind=False,
        ),
        ClockState(
            "triage",
            status == "triage",
            ticket.triage_started_at,
            ticket.triage_due_at,
            ticket.triage_reminded_at,
            ticket.triage_overdue_at,
        ),
        ClockState(
            "ruling",
            status == "arbitration",
            ticket.arbitration_at,
            ticket.ruling_due_at,
            ticket.ruling_reminded_at,
            ticket.ruling_overdue_at,
        ),
        ClockState(
            "escalation",
            status in CLIMBING,
            ticket.escalation_started_at,
            ticket.escalation_due_at,
            ticket.escalation_reminded_at,
            ticket.escalation_overdue_at,
        ),
    ]


def climbs(clock: ClockState, escalated_at: datetime | None) -> bool:
    """Whether this breach climbs a rung: an escalating clock, run out after the last climb."""
    if clock.name not in ESCALATING or clock.due_at is None:
        return False
    return escalated_at is None or escalated_at < clock.due_at


def clock_of_summons(summons: Any, ticket_open: bool = True) -> ClockState:
    return ClockState(
        "report_in",
        ticket_open and summons.reported_at is None,
        summons.started_at,
        summons.due_at,
        summons.reminded_at,
        summons.overdue_at,
    )


def _pending(clock: ClockState, share: float) -> list[tuple[datetime, str]]:
    if not clock.running or clock.due_at is None or clock.overdue_at is not None:
        return []
    out = [(clock.due_at, "breach")]
    remind = clock.remind_at(share)
    if clock.remind and clock.reminded_at is None and remind is not None and remind < clock.due_at:
        out.append((remind, "remind"))
    return out


def next_check(clocks: list[ClockState], share: float | None = None) -> datetime | None:
    share = DEFAULT_REMIND_SHARE if share is None else share
    times = [at for c in clocks for at, _ in _pending(c, share)]
    return min(times) if times else None


def due_now(
    clocks: list[ClockState], now: datetime, share: float | None = None
) -> list[tuple[ClockState, str]]:
    """(clock, "remind" | "breach") for everything due at ``now``; a breach makes the
    reminder moot."""
    share = DEFAULT_REMIND_SHARE if share is None else share
    out: list[tuple[ClockState, str]] = []
    for clock in clocks:
        due = {what for at, what in _pending(clock, share) if at <= now}
        if "breach" in due:
            out.append((clock, "breach"))
        elif "remind" in due:
            out.append((clock, "remind"))
    return out
