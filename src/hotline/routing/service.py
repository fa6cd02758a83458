"""Routing a new ticket: geography, then the catalogue, then the person (DESIGN.md §4)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.org import repository as org_repository
from hotline.org.models import Staff
from hotline.routing import rules
from hotline.routing.rules import Decision, Located
from hotline.routing.state import RoutingState, Worker, describe


@dataclass(frozen=True)
class Where:
    """What intake knows of the ticket's place, coordinates already in WGS-84."""

    grid_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    address: str | None = None


def locate(state: RoutingState, where: Where) -> Located:
    """Explicit grid code, else point in polygon, else address text; explained either way."""
    notes: list[str] = []
    if where.grid_code is not None:
        unit = state.units.get(where.grid_code)
        if unit is not None and unit.kind == "grid":
            return Located(
                "grid_code",
                unit.code,
                f"Grid code {unit.code} given: {unit.name}",
                state.chain(unit.code),
            )
        notes.append(f"grid code {where.grid_code} is not a known grid")
    if where.lat is not None and where.lon is not None:
        code = state.index.locate(where.lon, where.lat)
        if code is not None:
            return Located(
                "point",
                code,
                f"Point ({where.lat:.6f}, {where.lon:.6f}) lies in grid {code} {state.name(code)}",
                state.chain(code),
            )
        notes.append(f"point ({where.lat:.6f}, {where.lon:.6f}) lies in no grid")
    if where.address:
        return _by_address(state, where.address, notes)
    return Located(None, None, "; ".join(notes) or "No grid code, point or address given")


def _by_address(state: RoutingState, address: str, notes: list[str]) -> Located:
    found = state.matcher.match(address)
    words = "、".join(dict.fromkeys(f"「{text}」" for text, _ in found.words))
    prefix = "; ".join(notes) + "; " if notes else ""
    if found.ambiguous:
        return Located(
            None,
            None,
            f"{prefix}Address names {words}: ambiguous between {', '.join(found.candidates)}",
            candidates=describe(state, found.candidates),
        )
    if found.code is None:
        return Located(None, None, f"{prefix}Address names no known place")
    place = state.units[found.code]
    matched = "、".join(f"「{text}」" for text, code in found.words if code == place.code)
    if place.kind == "grid":
        return Located(
            "address",
            place.code,
            f"{prefix}Address words {matched} name grid {place.code} {place.name}",
            state.chain(place.code),
        )
    grids = state.grids_under(place.code)
    default = place.default_grid_code
    if default is None and len(grids) == 1:
        default = grids[0]
    if default is not None and default in state.units:
        return Located(
            "address",
            default,
            f"{prefix}Address words {matched} name {place.kind} {place.code} {place.name}; its "
            f"default grid {default} {state.name(default)} owns matters of the whole {place.kind}",
            state.chain(default),
        )
    return Located(
        None,
        None,
        f"{prefix}Address words {matched} name {place.kind} {place.name}, which has several "
        "grids and no default grid",
        area_chain=state.chain(place.code),
        candidates=describe(state, grids),
    )


def _rule_text(rule: rules.Rule) -> str:
    parts = [
        f"category={rule.category}" if rule.category else "",
        f"line={rule.line}" if rule.line else "",
        f"area={rule.area}" if rule.area else "",
    ]
    return "(" + ", ".join(p for p in parts if p) + ")"


async def on_duty_worker(session: AsyncSession, grid_code: str) -> Staff | None:
    return await org_repository.on_duty_worker(session, grid_code)


@dataclass(frozen=True)
class Routed:
    decision: Decision
    assignee: Worker | None
    # The grids of the village the ticket lies in (or its grid alone): the "same place" of
    # repeat detection (DESIGN.md §5).
    neighbourhood: tuple[str, ...] = ()
    # Kind → code of every unit the ticket lies in (grid, village, township, county).
    places: dict[str, str] | None = None


def neighbourhood(state: RoutingState, grid_code: str | None) -> tuple[str, ...]:
    if grid_code is None:
        return ()
    for code in state.chain(grid_code):
        if state.units[code].kind == "village":
            return tuple(state.grids_under(code))
    return (grid_code,)


def route(state: RoutingState, *, category: str, line: str, where: Where) -> Routed:
    """Decide the owner of a ticket from the routing state alone (no statement): the caller
    stores the decision."""
    located = locate(state, where)
    rule = rules.pick_rule(state.rules, category=category, line=line, area_chain=located.area_chain)
    decision = rules.decide(
        located,
        rule,
        rule_text=_rule_text(rule) if rule else "",
        unit_name=state.name(rule.unit_code) if rule else "",
    )
    assignee = state.on_duty.get(decision.grid_code) if decision.grid_code else None
    places: dict[str, str] = {}
    for code in state.chain(decision.area_grid) if decision.area_grid else ():
        places.setdefault(state.units[code].kind, code)
    return Routed(decision, assignee, neighbourhood(state, decision.area_grid), places)
