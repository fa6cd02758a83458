"""Escalating a ticket one rung, from a breached clock or on request."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Principal
from hotline.escalation import ladder
from hotline.org.models import CatalogueRule, Unit
from hotline.routing.state import RoutingState
from hotline.sla.models import LadderStep
from hotline.ticket import events
from hotline.ticket.models import Ticket
from hotline.ticket.schemas import Status
from hotline.workflow import states


class Ladder:
    """The ladder and the units that own its rungs, looked up once per sweep or request."""

    def __init__(self, session: AsyncSession, state: RoutingState) -> None:
        self.session = session
        self.state = state
        self._steps: list[ladder.Step] | None = None
        self._group: str | None = None
        self._departments: dict[str, str | None] = {}

    async def steps(self) -> list[ladder.Step]:
        if self._steps is None:
            rows = await self.session.scalars(select(LadderStep).order_by(LadderStep.level))
            self._steps = [ladder.Step(r.level, r.unit_kind, r.name) for r in rows]
            self._group = await self.session.scalar(
                select(Unit.code)
                .where(Unit.kind == ladder.GROUP, Unit.active)
                .order_by(Unit.code)
                .limit(1)
            )
        return self._steps

    async def department(self, category: str) -> str | None:
        if category not in self._departments:
            self._departments[category] = await self.session.scalar(
                select(CatalogueRule.unit_code)
                .join(Unit, Unit.code == CatalogueRule.unit_code)
                .where(
                    CatalogueRule.category_code == category,
                    CatalogueRule.active,
                    Unit.kind == "department",
                )
                .order_by(CatalogueRule.priority.desc(), CatalogueRule.id)
                .limit(1)
            )
        return self._departments[category]

    async def owners(self, ticket: Ticket) -> dict[str, str | None]:
        """Unit kind → the unit owning that rung for this ticket."""
        await self.steps()
        found: dict[str, str | None] = {}
        for code in self.state.chain(ticket.area_code) if ticket.area_code else ():
            found.setdefault(self.state.units[code].kind, code)
        owner = self.state.units.get(ticket.unit_code or "")
        found["department"] = await self.department(ticket.category_code) or (
            owner.code if owner is not None and owner.kind == "department" else None
        )
        found[ladder.GROUP] = self._group
        return found


async def escalate(
    rungs: Ladder,
    ticket: Ticket,
    *,
    reason: str,
    trigger: str,
    actor: Principal | None,
    now: datetime,
) -> ladder.Climb | None:
    """Climb one rung: record the level and its owning unit, with an ``escalated`` event. The
    top rung (the confirmation group) moves the ticket to arbitration. Returns None (and does
    nothing) at the top or when the state does not allow it. The caller finishes the change
    (version, change number)."""
    current = Status(ticket.status)
    if not states.allowed(states.Action.escalate, current):
        return None
    step = ladder.climb(await rungs.steps(), ticket.escalation_level, await rungs.owners(ticket))
    if step is None:
        return None
    ticket.escalation_level = step.level
    ticket.escalation_unit_code = step.unit_code
    target = Status.arbitration if step.unit_kind == ladder.GROUP else current
    ticket.status = states.check(states.Action.escalate, current, target).value
    events.record(
        rungs.session,
        ticket,
        "escalated",
        actor=actor,
        at=now,
        from_status=current.value,
        details={
            "level": step.level,
            "rung": step.name,
            "unit_code": step.unit_code,
            "reason": reason,
            "trigger": trigger,
        },
    )
    ticket.version += 1
    ticket.updated_at = now
    return step
