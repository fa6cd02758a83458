"""The tree of units a change may leave, as rules over plain data (no database).

    RANK                    county > township > village > grid: a unit sits under a unit of a
                            higher rank; departments and the confirmation group under the county
    parent_problem()        why a unit of one kind cannot sit under a unit of another (and
                            parent_problem_zh(), the same in Chinese)
    home_problem()          why a person of a role cannot belong to a unit of a kind (and
                            home_problem_zh())
    cycles()                the loops that parent chains run into
    tree_problems()         a county file against the stored tree: parents of the wrong kind,
                            stored children left under a unit that changes kind, parent cycles
                            (within the file, and through stored units)
    kind_change_problems()  what still holds on to a stored unit the file gives another kind

The import stores parents before children by rank (units._upsert), and routing walks the
chain up from a grid and the tree down from a place: both rely on these rules holding.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from hotline.org.geojson import Problem, UnitFeature
from hotline.org.schemas import StaffRole

RANK = {"county": 0, "township": 1, "village": 2, "grid": 3}
LISTED = 5  # children or people named in one problem; the rest are counted

# A worker belongs to a grid, a member to a department, an officer to any unit above the grid
# that people work in (DESIGN.md §2); a grid has workers, not officers.
HOME_KINDS: dict[StaffRole, tuple[str, ...]] = {
    StaffRole.worker: ("grid",),
    StaffRole.member: ("department",),
    StaffRole.officer: ("village", "township", "county", "department"),
}


# Unit kinds and staff roles as people call them, for the Chinese of the problems below.
KIND_NAMES = {
    "county": "县",
    "township": "乡镇（街道）",
    "village": "村（社区）",
    "grid": "网格",
    "department": "部门",
    "group": "确责小组",
}
STAFF_ROLE_NAMES = {"worker": "网格员", "member": "部门专属网格员", "officer": "单位负责人"}


def home_problem_zh(role: str, kind: str | None) -> str | None:
    """``home_problem`` in Chinese."""
    homes = next((h for r, h in HOME_KINDS.items() if r.value == role), None)
    if homes is None or kind in homes:
        return None
    where = "未知单位" if kind is None else KIND_NAMES.get(kind, kind)
    extra = "；网格只有网格员" if role == StaffRole.officer and kind == "grid" else ""
    who = STAFF_ROLE_NAMES.get(role, role)
    return f"{who}应属于{_either_zh(homes)}，不能属于{where}{extra}"


def home_problem(role: str, kind: str | None) -> str | None:
    """Why a person of ``role`` cannot belong to a unit of ``kind`` (None: they can)."""
    homes = next((h for r, h in HOME_KINDS.items() if r.value == role), None)
    if homes is None or kind in homes:
        return None
    where = "unknown unit" if kind is None else f"{kind}"
    extra = "; a grid has workers" if role == StaffRole.officer and kind == "grid" else ""
    return f"A {role} belongs to a {' or '.join(homes)}, not a {where}{extra}"


@dataclass(frozen=True, slots=True)
class Node:
    """A stored unit, as far as the tree is concerned."""

    kind: str
    parent_code: str | None
    default_grid_code: str | None = None


@dataclass(frozen=True)
class Usage:
    """What holds on to a stored unit whose kind would change."""

    open_tickets: int = 0
    # (role, who) of each person or API key that belongs to the unit.
    people: tuple[tuple[str, str], ...] = ()
    members: int = 0  # dedicated members attached, if it is a grid
    default_of: tuple[str, ...] = ()  # units that would keep it as their default grid
    uncovered: float = 0.0  # deg² of its area that no grid would cover, if it is a grid


def parents_for(kind: str) -> tuple[str, ...]:
    """The kinds a unit of ``kind`` may sit under, the nearest first."""
    if kind not in RANK:
        return ("county",)
    return tuple(k for k, r in sorted(RANK.items(), key=lambda kv: -kv[1]) if r < RANK[kind])


def parent_problem(kind: str, parent_kind: str) -> str | None:
    """Why a ``kind`` cannot sit under a ``parent_kind`` (None: it can)."""
    allowed = parents_for(kind)
    if parent_kind in allowed:
        return None
    if not allowed:
        return f"a {kind} has no parent"
    return f"a {kind} sits under a {_either(allowed)}"


def parent_problem_zh(kind: str, parent_kind: str) -> str | None:
    """``parent_problem`` in Chinese."""
    allowed = parents_for(kind)
    if parent_kind in allowed:
        return None
    name = KIND_NAMES.get(kind, kind)
    if not allowed:
        return f"{name}没有上级单位"
    return f"{name}的上级应为{_either_zh(allowed)}"


def cycles(starts: Iterable[str], parents: Mapping[str, str | None]) -> list[list[str]]:
    """Each loop that the parent chain of one of ``starts`` runs into, once, from where the
    first chain entered it. Every unit is walked once, however long the chains."""
    walked: set[str] = set()
    loops = []
    for start in starts:
        path: dict[str, int] = {}
        code: str | None = start
        while code is not None and code not in walked and code not in path:
            path[code] = len(path)
            code = parents.get(code)
        if code is not None and code in path:
            loops.append(list(path)[path[code] :])
        walked.update(path)
    return loops


def tree_problems(features: Sequence[UnitFeature], stored: Mapping[str, Node]) -> list[Problem]:
    """Every way the file's units would break the tree of stored units they join or replace.
    A parent known nowhere is not reported here (the importer reports it)."""
    in_file = {f.code: f for f in features}

    def kind_of(code: str) -> str | None:
        if code in in_file:
            return in_file[code].kind
        node = stored.get(code)
        return node.kind if node else None

    problems: list[Problem] = []
    for f in features:
        parent_kind = kind_of(f.parent_code) if f.parent_code else None
        wrong = parent_problem(f.kind, parent_kind) if parent_kind else None
        if wrong is not None:
            text = f"parent {f.parent_code} is a {parent_kind}; {wrong}"
            problems.append(Problem(f.index, f.code, text))
    problems += _stranded(in_file, stored)
    problems += _cycles(in_file, stored)
    return problems


def _stranded(in_file: Mapping[str, UnitFeature], stored: Mapping[str, Node]) -> list[Problem]:
    """Stored children the file leaves under a parent whose new kind cannot hold them."""
    changed = {c: f.kind for c, f in in_file.items() if c in stored and stored[c].kind != f.kind}
    if not changed:
        return []
    children: dict[str, list[str]] = {}
    for code, node in stored.items():
        parent = node.parent_code
        if parent in changed and code not in in_file:
            if parent_problem(node.kind, changed[parent]) is not None:
                children.setdefault(parent, []).append(f"{code} ({node.kind})")
    problems = []
    for code, kids in children.items():
        f = in_file[code]
        text = f"{_change(stored[code].kind, f.kind)}: its child units {_some(sorted(kids))} "
        problems.append(Problem(f.index, code, text + f"cannot sit under a {f.kind}"))
    return problems


def _cycles(in_file: Mapping[str, UnitFeature], stored: Mapping[str, Node]) -> list[Problem]:
    """Each loop of parents through a unit of the file, once, on its first feature in the file;
    a loop among stored units alone is not the file's doing."""
    parents = {code: node.parent_code for code, node in stored.items()}
    parents.update({code: f.parent_code for code, f in in_file.items()})
    problems = []
    for loop in cycles(in_file, parents):
        ours = [c for c in loop if c in in_file]
        if not ours:
            continue
        first = min(ours, key=lambda c: in_file[c].index)
        k = loop.index(first)
        chain = " → ".join([*loop[k:], *loop[:k], first])
        problems.append(Problem(in_file[first].index, first, f"parent chain {chain} is a cycle"))
    return problems


def kind_change_problems(f: UnitFeature, old_kind: str, usage: Usage) -> list[Problem]:
    """What would be left wrong if the stored ``old_kind`` unit took the file's kind: open
    tickets naming it, people and keys who cannot belong to the new kind, and for a grid its
    members, the places whose default grid it is, and its area left in no grid."""
    why = []
    if usage.open_tickets:
        why.append(f"{usage.open_tickets} open ticket(s) name it; close or move them first")
    misplaced = [who for role, who in usage.people if home_problem(role, f.kind) is not None]
    if misplaced:
        why.append(f"{_some(misplaced)} cannot belong to a {f.kind}")
    if usage.members:
        why.append(f"{usage.members} dedicated member(s) are attached to it")
    if usage.default_of:
        why.append(f"it is the default grid of {_some(sorted(usage.default_of))}")
    if usage.uncovered:
        why.append(f"{usage.uncovered:.2g} deg² of its area would lie in no grid")
    return [Problem(f.index, f.code, f"{_change(old_kind, f.kind)}: {w}") for w in why]


def _change(old: str, new: str) -> str:
    return f"cannot change from {old} to {new}"


def _either(kinds: Sequence[str]) -> str:
    return kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} or {kinds[-1]}"


def _either_zh(kinds: Sequence[str]) -> str:
    names = [KIND_NAMES.get(k, k) for k in kinds]
    return names[0] if len(names) == 1 else f"{'、'.join(names[:-1])}或{names[-1]}"


def _some(items: Sequence[str]) -> str:
    shown = ", ".join(items[:LISTED])
    return shown if len(items) <= LISTED else f"{shown} and {len(items) - LISTED} more"
