"""The routing precedence of DESIGN.md §4, as pure functions.

1. The dispatch catalogue (派单目录): rules (category, line, area) → unit. A rule matches when
   each of its set fields equals the ticket's (``area`` matches when the ticket lies in that
   unit or below it). The most specific rule wins: more fields set first, then the deeper area,
   then the higher priority, then the older rule. Department-duty matters land on the
   department itself and are never pushed down to a grid.
2. Geography, already worked out by the caller as a ``Located``: an explicit grid code, else the
   point in a grid polygon, else the address text.
3. Nothing decisive → triage, with the candidates geography found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Rule:
    id: int
    unit_code: str
    category: str | None = None
    line: str | None = None
    area: str | None = None
    priority: int = 0


@dataclass(frozen=True)
class Located:
    """Where geography put the ticket. ``grid_code`` None means it could not decide."""

    method: str | None  # grid_code, point, address
    grid_code: str | None
    explanation: str
    # Units the ticket lies in, most specific first (grid, village, township, county).
    area_chain: tuple[str, ...] = ()
    candidates: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Decision:
    method: str  # catalogue, grid_code, point, address, triage
    unit_code: str | None
    grid_code: str | None
    explanation: str
    candidates: tuple[dict[str, Any], ...] = field(default=())
    rule_id: int | None = None
    # The grid the ticket lies in, whoever owns it (for metrics by area).
    area_grid: str | None = None


def _specificity(rule: Rule, chain: tuple[str, ...]) -> tuple[int, int, int, int]:
    fields = (rule.category is not None) + (rule.line is not None) + (rule.area is not None)
    depth = len(chain) - chain.index(rule.area) if rule.area is not None else 0
    return (fields, depth, rule.priority, -rule.id)


def pick_rule(
    rules: Sequence[Rule], *, category: str, line: str, area_chain: tuple[str, ...]
) -> Rule | None:
    """The most specific catalogue rule matching the ticket, if any."""
    matching = [
        r
        for r in rules
        if r.category in (None, category)
        and r.line in (None, line)
        and (r.area is None or r.area in area_chain)
    ]
    if not matching:
        return None
    return max(matching, key=lambda r: _specificity(r, area_chain))


def decide(
    located: Located, rule: Rule | None, *, rule_text: str = "", unit_name: str = ""
) -> Decision:
    """Catalogue beats geography; geography beats triage."""
    if rule is not None:
        where = f" ({located.explanation})" if located.grid_code else ""
        return Decision(
            method="catalogue",
            unit_code=rule.unit_code,
            grid_code=None,
            explanation=f"Catalogue rule {rule.id} {rule_text} → {unit_name or rule.unit_code}"
            + where,
            rule_id=rule.id,
            area_grid=located.grid_code,
        )
    if located.grid_code is not None and located.method is not None:
        return Decision(
            method=located.method,
            unit_code=located.grid_code,
            grid_code=located.grid_code,
            explanation=located.explanation,
            area_grid=located.grid_code,
        )
    return Decision(
        method="triage",
        unit_code=None,
        grid_code=None,
        explanation=located.explanation or "No rule, grid, point or address decided",
        candidates=located.candidates,
    )
