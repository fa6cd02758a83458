"""The in-memory routing state of one API process, rebuilt when the organisation changes.

Every change that affects routing (units, grids, staff and members, the catalogue) bumps the
``org`` generation (db.config_state) in the same transaction. A process compares the generation
(read in the transaction that routes, or given by the caller who read it) with its state's
and, if it moved, rebuilds its grid index, address matcher, catalogue and on-duty workers off
the event loop. So a boundary edited through any process routes the next ticket in every
process by the new boundary, without a restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry import shape
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.db import config_state
from hotline.org import repository as org_repository
from hotline.org.models import CatalogueRule, Unit
from hotline.routing.address import AddressMatcher, Place
from hotline.routing.geo import GridIndex
from hotline.routing.rules import Rule

LEVELS = {"county": 0, "township": 1, "village": 2, "grid": 3}


@dataclass(frozen=True)
class Worker:
    """The on-duty full-time worker of a grid (DESIGN.md §4)."""

    id: int
    name: str


@dataclass(frozen=True)
class UnitInfo:
    code: str
    name: str
    kind: str
    parent_code: str | None
    default_grid_code: str | None


@dataclass
class RoutingState:
    generation: int
    units: dict[str, UnitInfo]
    children: dict[str, list[str]]
    index: GridIndex
    matcher: AddressMatcher
    rules: list[Rule] = field(default_factory=list)
    on_duty: dict[str, Worker] = field(default_factory=dict)

    def chain(self, code: str) -> tuple[str, ...]:
        """The unit and its ancestors, most specific first."""
        out: list[str] = []
        current: str | None = code
        while current is not None and current in self.units and current not in out:
            out.append(current)
            current = self.units[current].parent_code
        return tuple(out)

    def grids_under(self, code: str) -> list[str]:
        found: list[str] = []
        stack = [code]
        while stack:
            unit = self.units.get(stack.pop())
            if unit is None:
                continue
            if unit.kind == "grid":
                found.append(unit.code)
            stack.extend(self.children.get(unit.code, []))
        return sorted(found)

    def name(self, code: str) -> str:
        unit = self.units.get(code)
        return unit.name if unit else code


def build(
    generation: int,
    units: Sequence[Unit],
    rules: Sequence[CatalogueRule],
    workers: Sequence[tuple[int, str, str]] = (),
) -> RoutingState:
    """Blocking: parses every boundary. Run it in a thread. ``workers``: (id, name, grid) of
    the active on-duty workers, the lowest id first per grid."""
    infos = {
        u.code: UnitInfo(u.code, u.name, u.kind, u.parent_code, u.default_grid_code)
        for u in units
        if u.active
    }
    children: dict[str, list[str]] = {}
    for info in infos.values():
        if info.parent_code is not None:
            children.setdefault(info.parent_code, []).append(info.code)
    grids = [
        (u.code, shape(u.boundary)) for u in units if u.active and u.kind == "grid" and u.boundary
    ]
    places = [
        Place(u.code, u.name, LEVELS[u.kind], u.parent_code, tuple(u.aliases or ()))
        for u in units
        if u.active and u.kind in LEVELS
    ]
    return RoutingState(
        generation=generation,
        units=infos,
        children=children,
        index=GridIndex(grids),
        matcher=AddressMatcher(places),
        rules=[
            Rule(r.id, r.unit_code, r.category_code, r.line, r.area_code, r.priority)
            for r in rules
            if r.active
        ],
        on_duty={grid: Worker(wid, name) for wid, name, grid in reversed(workers)},
    )


class RoutingCache:
    """One per process; ``current`` returns a state no older than the database's generation."""

    def __init__(self) -> None:
        self._state: RoutingState | None = None
        self._lock = asyncio.Lock()

    async def current(self, session: AsyncSession, generation: int | None = None) -> RoutingState:
        """The state as of ``generation`` (the ``org`` generation the caller read in this
        transaction), or as of the generation read now."""
        if generation is None:
            generation = (await config_state.read(session)).org
        state = self._state
        if state is not None and state.generation == generation:
            return state
        async with self._lock:
            state = self._state
            if state is None or state.generation != generation:
                units = await org_repository.all_units(session)
                rules = await org_repository.rules(session)
                workers = await org_repository.on_duty_workers(session)
                state = await asyncio.to_thread(build, generation, units, rules, workers)
                self._state = state
        return state

    def invalidate(self) -> None:
        self._state = None


def describe(state: RoutingState, codes: Sequence[str]) -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "code": c,
            "name": state.name(c),
            "kind": state.units[c].kind if c in state.units else None,
        }
        for c in codes
    )
