"""Units and grids: create, edit, and import a whole county file atomically.

An import is validated whole before anything is written: every polygon valid, no grid overlapping
another (in the file or already stored), every parent and default grid known. A file with any
problem is refused with the list of problems, by feature and code, and nothing of it is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import shapely
from shapely.geometry import shape
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.db import config_state
from hotline.errors import Conflict, NotFound, Unprocessable, found
from hotline.org import repository
from hotline.org.geojson import OVERLAP_AREA, Problem, UnitFeature, parse_county
from hotline.org.models import Unit
from hotline.org.schemas import UnitCreate, UnitKind, UnitUpdate

DEPTH = {"county": 0, "township": 1, "village": 2, "grid": 3}
BATCH = 2000
Progress = Callable[[str, int, int], None]


class ImportRejected(Unprocessable):
    code, title = "invalid_county_file", "The county file has problems; nothing was imported"


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
    tree = shapely.STRtree(stored_shapes)
    problems: list[Problem] = []
    new_idx, stored_idx = tree.query([g for _, _, g in new], predicate="intersects")
    for i, j in zip(new_idx.tolist(), stored_idx.tolist(), strict=True):
        index, code, geom = new[i]
        area = shapely.intersection(geom, stored_shapes[j]).area
        if area > OVERLAP_AREA:
            problems.append(Problem(index, code, f"overlaps stored grid {stored[j][0]}"))
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
    in_file = {f.code: f for f in features}
    referenced = {f.parent_code for f in features if f.parent_code} | {
        f.default_grid for f in features if f.default_grid
    }
    stored = await repository.existing_codes(session, set(in_file) | referenced)
    kinds = {**stored, **{f.code: f.kind for f in features}}
    for index, f in enumerate(features):
        if f.parent_code and f.parent_code not in kinds:
            problems.append(Problem(index, f.code, f"unknown parent {f.parent_code}"))
        elif f.parent_code and kinds[f.parent_code] == "grid":
            problems.append(Problem(index, f.code, f"parent {f.parent_code} is a grid"))
        if f.default_grid and kinds.get(f.default_grid) != "grid":
            problems.append(Problem(index, f.code, f"default grid {f.default_grid} is no grid"))
    others = [(c, b) for c, b in await repository.grid_boundaries(session) if c not in in_file]
    new_grids = [(i, f.code, f.shape) for i, f in enumerate(features) if f.kind == "grid"]
    problems += await asyncio.to_thread(overlap_problems, new_grids, others)
    if problems:
        problems.sort(key=lambda p: p.index)
        raise ImportRejected(
            f"{len(problems)} problem(s) in the file",
            problems=[{"index": p.index, "code": p.code, "problem": p.problem} for p in problems],
        )
    created = await _upsert(session, features, stored, now, progress)
    await config_state.bump(session, "org")
    return ImportCounts(len(features), created, len(features) - created)


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
    stored: dict[str, str],
    now: datetime,
    progress: Progress | None,
) -> int:
    # Parents before children, so foreign keys hold statement by statement.
    ordered = sorted(features, key=lambda f: DEPTH[f.kind])
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
            raise Unprocessable(f"Unknown parent {parent}", field="parent_code")
        if found.kind == "grid" or parent == code:
            raise Unprocessable(f"{parent} cannot be the parent of {code}", field="parent_code")
    if default_grid is not None:
        grid = await repository.unit(session, default_grid)
        if grid is None or grid.kind != "grid":
            raise Unprocessable(f"{default_grid} is not a grid", field="default_grid_code")
    if kind == "grid" and default_grid is not None:
        raise Unprocessable("A grid has no default grid", field="default_grid_code")


async def _check_boundary(
    session: AsyncSession, code: str, boundary: dict[str, Any] | None, kind: str
) -> None:
    if boundary is None:
        if kind == "grid":
            raise Unprocessable("A grid needs a boundary", field="boundary")
        return
    feature = {"type": "Feature", "properties": {"code": code, "name": code}, "geometry": boundary}
    _, problems = parse_county({"type": "FeatureCollection", "features": [feature]})
    if problems:
        raise Unprocessable(f"Invalid boundary: {problems[0].problem}", field="boundary")
    if kind == "grid":
        others = [(c, b) for c, b in await repository.grid_boundaries(session) if c != code]
        clash = overlap_problems([(0, code, shape(boundary))], others)
        if clash:
            raise Unprocessable(f"Boundary {clash[0].problem}", field="boundary")


async def create_unit(session: AsyncSession, data: UnitCreate, *, now: datetime) -> Unit:
    """Add a unit; Conflict if the code exists, Unprocessable for broken links or boundary."""
    if await repository.unit(session, data.code) is not None:
        raise Conflict(f"Unit {data.code} exists; PATCH it instead")
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
    unit = found(await repository.unit(session, code), f"No unit {code}")
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
        raise NotFound(f"No grid {code}")
    return unit
