"""Time limits (DESIGN.md §6) as pure data and functions: which limit applies, and when it ends.

clock       default                                       counted in
sign        15 min (emergency), 30 min (utility), 1 wd    natural time / working days
reply       5 working days; 3 on the enterprise line      working days
report_in   30 min (emergency), 4 h (key), 1 wd (routine) natural time / working days
return      2 working days after dispatch                 working days
extension   at most 10 working days, once                 working days
callback    2 working days after the reply                working days
triage      30 min to dispatch (即时派单)                  natural time
ruling      3 working days for the confirmation group     working days
escalation  1 working day to act on each rung             working days

The seeded policies also give water, power, gas and heating categories the 30-minute sign
clock, whatever urgency the agent chose. ``level`` selects a whistle's level (report_in) or a
rung's kind (escalation).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from hotline.sla.calendar import Deadline, WorkCalendar


class Clock(StrEnum):
    sign = "sign"
    reply = "reply"
    report_in = "report_in"
    return_window = "return_window"
    extension = "extension"
    callback = "callback"
    triage = "triage"
    ruling = "ruling"
    escalation = "escalation"


# Clocks whose ``level`` selector means something, and what it may be.
LEVELS: dict[str, tuple[str, ...]] = {
    "report_in": ("routine", "key", "emergency"),
    "escalation": ("village", "township", "county", "department", "line"),
}


class Unit(StrEnum):
    minutes = "minutes"
    working_days = "working_days"


@dataclass(frozen=True)
class Limit:
    amount: int
    unit: Unit


MAX_EXTENSION_DAYS = 10


# Water, power, gas and heating (水电气热): the 30-minute sign clock by category.
UTILITY_CATEGORIES = ("utility.water", "utility.power", "utility.gas", "utility.heating")


def default_limit(
    clock: Clock,
    *,
    urgency: str = "normal",
    line: str = "main",
    level: str = "routine",
    category: str | None = None,
) -> Limit:
    """The default of DESIGN.md §6 for a clock, by the ticket's urgency and line (and, for a
    report-in, the whistle's level)."""
    if clock is Clock.sign:
        if urgency == "emergency":
            return Limit(15, Unit.minutes)
        if urgency == "utility" or category in UTILITY_CATEGORIES:
            return Limit(30, Unit.minutes)
        return Limit(1, Unit.working_days)
    if clock is Clock.reply:
        return Limit(3 if line == "enterprise" else 5, Unit.working_days)
    if clock is Clock.report_in:
        if level == "emergency":
            return Limit(30, Unit.minutes)
        if level == "key":
            return Limit(240, Unit.minutes)
        return Limit(1, Unit.working_days)
    if clock is Clock.return_window:
        return Limit(2, Unit.working_days)
    if clock is Clock.extension:
        return Limit(MAX_EXTENSION_DAYS, Unit.working_days)
    if clock is Clock.triage:
        return Limit(30, Unit.minutes)
    if clock is Clock.ruling:
        return Limit(3, Unit.working_days)
    if clock is Clock.escalation:
        return Limit(1, Unit.working_days)
    return Limit(2, Unit.working_days)


@dataclass(frozen=True)
class Rule:
    """A stored policy as the pure rules see it."""

    id: int
    clock: str
    limit: Limit
    urgency: str | None = None
    kind: str | None = None
    line: str | None = None
    category: str | None = None
    level: str | None = None

    def selectors(self) -> int:
        return sum(
            v is not None for v in (self.urgency, self.kind, self.line, self.category, self.level)
        )


def pick(
    rules: list[Rule],
    clock: Clock,
    *,
    urgency: str,
    kind: str,
    line: str,
    category: str,
    level: str | None = None,
) -> Rule | None:
    """The most specific rule for the clock whose every set selector matches; the newer wins
    a tie. None: no rule matches (the caller falls back to ``default_limit``)."""
    wanted = {"urgency": urgency, "kind": kind, "line": line, "category": category, "level": level}
    matching = [
        r
        for r in rules
        if r.clock == clock and all(getattr(r, k) in (None, v) for k, v in wanted.items())
    ]
    if not matching:
        return None
    return max(matching, key=lambda r: (r.selectors(), r.id))


def due(calendar: WorkCalendar, start: datetime, limit: Limit) -> Deadline:
    if limit.unit is Unit.minutes:
        return calendar.add_natural(start, timedelta(minutes=limit.amount))
    return calendar.add_working_days(start, limit.amount)
