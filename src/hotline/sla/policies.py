"""Time-limit policies: adding and changing them (admin), and the active ones as each process
keeps them between changes (bumping the ``policies`` generation, db.config_state)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.db import config_state
from hotline.errors import Unprocessable, found
from hotline.sla import policy, repository
from hotline.sla.models import Policy
from hotline.sla.policy import LEVELS
from hotline.sla.schemas import PolicyCreate, PolicyUpdate


async def all_policies(session: AsyncSession) -> Sequence[Policy]:
    return await repository.policies(session)


async def active_rules(session: AsyncSession) -> list[policy.Rule]:
    rows = await repository.active_policies(session)
    return [
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


def _check_level(clock: str, level: str | None) -> None:
    if level is None:
        return
    levels = LEVELS.get(clock)
    if levels is None:
        raise Unprocessable(
            "level 只适用于报到（report_in）和上报（escalation）时限",
            en="level applies to the report_in and escalation clocks only",
            field="level",
        )
    if level not in levels:
        raise Unprocessable(
            f"{clock} 的 level 应为以下之一：{', '.join(levels)}",
            en=f"level of {clock} is one of {', '.join(levels)}",
            field="level",
        )


async def create(
    session: AsyncSession, data: PolicyCreate, *, category_known: bool, now: datetime
) -> Policy:
    """A new policy; it applies to clocks that start after it. 422 names a bad field."""
    if data.category and not category_known:
        raise Unprocessable(
            f"没有编码为 {data.category} 的类别",
            en=f"Unknown category {data.category}",
            field="category",
        )
    _check_level(data.clock.value, data.level)
    row = Policy(
        clock=data.clock.value,
        amount=data.amount,
        unit=data.unit.value,
        urgency=data.urgency,
        kind=data.kind,
        line=data.line,
        category_code=data.category,
        level=data.level,
        note=data.note,
        active=True,
        created_at=now,
        updated_at=now,
    )
    return await config_state.added(session, row, "policies")


async def update(
    session: AsyncSession, policy_id: int, data: PolicyUpdate, *, now: datetime
) -> Policy:
    row = found(
        await repository.policy(session, policy_id),
        f"没有编号为 {policy_id} 的时限规则",
        en=f"No policy {policy_id}",
    )
    changes = data.model_dump(exclude_unset=True, mode="json")
    return await config_state.changed(session, row, changes, "policies", now=now)


class Policies:
    """The active policies of this process, read again when their generation moves."""

    def __init__(self) -> None:
        self._generation: int | None = None
        self._rules: list[policy.Rule] = []

    async def current(self, session: AsyncSession, generation: int) -> list[policy.Rule]:
        if generation != self._generation:
            self._rules = await active_rules(session)
            self._generation = generation
        return self._rules
