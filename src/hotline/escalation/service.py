"""Escalating a ticket one rung, from a breached clock or on request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Principal
from hotline.escalation import ladder, repository
from hotline.kit.clock import local_iso
from hotline.routing.state import RoutingState
from hotline.sla import deadlines
from hotline.sla.calendar import WorkCalendar
from hotline.ticket import events
from hotline.ticket.models import Ticket
from hotline.ticket.schemas import Status
from hotline.workflow import states


class Ladder:
    """The ladders and the units that own their rungs, looked up once per sweep or request."""

    def __init__(self, session: AsyncSession, state: RoutingState, calendar: WorkCalendar) -> None:
        self.session = session
        self.state = state
        self.calendar = calendar
        self._rungs: list[ladder.Rung] | None = None
        # Per ladder, not per ticket: a sweep escalates thousands of tickets over one state.
        self._kinds: dict[str, str | None] = {}
        self._lines: dict[str, str | None] = {}

    async def rungs(self) -> list[ladder.Rung]:
        if self._rungs is None:
            rows = await repository.rungs(self.session)
            self._rungs = [ladder.Rung(r.track, r.level, r.kind, r.name) for r in rows]
        return self._rungs

    def _of_kind(self, kind: str) -> str | None:
        if kind not in self._kinds:
            codes = sorted(c for c, u in self.state.units.items() if u.kind == kind)
            self._kinds[kind] = codes[0] if codes else None
        return self._kinds[kind]

    def _line_unit(self, line: str) -> str | None:
        """The unit the catalogue names for a whole line (no category, no area)."""
        if line not in self._lines:
            self._lines[line] = next(
                (
                    r.unit_code
                    for r in sorted(self.state.rules, key=lambda r: (-r.priority, r.id))
                    if r.line == line and r.category is None and r.area is None
                ),
                None,
            )
        return self._lines[line]

    def owners(self, ticket: Ticket) -> dict[str, str | None]:
        """Rung kind → the unit owning that rung for this ticket (escalation.ladder)."""
        found: dict[str, str | None] = {}
        for code in self.state.chain(ticket.area_code) if ticket.area_code else ():
            found.setdefault(self.state.units[code].kind, code)
        found.setdefault(ladder.COUNTY, self._of_kind(ladder.COUNTY))
        owner = self.state.units.get(ticket.unit_code or "")
        found["department"] = owner.code if owner and owner.kind == "department" else None
        found["line"] = self._line_unit(ticket.line)
        found[ladder.GROUP] = self._of_kind(ladder.GROUP)
        return found

    def track(self, ticket: Ticket) -> str:
        owner = self.state.units.get(ticket.unit_code or "")
        return ladder.track_of(ticket.line, owner.kind if owner else None)


async def escalate(
    rungs: Ladder,
    ticket: Ticket,
    *,
    reason: str,
    trigger: str,
    actor: Principal | None,
    now: datetime,
    to_group: bool = False,
) -> ladder.Climb | None:
    """Climb one rung (with ``to_group``, straight to the confirmation group): record the rung
    and its unit with an ``escalated`` event and start the rung's clock. The county rung is
    supervision (督办) and recorded as such; the top rung moves the ticket to arbitration (an
    ``arbitration`` event too, as every path into the group's queue records).
    Returns None (and does nothing) at the top or when the state does not allow it. The caller
    finishes the change (version, change number)."""
    current = Status(ticket.status)
    if not states.allowed(states.Action.escalate, current):
        return None
    track = ticket.escalation_track if ticket.escalation_level else rungs.track(ticket)
    step = ladder.climb(
        await rungs.rungs(),
        track or rungs.track(ticket),
        ticket.escalation_level,
        rungs.owners(ticket),
        ticket.unit_code,
        to_top=to_group,
    )
    if step is None:
        return None
    ticket.escalation_level = step.level
    ticket.escalation_unit_code = step.unit_code
    ticket.escalation_track = step.track
    ticket.escalation_rung = step.kind
    ticket.escalation_peak = ladder.higher(ticket.escalation_peak, step.kind)
    ticket.escalated_at = now
    target = Status.arbitration if step.kind == ladder.GROUP else current
    ticket.status = states.check(states.Action.escalate, current, target).value
    session = rungs.session
    if target is Status.arbitration:
        await deadlines.on_arbitration(session, ticket, rungs.calendar, now)
    else:
        await deadlines.start_rung(session, ticket, rungs.calendar, now)
    events.record(
        session,
        ticket,
        "escalated",
        actor=actor,
        at=now,
        from_status=current.value,
        details={
            "level": step.level,
            "track": step.track,
            "rung": step.name,
            "kind": step.kind,
            "unit_code": step.unit_code,
            "reason": reason,
            "trigger": trigger,
            "due_at": local_iso(ticket.escalation_due_at or ticket.ruling_due_at),
        },
    )
    if step.kind == ladder.COUNTY:
        _supervised_by_county(rungs, ticket, step, reason, now)
    if target is Status.arbitration:
        # Entering the group's queue is the same event whatever the path (three returns, a
        # dispatcher's transfer, the top of the ladder): subscribers get ticket.arbitration.
        events.record(
            session,
            ticket,
            "arbitration",
            actor=actor,
            at=now,
            from_status=current.value,
            details={
                "reason": reason,
                "via": "escalation",
                "transfer_count": ticket.transfer_count,
                "rework_count": ticket.rework_count,
                "due_at": local_iso(ticket.ruling_due_at),
            },
        )
    ticket.version += 1
    ticket.updated_at = now
    return step


def _supervised_by_county(
    rungs: Ladder, ticket: Ticket, step: ladder.Climb, reason: str, now: datetime
) -> None:
    """Reaching the county rung is the county's supervision (督办), on the record as such."""
    ticket.supervised_at = ticket.supervised_at or now
    ticket.supervision = {
        "level": "key",
        "source": "escalation",
        "unit_code": step.unit_code,
        "note": reason,
        "at": local_iso(now),
        "by": rungs.state.name(step.unit_code),
    }
    events.record(
        rungs.session,
        ticket,
        "supervised",
        actor=None,
        at=now,
        from_status=ticket.status,
        details={"level": "key", "source": "escalation", "unit_code": step.unit_code},
    )
