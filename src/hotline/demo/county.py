"""The demo county, its departments, and synthetic counties of any size.

``demo_county()`` is a fictional county shaped like Faku County, Liaoning (法库县, 210124):
one county, 6 townships (9-digit codes), 21 villages and communities (12 digits) and 60 grids
(15 digits) that exactly tile the rectangle lon 123.30-123.50, lat 42.40-42.60: neighbours
share identical edges, and each village and township polygon is the union of its grids. The
places and their aliases are in ``hotline.demo.names``; it is deterministic.

``synthetic_county(n)`` is n grids as jittered quadrilaterals on a lattice around the same
point (neighbours share vertices, so they tile), grouped 50 to a village and 20 villages to a
township along a serpentine path so that each group is contiguous. Codes follow the national
pattern until the counts overflow three digits; then they just stay unique.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Polygon

from hotline.demo.names import (
    COUNTY_ALIASES,
    COUNTY_CODE,
    COUNTY_NAME,
    LAYOUT,
    SHARED_ALIAS,
    TOWNSHIPS,
    VILLAGES,
)

__all__ = [
    "CONFIRMATION_GROUP",
    "DEPARTMENTS",
    "SHARED_ALIAS",
    "DemoDepartment",
    "demo_county",
    "synthetic_county",
]


@dataclass(frozen=True)
class DemoDepartment:
    code: str
    name: str
    aliases: tuple[str, ...]


DEPARTMENTS: tuple[DemoDepartment, ...] = (
    DemoDepartment("210124-D-WATER", "法库县水务局", ("水务局", "供水公司", "自来水公司")),
    DemoDepartment("210124-D-POWER", "国网法库县供电公司", ("供电公司", "供电局", "电业局")),
    DemoDepartment("210124-D-GAS", "法库县燃气公司", ("燃气公司", "煤气公司")),
    DemoDepartment("210124-D-HEAT", "法库县供热公司", ("供热公司", "热力公司")),
    DemoDepartment("210124-D-HOUSING", "法库县住房和城乡建设局", ("住建局", "住房和城乡建设局")),
    DemoDepartment("210124-D-MARKET", "法库县市场监督管理局", ("市场监管局", "市监局")),
    # Owns the enterprise line, 12345-9.
    DemoDepartment("210124-D-BUSINESS", "法库县营商环境建设局", ("营商局", "营商环境建设局")),
    DemoDepartment("210124-D-ECOLOGY", "沈阳市生态环境局法库分局", ("生态环境分局", "环保局")),
)

CONFIRMATION_GROUP: tuple[str, str] = ("210124-QZ", "疑难问题确责小组")

WEST, EAST, SOUTH, NORTH = 123.30, 123.50, 42.40, 42.60
ORDINALS = "一二三四五六七八九十"

SYNTHETIC_STEP = 0.005  # degrees; about 400 m by 550 m here
SYNTHETIC_JITTER = 0.2  # of a step; under a quarter keeps every quadrilateral simple
GRIDS_PER_VILLAGE = 50
VILLAGES_PER_TOWNSHIP = 20


def _feature(
    code: str,
    name: str,
    kind: str,
    parent: str | None,
    aliases: tuple[str, ...],
    geometry: dict[str, Any] | None,
) -> dict[str, Any]:
    props = {"code": code, "name": name, "kind": kind, "parent_code": parent, "aliases": [*aliases]}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _ring(corners: list[tuple[float, float]]) -> dict[str, Any]:
    """A Polygon from corners SW, SE, NE, NW: counter-clockwise, as GeoJSON prefers."""
    return {"type": "Polygon", "coordinates": [[list(c) for c in [*corners, corners[0]]]]}


def _union(polygons: list[dict[str, Any]]) -> dict[str, Any]:
    merged = shapely.union_all([Polygon(p["coordinates"][0]) for p in polygons])
    # normalize() turns exterior rings clockwise; reversed, they follow GeoJSON's right-hand rule.
    oriented = shapely.normalize(merged).reverse()
    geometry: dict[str, Any] = json.loads(shapely.to_geojson(oriented))
    return geometry


def demo_county() -> dict[str, Any]:
    """The demo county as a FeatureCollection; a fresh copy on every call."""
    rows, cols = len(LAYOUT), len(LAYOUT[0])
    lon = [round(WEST + (EAST - WEST) * c / cols, 6) for c in range(cols + 1)]
    lat = [round(NORTH - (NORTH - SOUTH) * r / rows, 6) for r in range(rows + 1)]
    cells: dict[str, list[dict[str, Any]]] = {letter: [] for letter in VILLAGES}
    for r, line in enumerate(LAYOUT):
        for c, letter in enumerate(line):
            corners = [(lon[c], lat[r + 1]), (lon[c + 1], lat[r + 1])]
            corners += [(lon[c + 1], lat[r]), (lon[c], lat[r])]
            cells[letter].append(_ring(corners))

    grids: list[dict[str, Any]] = []
    villages: list[dict[str, Any]] = []
    by_township: dict[str, list[dict[str, Any]]] = {t.code: [] for t in TOWNSHIPS}
    for letter, v in VILLAGES.items():
        if len(cells[letter]) != len(v.grids):
            raise RuntimeError(f"{v.name}: LAYOUT has {len(cells[letter])} grids")
        village_code = COUNTY_CODE + v.township + v.code
        for n, (polygon, aliases) in enumerate(zip(cells[letter], v.grids, strict=True)):
            name = f"{v.name}第{ORDINALS[n]}网格"
            grids.append(
                _feature(f"{village_code}{n + 1:03d}", name, "grid", village_code, aliases, polygon)
            )
        parent = COUNTY_CODE + v.township
        geometry = _union(cells[letter])
        village = _feature(village_code, v.name, "village", parent, v.aliases, geometry)
        village["properties"]["default_grid"] = f"{village_code}001"  # the committee's grid
        villages.append(village)
        by_township[v.township].extend(cells[letter])

    townships = [
        _feature(
            COUNTY_CODE + t.code,
            t.name,
            "township",
            COUNTY_CODE,
            t.aliases,
            _union(by_township[t.code]),
        )
        for t in TOWNSHIPS
    ]
    county = _feature(COUNTY_CODE, COUNTY_NAME, "county", None, COUNTY_ALIASES, None)
    return {"type": "FeatureCollection", "features": [county, *townships, *villages, *grids]}


def synthetic_county(grids: int, *, seed: int = 0) -> dict[str, Any]:
    """A county of ``grids`` grids; the same ``seed`` always gives the same county."""
    if grids < 1:
        raise ValueError("a county needs at least one grid")
    cols = math.ceil(math.sqrt(grids))
    rows = math.ceil(grids / cols)
    rng = np.random.default_rng(seed)
    jitter = rng.uniform(-SYNTHETIC_JITTER, SYNTHETIC_JITTER, size=(2, rows + 1, cols + 1))
    west = 123.4 - cols * SYNTHETIC_STEP / 2
    south = 42.5 - rows * SYNTHETIC_STEP / 2
    col_index, row_index = np.meshgrid(np.arange(cols + 1), np.arange(rows + 1))
    xs = np.round(west + (col_index + jitter[0]) * SYNTHETIC_STEP, 7).tolist()
    ys = np.round(south + (row_index + jitter[1]) * SYNTHETIC_STEP, 7).tolist()

    features = [_feature(COUNTY_CODE, COUNTY_NAME, "county", None, COUNTY_ALIASES, None)]
    villages = math.ceil(grids / GRIDS_PER_VILLAGE)
    for t in range(math.ceil(villages / VILLAGES_PER_TOWNSHIP)):
        code = f"{COUNTY_CODE}{100 + t:03d}"
        features.append(_feature(code, f"第{t + 1}镇", "township", COUNTY_CODE, (), None))
    for v in range(villages):
        t, k = divmod(v, VILLAGES_PER_TOWNSHIP)
        parent = f"{COUNTY_CODE}{100 + t:03d}"
        features.append(
            _feature(f"{parent}{k + 1:03d}", f"第{v + 1}村", "village", parent, (), None)
        )
    for i in range(grids):
        r, c = divmod(i, cols)
        if r % 2:  # serpentine, so that consecutive grids are neighbours
            c = cols - 1 - c
        corners = [(xs[r][c], ys[r][c]), (xs[r][c + 1], ys[r][c + 1])]
        corners += [(xs[r + 1][c + 1], ys[r + 1][c + 1]), (xs[r + 1][c], ys[r + 1][c])]
        v, n = divmod(i, GRIDS_PER_VILLAGE)
        t, k = divmod(v, VILLAGES_PER_TOWNSHIP)
        parent = f"{COUNTY_CODE}{100 + t:03d}{k + 1:03d}"
        features.append(
            _feature(
                f"{parent}{n + 1:03d}",
                f"第{i + 1}网格",
                "grid",
                parent,
                (f"{i + 1}号小区",),
                _ring(corners),
            )
        )
    return {"type": "FeatureCollection", "features": features}
