"""Point-in-polygon lookup of the grid (网格) that covers a location.

Rules:

* A grid covers a point when the point lies inside its polygon or on its boundary.
* When several grids cover a point (a shared edge or vertex, or overlapping data), the
  smallest grid code (plain string order) wins, so the answer never depends on input order.
* A point covered by no grid, or a non-finite coordinate, locates to ``None``.
* Coordinates are (lon, lat) in whatever system the polygons use (WGS-84 for this service).
* Geometries must be Polygon or MultiPolygon and codes unique.  Invalid polygons (bow-ties,
  self-intersections) are repaired with ``make_valid(method="structure")``; empty or collapsed
  ones cover nothing but still count in ``len()``.

The index is immutable: rebuild it when any boundary changes.

How it is fast: the extent is cut into a uniform lattice of cells a few times smaller than a
typical grid.  At build time every cell records either the single grid whose interior contains
the whole cell (most cells: answered with no geometry test at all) or the short, code-sorted
list of grids touching it, which are tested with one vectorised ``intersects_xy`` call.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

_POLYGON, _MULTIPOLYGON = 3, 6  # shapely.get_type_id values
_CELLS_PER_GRID_SIDE = 4
_MAX_CELLS_PER_GRID = 64
_CHUNK = 100_000  # cells classified per batch, bounding the memory used by cell boxes

Cell = str | tuple[tuple[str, ...], Any] | None


class GridIndex:
    """Immutable index answering which grid covers a (lon, lat) point."""

    def __init__(self, grids: Iterable[tuple[str, BaseGeometry]]) -> None:
        items = sorted(grids, key=lambda item: item[0])
        codes = [code for code, _ in items]
        if len(set(codes)) != len(codes):
            raise ValueError("duplicate grid code")
        geoms = np.empty(len(items), dtype=object)
        geoms[:] = [geom for _, geom in items]
        if not np.isin(shapely.get_type_id(geoms), (_POLYGON, _MULTIPOLYGON)).all():
            raise TypeError("grid geometries must be Polygon or MultiPolygon")
        invalid = ~shapely.is_valid(geoms)
        # "structure" keeps the result polygonal; linework repair could yield bare lines.
        geoms[invalid] = shapely.make_valid(
            geoms[invalid], method="structure", keep_collapsed=False
        )
        keep = ~shapely.is_empty(geoms)
        self._size = len(items)
        self._codes = [code for code, k in zip(codes, keep, strict=True) if k]
        self._geoms = geoms[keep]
        shapely.prepare(self._geoms)
        self._x0 = self._y0 = math.inf
        self._x1 = self._y1 = -math.inf
        self._nx = 0
        self._fx = self._fy = 0.0
        self._cells: list[Cell] = []
        if len(self._codes):
            self._build(shapely.bounds(self._geoms))

    def __len__(self) -> int:
        return self._size

    def locate(self, lon: float, lat: float) -> str | None:
        """Return the code of the grid covering (lon, lat), the smallest on shared edges."""
        # Written for speed: this is called once per incoming ticket and in bulk re-routing.
        if not (self._x0 <= lon <= self._x1 and self._y0 <= lat <= self._y1):
            return None
        cell = self._cells[
            int((lat - self._y0) * self._fy) * self._nx + int((lon - self._x0) * self._fx)
        ]
        if not isinstance(cell, tuple):
            return cell  # empty, or wholly inside one grid
        codes, geoms = cell
        hits: list[bool] = shapely.intersects_xy(geoms, lon, lat).tolist()
        if True in hits:
            return codes[hits.index(True)]  # candidates are code-sorted: first hit is smallest
        return None

    def _build(self, bounds: np.ndarray) -> None:
        x0, y0 = bounds[:, 0].min(), bounds[:, 1].min()
        x1, y1 = bounds[:, 2].max(), bounds[:, 3].max()
        widths, heights = bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]
        span = max(x1 - x0, y1 - y0, 1e-9)
        cw = float(np.median(widths)) / _CELLS_PER_GRID_SIDE or span / 64
        ch = float(np.median(heights)) / _CELLS_PER_GRID_SIDE or span / 64
        # A few huge grids or a far-flung outlier must not blow up the cell count.
        scale = math.sqrt(
            (x1 - x0 + cw) * (y1 - y0 + ch) / (cw * ch) / (_MAX_CELLS_PER_GRID * len(bounds) + 4096)
        )
        if scale > 1:
            cw, ch = cw * scale, ch * scale
        # Two spare columns/rows absorb float rounding of points lying exactly on the max edge.
        nx, ny = int((x1 - x0) / cw) + 2, int((y1 - y0) / ch) + 2
        self._x0, self._y0, self._x1, self._y1 = float(x0), float(y0), float(x1), float(y1)
        self._nx, self._fx, self._fy = nx, 1.0 / cw, 1.0 / ch
        # Cell boxes are padded so a point rounded into a neighbouring cell is still handled.
        eps = min(cw, ch) * 1e-6
        tree = shapely.STRtree(self._geoms)
        found_cells, found_grids, inside = [], [], []
        for start in range(0, nx * ny, _CHUNK):
            cell = np.arange(start, min(start + _CHUNK, nx * ny))
            x, y = cell % nx, cell // nx
            boxes = shapely.box(
                x0 + x * cw - eps,
                y0 + y * ch - eps,
                x0 + (x + 1) * cw + eps,
                y0 + (y + 1) * ch + eps,
            )
            box_idx, grid_idx = tree.query(boxes, predicate="intersects")
            # Only a cell reached by exactly one grid can be answered without a geometry test.
            alone = np.bincount(box_idx, minlength=len(boxes))[box_idx] == 1
            covers = np.zeros(len(box_idx), dtype=bool)
            covers[alone] = shapely.contains_properly(
                self._geoms[grid_idx[alone]], boxes[box_idx[alone]]
            )
            found_cells.append(cell[box_idx])
            found_grids.append(grid_idx)
            inside.append(covers)
        cells, grids, covers = (np.concatenate(p) for p in (found_cells, found_grids, inside))
        order = np.lexsort((grids, cells))  # grids are in code order, so candidates end up sorted
        self._fill(nx * ny, grids[order], cells[order], covers[order])

    def _fill(self, ncells: int, grids: np.ndarray, cells: np.ndarray, covers: np.ndarray) -> None:
        table: list[Cell] = [None] * ncells
        starts = np.flatnonzero(np.r_[True, cells[1:] != cells[:-1]])
        ends = np.r_[starts[1:], len(cells)]
        codes = [self._codes[i] for i in grids.tolist()]
        geoms = self._geoms[grids]
        covers_list = covers.tolist()
        for cell, start, end in zip(
            cells[starts].tolist(), starts.tolist(), ends.tolist(), strict=True
        ):
            if end - start == 1 and covers_list[start]:
                table[cell] = codes[start]  # no other grid reaches into this cell
            else:
                table[cell] = (tuple(codes[start:end]), geoms[start:end])
        self._cells = table
