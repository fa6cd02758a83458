"""The escalation ladder as pure rules.

The ladder is data (``ladder_step``): level 1 the village or community the ticket lies in,
2 its township or street, 3 the responsible county department, 4 the confirmation group. One
escalation climbs to the next level whose owning unit can be named for this ticket; a level
with no owner (a ticket with no place has no village) is passed over. The department of a
ticket is the department of the catalogue rule for its category, if any.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

GROUP = "group"


@dataclass(frozen=True)
class Step:
    level: int
    unit_kind: str
    name: str


@dataclass(frozen=True)
class Climb:
    level: int
    unit_kind: str
    name: str
    unit_code: str


def climb(ladder: Sequence[Step], current: int, owners: Mapping[str, str | None]) -> Climb | None:
    """The next rung above ``current`` with an owner in ``owners`` (unit kind → code); None at
    the top."""
    for step in sorted(ladder, key=lambda s: s.level):
        if step.level <= current:
            continue
        unit = owners.get(step.unit_kind)
        if unit is not None:
            return Climb(step.level, step.unit_kind, step.name, unit)
    return None
