"""Parse and validate a county file: a GeoJSON FeatureCollection of units and grids.

Rules, per feature (``properties``):

* ``code``: required string of 1-32 letters, digits, ``_``, ``.`` or ``-``; unique in the file.
  National administrative-division codes are preferred, but their digit counts are not checked.
* ``name``: required non-empty string of at most 100 characters.
* ``kind``: one of county, township, village, grid; ``grid`` when absent.
* ``parent_code``: a string or null, not the feature's own code (whether the parent exists
  is the importer's business).
* ``aliases``: a list of non-empty strings of at most 100 characters, or one string of names
  separated by ``、``, ``,`` or ``，``.
* ``geometry``: a Polygon or MultiPolygon in lon/lat; required for grids, optional (null)
  for other kinds. Its coordinates follow ``rings``: finite numbers within lon -180..180 and
  lat -90..90, closed rings of at least 4 positions, at most ``rings.MAX_POSITIONS`` (10,000)
  positions per geometry. Every geometry given must then be valid (``shapely.is_valid``). No
  two grids may overlap: their interiors may not meet in more than 1e-12 deg²; shared edges
  are fine. Each overlapping pair is reported once, on the later feature, naming the earlier
  grid.

A file holds at most ``MAX_FILE_POSITIONS`` (1,000,000) positions in all: a larger one is
refused with that one problem, before any feature is read. Otherwise every problem is
reported, not just the first; geometries are checked even on features whose properties have
problems. ``features`` holds the features read without a problem in their properties or
geometry type (an invalid or overlapping polygon is kept, for display); an import should go
ahead only when ``problems`` is empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.errors import ShapelyError
from shapely.geometry import shape as to_shape
from shapely.geometry.base import BaseGeometry

from hotline.org import rings

KINDS = ("county", "township", "village", "grid")
CODE_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,32}")
MAX_NAME = 100
OVERLAP_AREA = 1e-12  # deg²; about 0.01 m² at this latitude, so rounding noise never counts
PROGRESS_EVERY = 500
POLYGON_TYPES = ("Polygon", "MultiPolygon")
# 50,000 grids of 20 positions each: twice the largest county expected, about 40 MB of JSON,
# which the HTTP import's 64 MiB body bound also admits. Every API process rebuilds its grid
# index from what is stored, so the positions of one import are bounded, not only its bytes.
MAX_FILE_POSITIONS = 1_000_000
ALIAS_SEPARATORS = re.compile(r"[、,，]")
_REASON = re.compile(r"(.+?)\[(\S+) (\S+)\]")


@dataclass(frozen=True)
class UnitFeature:
    code: str
    name: str
    kind: str
    parent_code: str | None
    aliases: tuple[str, ...]
    geometry: dict[str, Any] | None
    shape: BaseGeometry | None
    # For a village or township: the grid that owns matters addressed to the whole place (the
    # grid where the village committee sits).
    default_grid: str | None = None
    index: int = field(default=-1, compare=False)  # the feature's place in the file


@dataclass(frozen=True)
class Problem:
    index: int
    code: str | None
    problem: str


@dataclass(frozen=True, slots=True)
class _Shape:
    index: int
    code: str | None
    grid: bool
    geom: BaseGeometry


def parse_county(
    doc: object, *, progress: Callable[[int], None] | None = None
) -> tuple[list[UnitFeature], list[Problem]]:
    """Read every feature of ``doc``; return the features read and every problem found."""
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        return [], [Problem(-1, None, "not a GeoJSON FeatureCollection with a features list")]
    raw = doc["features"]
    sizes = [rings.positions(f.get("geometry")) if isinstance(f, dict) else 0 for f in raw]
    if sum(sizes) > MAX_FILE_POSITIONS:
        most = max(range(len(sizes)), key=sizes.__getitem__)
        text = (
            f"the file has {sum(sizes):,} positions; at most {MAX_FILE_POSITIONS:,} per import "
            f"(feature {most} has the most: {sizes[most]:,})"
        )
        return [], [Problem(-1, None, text)]
    problems: list[Problem] = []
    features: list[UnitFeature] = []
    shapes: list[_Shape] = []
    first_index: dict[str, int] = {}
    # numpy warns (rather than raises) on some malformed coordinate arrays; they are reported.
    with np.errstate(all="ignore"):
        for index, item in enumerate(raw):
            feature = _read_feature(index, item, first_index, problems, shapes)
            if feature is not None:
                features.append(feature)
            if progress is not None and (index + 1) % PROGRESS_EVERY == 0:
                progress(index + 1)
    problems.extend(_check_shapes(shapes))
    problems.sort(key=lambda p: p.index)  # stable: a feature's own problems stay in order
    if progress is not None:
        progress(len(raw))
    return features, problems


def _read_feature(
    index: int,
    item: object,
    first_index: dict[str, int],
    problems: list[Problem],
    shapes: list[_Shape],
) -> UnitFeature | None:
    if not isinstance(item, dict) or item.get("type") != "Feature":
        problems.append(Problem(index, None, "not a GeoJSON Feature"))
        return None
    props = item.get("properties")
    if not isinstance(props, dict):
        props = {}
    before = len(problems)

    def report(code: str | None, text: str) -> None:
        problems.append(Problem(index, code, text))

    code = props.get("code")
    if code is None:
        report(None, "missing code")
    elif not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
        report(None, f"code {code!r} is not 1-32 letters, digits, '_', '.' or '-'")
        code = None
    elif code in first_index:
        report(code, f"duplicate code (first used by feature {first_index[code]})")
    else:
        first_index[code] = index

    name = props.get("name")
    if name is None:
        report(code, "missing name")
    elif not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        report(code, f"name must be a non-empty string of at most {MAX_NAME} characters")

    kind = props.get("kind", "grid")
    if kind not in KINDS:
        report(code, f"kind {kind!r} is not one of {', '.join(KINDS)}")

    parent = props.get("parent_code")
    if parent is not None and not isinstance(parent, str):
        report(code, "parent_code must be a string or null")
    elif parent is not None and parent == code:
        report(code, "is its own parent")

    default_grid = props.get("default_grid")
    if default_grid is not None and (kind == "grid" or not isinstance(default_grid, str)):
        report(code, "default_grid must be a grid code, and only on a village or township")

    aliases = _read_aliases(props.get("aliases"))
    if isinstance(aliases, str):
        report(code, aliases)

    geometry = item.get("geometry")
    shape: BaseGeometry | None = None
    if geometry is None:
        if kind == "grid":
            report(code, "grid has no geometry")
    elif not isinstance(geometry, dict) or geometry.get("type") not in POLYGON_TYPES:
        gtype = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        report(code, f"geometry type {gtype!r} is not Polygon or MultiPolygon")
    elif (wrong := rings.problem(geometry)) is not None:
        report(code, wrong)
    else:
        try:
            shape = to_shape(geometry)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, ShapelyError) as e:
            report(code, f"malformed geometry: {e}")
        else:
            shapes.append(_Shape(index, code, kind == "grid", shape))

    if len(problems) > before:
        return None
    assert isinstance(code, str) and isinstance(name, str) and not isinstance(aliases, str)
    return UnitFeature(
        code, name.strip(), kind, parent, aliases, geometry, shape, default_grid, index
    )


def _read_aliases(value: object) -> tuple[str, ...] | str:
    """The aliases, stripped and without repeats, or a problem sentence."""
    if value is None:
        return ()
    if isinstance(value, str):
        parts = [p.strip() for p in ALIAS_SEPARATORS.split(value)]
        items = [p for p in parts if p]
    elif isinstance(value, list) and all(isinstance(a, str) and a.strip() for a in value):
        items = [a.strip() for a in value]
    else:
        return "aliases must be a list of non-empty strings or one string separated by '、' or ','"
    if any(len(a) > MAX_NAME for a in items):
        return f"alias longer than {MAX_NAME} characters"
    return tuple(dict.fromkeys(items))


def _check_shapes(shapes: list[_Shape]) -> list[Problem]:
    """Empty and invalid geometries, then overlaps between the sound grids (coordinates and
    rings were checked before, by ``rings``)."""
    if not shapes:
        return []
    geoms = np.array([s.geom for s in shapes], dtype=object)
    empty = shapely.is_empty(geoms)
    valid = shapely.is_valid(geoms)
    problems: list[Problem] = []
    for k, s in enumerate(shapes):
        if empty[k]:
            problems.append(Problem(s.index, s.code, "empty geometry"))
        elif not valid[k]:
            problems.append(Problem(s.index, s.code, _reason(s.geom)))
    sound = ~empty & valid
    problems.extend(_overlaps([s for k, s in enumerate(shapes) if s.grid and sound[k]]))
    return problems


def _reason(geom: BaseGeometry) -> str:
    """``Self-intersection[123.41 42.52]`` -> ``self-intersection at (123.41, 42.52)``."""
    reason = str(shapely.is_valid_reason(geom))
    m = _REASON.fullmatch(reason)
    if m is None:
        return f"invalid geometry: {reason}"
    text = m[1][0].lower() + m[1][1:]
    return f"{text} at ({_num(float(m[2]))}, {_num(float(m[3]))})"


def _num(v: float) -> str:
    return repr(round(float(v), 7))


def _overlaps(grids: list[_Shape]) -> list[Problem]:
    if len(grids) < 2:
        return []
    geoms = np.array([g.geom for g in grids], dtype=object)
    shapely.prepare(geoms)
    later, earlier = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = earlier < later  # each pair once, on the later feature
    later, earlier = later[keep], earlier[keep]
    # In a tiling almost every candidate pair only touches; skip those before any overlay.
    meet = ~shapely.touches(geoms[later], geoms[earlier])
    later, earlier = later[meet], earlier[meet]
    areas = shapely.area(shapely.intersection(geoms[later], geoms[earlier]))
    problems = []
    for a, b, area in zip(later.tolist(), earlier.tolist(), areas.tolist(), strict=True):
        if area > OVERLAP_AREA:
            other = grids[b].code or f"of feature {grids[b].index}"
            text = f"overlaps grid {other} (area {area:.2g} deg²)"
            problems.append(Problem(grids[a].index, grids[a].code, text))
    return problems
