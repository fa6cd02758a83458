"""Units and grids: create, edit, and import a whole county file atomically.

An import is validated whole before anything is written: coordinates and rings sound (rings),
every polygon valid, no grid overlapping another (in the file or already stored), every parent
and default grid known, the tree kept (tree: ranks, cycles, and what holds on to a unit whose
kind would change). A file with any problem is refused with the list of problems, by feature
index and code, and nothing of it is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth import repository as auth_repository
from hotline.db import config_state
from hotline.errors import Conflict, NotFound, Unprocessable, found
from hotline.org import repository, rings, tree
from hotline.org.geojson import (
    MAX_FILE_POSITIONS,
    OVERLAP_AREA,
    Problem,
    UnitFeature,
    parse_county,
)
from hotline.org.models import Unit
from hotline.org.schemas import UnitCreate, UnitKind, UnitUpdate

BATCH = 2000
Progress = Callable[[str, int, int], None]


IMPORT_RULES = f"""Upsert the units of a GeoJSON FeatureCollection. Feature properties: \
`code`, `name`, `kind` (county, township, village or grid; default grid), `parent_code`, \
`aliases`, `default_grid`. The file is validated whole before anything is written: a file with \
any problem is refused whole (422 `invalid_county_file`, its `problems` naming each feature by \
`index` and `code`) and nothing of it is stored.

Checked: coordinates are finite numbers (`Infinity`, `NaN` and numbers beyond a double such as \
`1e400` are refused) within lon -180..180 and lat -90..90; rings are closed and hold at least 4 \
positions; polygons are valid and no two grids overlap; every unit sits under a unit of a higher \
rank (county > township > village > grid; departments and the confirmation group under the \
county), with no parent cycle in the file or through stored units. A stored unit may change kind \
only when nothing holds on to it: no open ticket names it, none of its staff or API keys would \
be misplaced, no child unit is left under a kind that cannot hold it, and a grid that stops \
being one has no attached members, is no place's default grid and has its area covered by the \
file's grids. At most {rings.MAX_POSITIONS:,} positions per geometry and \
{MAX_FILE_POSITIONS:,} per file."""


class ImportRejected(Unprocessable):
    code = "invalid_county_file"
    title, title_en = (
        "县域文件有问题，未导入任何内容",
        "The county file has problems; nothing was imported",
    )


@dataclass(frozen=True)
class ImportCounts:
    features: int
    created: int
    updated: int


def overlap_problems(
    new: list[tuple[int, str, Any]], stored: list[tuple[str, dict[str, Any]]]
) -> list[Problem]:
    """Grids of the file overlapping stored grids that the file does not replace."""
    if not new or not stored:
        return []
    stored_shapes = [shape(b) for _, b in stored]
    index = shapely.STRtree(stored_shapes)
    problems: list[Problem] = []
    new_idx, stored_idx = index.query([g for _, _, g in new], predicate="intersects")
    for i, j in zip(new_idx.tolist(), stored_idx.tolist(), strict=True):
        at, code, geom = new[i]
        area = shapely.intersection(geom, stored_shapes[j]).area
        if area > OVERLAP_AREA:
            problems.append(Problem(at, code, f"overlaps stored grid {stored[j][0]}"))
    return problems


async def import_county(
    session: AsyncSession, doc: object, *, now: datetime, progress: Progress | None = None
) -> ImportCounts:
    """Validate and upsert every unit of a GeoJSON county file; raises ImportRejected."""
    total = len(doc.get("features", [])) if isinstance(doc, dict) else 0

    def parsed(n: int) -> None:
        if progress:
            progress("validate", n, total)

    features, problems = await asyncio.to_thread(parse_county, doc, progress=parsed)
    stored = await repository.unit_tree(session)
    kinds = {
        **{code: node.kind for code, node in stored.items()},
        **{f.code: f.kind for f in features},
    }
    for f in features:
        if f.parent_code and f.parent_code not in kinds:
            problems.append(Problem(f.index, f.code, f"unknown parent {f.parent_code}"))
        if f.default_grid and kinds.get(f.default_grid) != "grid":
            problems.append(Problem(f.index, f.code, f"default grid {f.default_grid} is no grid"))
    problems += tree.tree_problems(features, stored)
    boundaries = dict(await repository.grid_boundaries(session))
    in_file = {f.code for f in features}
    others = [(c, b) for c, b in boundaries.items() if c not in in_file]
    new_grids = [(f.index, f.code, f.shape) for f in features if f.kind == "grid"]
    problems += await asyncio.to_thread(overlap_problems, new_grids, others)
    problems += await _kind_changes(session, features, stored, boundaries)
    if problems:
        problems.sort(key=lambda p: p.index)
        raise ImportRejected(
            f"文件中有 {len(problems)} 处问题",
            en=f"{len(problems)} problem(s) in the file",
            problems=[{"index": p.index, "code": p.code, "problem": p.problem} for p in problems],
        )
    created = await _upsert(session, features, stored, now, progress)
    await config_state.bump(session, "org")
    return ImportCounts(len(features), created, len(features) - created)


async def _kind_changes(
    session: AsyncSession,
    features: list[UnitFeature],
    stored: dict[str, tree.Node],
    boundaries: dict[str, dict[str, Any]],
) -> list[Problem]:
    """The stored units that the file gives another kind, and what still holds on to each."""
    changed = [f for f in features if f.code in stored and stored[f.code].kind != f.kind]
    if not changed:
        return []
    codes = {f.code for f in changed}
    tickets = await repository.open_tickets_naming(session, sorted(codes))
    people: dict[str, list[tuple[str, str]]] = {}
    for unit, role, staff_id in await repository.staff_of_units(session, sorted(codes)):
        people.setdefault(unit, []).append((role, f"staff {staff_id} ({role})"))
    for key in await auth_repository.keys(session):
        if key.unit_code in codes and key.revoked_at is None:
            people.setdefault(key.unit_code, []).append(
                (key.role, f"API key {key.prefix} ({key.role})")
            )
    # What stops being a grid: its members, the places it is the default grid of (those the
    # file names are checked as the file's), and its area, which the file's grids must cover.
    leaving = [f.code for f in changed if stored[f.code].kind == "grid"]
    members = await repository.members_attached(session, leaving) if leaving else {}
    in_file = {f.code for f in features}
    default_of: dict[str, list[str]] = {}
    for code, node in stored.items():
        if node.default_grid_code in leaving and code not in in_file:
            default_of.setdefault(node.default_grid_code, []).append(code)
    grids = [f.shape for f in features if f.kind == "grid" and f.shape is not None]
    areas = [(c, boundaries[c]) for c in leaving if c in boundaries]
    uncovered = await asyncio.to_thread(uncovered_areas, areas, grids)
    problems: list[Problem] = []
    for f in changed:
        usage = tree.Usage(
            open_tickets=tickets.get(f.code, 0),
            people=tuple(people.get(f.code, ())),
            members=members.get(f.code, 0),
            default_of=tuple(default_of.get(f.code, ())),
            uncovered=uncovered.get(f.code, 0.0),
        )
        problems += tree.kind_change_problems(f, stored[f.code].kind, usage)
    return problems


def uncovered_areas(
    areas: list[tuple[str, dict[str, Any]]], grids: list[BaseGeometry]
) -> dict[str, float]:
    """For each (code, boundary), the area (deg²) that none of ``grids`` covers, if any."""
    if not areas:
        return {}
    index = shapely.STRtree(grids)
    out: dict[str, float] = {}
    for code, boundary in areas:
        area = shape(boundary)
        hits = index.query(area, predicate="intersects")
        rest = area.difference(shapely.union_all([grids[i] for i in hits])) if len(hits) else area
        if rest.area > OVERLAP_AREA:
            out[code] = float(rest.area)
    return out


def _row(f: UnitFeature, now: datetime) -> dict[str, Any]:
    return {
        "code": f.code,
        "name": f.name,
        "kind": f.kind,
        "parent_code": f.parent_code,
        "aliases": list(f.aliases),
        # Only what a boundary is: a foreign member of the file's geometry is not stored.
        "boundary": None
        if f.geometry is None
        else {"type": f.geometry["type"], "coordinates": f.geometry["coordinates"]},
        "default_grid_code": f.default_grid,
        "active": True,
        "updated_at": now,
    }


async def _upsert(
    session: AsyncSession,
    features: list[UnitFeature],
    stored: dict[str, tree.Node],
    now: datetime,
    progress: Progress | None,
) -> int:
    # Parents before children (tree.RANK holds), so foreign keys hold statement by statement.
    ordered = sorted(features, key=lambda f: tree.RANK[f.kind])
    done = created = 0
    for start in range(0, len(ordered), BATCH):
        batch = ordered[start : start + BATCH]
        fresh = [{**_row(f, now), "created_at": now} for f in batch if f.code not in stored]
        known = [_row(f, now) for f in batch if f.code in stored]
        # default grids may point forward within the file: set them after every insert.
        for row in fresh:
            row["default_grid_code"] = None
        await repository.insert_units(session, fresh)
        await repository.update_units(session, known)
        created += len(fresh)
        done += len(batch)
        if progress:
            progress("store", done, len(ordered))
    defaults = [{"code": f.code, "default_grid_code": f.default_grid} for f in features]
    await repository.update_units(session, defaults)
    return created


async def _check_links(
    session: AsyncSession, *, code: str, kind: str, parent: str | None, default_grid: str | None
) -> None:
    if parent is not None:
        found = await repository.unit(session, parent)
        if found is None:
            raise Unprocessable(
                f"没有编码为 {parent} 的上级单位",
                en=f"Unknown parent {parent}",
                field="parent_code",
            )
        wrong: str | None
        if parent == code:
            wrong, wrong_zh = "it is the unit itself", "不能以自己为上级"
        else:
            wrong = tree.parent_problem(kind, found.kind)
            wrong_zh = tree.parent_problem_zh(kind, found.kind) or ""
        if wrong is None and await _closes_loop(session, code, parent):
            wrong = f"its parent chain would come back to {code}"
            wrong_zh = f"上级链会绕回 {code}"
        if wrong is not None:
            raise Unprocessable(
                f"{parent} 不能作为 {code} 的上级单位：{wrong_zh}",
                en=f"{parent} cannot be the parent of {code}: {wrong}",
                field="parent_code",
            )
    if default_grid is not None:
        grid = await repository.unit(session, default_grid)
        if grid is None or grid.kind != "grid":
            raise Unprocessable(
                f"{default_grid} 不是网格",
                en=f"{default_grid} is not a grid",
                field="default_grid_code",
            )
    if kind == "grid" and default_grid is not None:
        raise Unprocessable(
            "网格没有默认网格", en="A grid has no default grid", field="default_grid_code"
        )


async def _closes_loop(session: AsyncSession, code: str, parent: str) -> bool:
    """Whether ``parent`` as the parent of ``code`` would make the chain above it a loop."""
    stored = await repository.unit_tree(session)
    parents = {c: node.parent_code for c, node in stored.items()}
    parents[code] = parent
    return any(code in loop for loop in tree.cycles([code], parents))


async def _check_boundary(
    session: AsyncSession, code: str, boundary: dict[str, Any] | None, kind: str
) -> None:
    if boundary is None:
        if kind == "grid":
            raise Unprocessable("网格需要边界", en="A grid needs a boundary", field="boundary")
        return
    feature = {"type": "Feature", "properties": {"code": code, "name": code}, "geometry": boundary}
    _, problems = parse_county({"type": "FeatureCollection", "features": [feature]})
    if problems:
        raise Unprocessable(
            f"边界无效：{problems[0].problem}",
            en=f"Invalid boundary: {problems[0].problem}",
            field="boundary",
        )
    if kind == "grid":
        others = [(c, b) for c, b in await repository.grid_boundaries(session) if c != code]
        clash = overlap_problems([(0, code, shape(boundary))], others)
        if clash:
            raise Unprocessable(
                f"边界有误：{clash[0].problem}",
                en=f"Boundary {clash[0].problem}",
                field="boundary",
            )


async def create_unit(session: AsyncSession, data: UnitCreate, *, now: datetime) -> Unit:
    """Add a unit; Conflict if the code exists, Unprocessable for broken links or boundary."""
    if await repository.unit(session, data.code) is not None:
        raise Conflict(
            f"单位 {data.code} 已存在，请改用 PATCH 修改",
            en=f"Unit {data.code} exists; PATCH it instead",
        )
    boundary = data.boundary.model_dump() if data.boundary else None
    await _check_links(
        session,
        code=data.code,
        kind=data.kind.value,
        parent=data.parent_code,
        default_grid=data.default_grid_code,
    )
    await _check_boundary(session, data.code, boundary, data.kind.value)
    unit = Unit(
        code=data.code,
        name=data.name,
        kind=data.kind.value,
        parent_code=data.parent_code,
        aliases=list(dict.fromkeys(data.aliases)),
        boundary=boundary,
        default_grid_code=data.default_grid_code,
        active=True,
        created_at=now,
        updated_at=now,
    )
    return await config_state.added(session, unit, "org")


async def update_unit(session: AsyncSession, code: str, data: UnitUpdate, *, now: datetime) -> Unit:
    """Change a unit's fields; a new boundary is validated against every other grid."""
    unit = found(
        await repository.unit(session, code), f"没有编码为 {code} 的单位", en=f"No unit {code}"
    )
    changes = data.model_dump(exclude_unset=True)
    if "boundary" in changes:
        changes["boundary"] = data.boundary.model_dump() if data.boundary else None
        await _check_boundary(session, code, changes["boundary"], unit.kind)
    await _check_links(
        session,
        code=code,
        kind=unit.kind,
        parent=changes.get("parent_code"),
        default_grid=changes.get("default_grid_code"),
    )
    if "aliases" in changes:
        changes["aliases"] = list(dict.fromkeys(changes["aliases"]))
    return await config_state.changed(session, unit, changes, "org", now=now)


async def grid(session: AsyncSession, code: str) -> Unit:
    unit = await repository.unit(session, code)
    if unit is None or unit.kind != UnitKind.grid:
        raise NotFound(f"没有编码为 {code} 的网格", en=f"No grid {code}")
    return unit
