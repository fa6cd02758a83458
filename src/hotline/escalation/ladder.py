"""The escalation ladders as pure rules (疑难诉求逐级化解).

Each kind of owner climbs its own ladder, stored as data (``ladder_rung``); the defaults:

    track        rungs
    grid         village → township → county (督办) → group (确责小组)
    department   department (its head, 负责人) → county → group
    enterprise   department (the handling unit's head) → line (the unit of the 12345-9 line)
                 → county → group

A rung's ``kind`` names the unit that owns it for one ticket (``owners``):

    village, township, county   the unit of that kind the ticket lies in (county: the root)
    department                  the owning unit, when it is a department
    line                        the unit the catalogue names for the ticket's line
    group                       the confirmation group

One escalation climbs to the next rung that has such a unit. A rung with none is passed over,
and so is a rung whose unit already owns the ticket (a village's own ticket does not climb to
itself) except a department's own head. A department's ticket never meets a village rung: its
track has none. The top rung is the group, which puts the ticket in arbitration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

GROUP = "group"
COUNTY = "county"
TRACKS = ("grid", "department", "enterprise")
KINDS = ("village", "township", "county", "department", "line", "group")
# How high each kind of rung stands, across tracks: the figures count each ticket by the highest
# kind it reached (metrics.formulas.RUNGS keeps this order).
RANK = {"village": 1, "department": 1, "township": 2, "line": 2, "county": 3, "group": 4}


@dataclass(frozen=True)
class Rung:
    track: str
    level: int
    kind: str
    name: str


@dataclass(frozen=True)
class Climb:
    track: str
    level: int
    kind: str
    name: str
    unit_code: str


def track_of(line: str, owner_kind: str | None) -> str:
    """Which ladder a ticket climbs: the enterprise line's own, a department's, or the grid's."""
    if line == "enterprise":
        return "enterprise"
    if owner_kind == "department":
        return "department"
    return "grid"


def climb(
    rungs: Sequence[Rung],
    track: str,
    current: int,
    owners: Mapping[str, str | None],
    owner_unit: str | None,
    *,
    to_top: bool = False,
) -> Climb | None:
    """The next rung of ``track`` above ``current`` that has a unit for this ticket (the top
    rung at once with ``to_top``); None when there is nothing above."""
    ordered = sorted((r for r in rungs if r.track == track), key=lambda r: r.level)
    if to_top:
        ordered = ordered[-1:]
    for rung in ordered:
        if rung.level <= current:
            continue
        unit = owners.get(rung.kind)
        if unit is None or (unit == owner_unit and rung.kind != "department"):
            continue
        return Climb(track, rung.level, rung.kind, rung.name, unit)
    return None


def higher(peak: str | None, kind: str) -> str:
    """The higher of two kinds of rung (the ticket's peak so far, and the one just reached)."""
    if peak is None or RANK.get(kind, 0) >= RANK.get(peak, 0):
        return kind
    return peak
