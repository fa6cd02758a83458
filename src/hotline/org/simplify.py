"""The boundaries the map draws: simplified copies of the stored ones (Douglas–Peucker).

Routing keeps the stored boundary (routing.state indexes it as imported); only what is served
for drawing is simplified, so a boundary surveyed to the centimetre costs the map no more
than the map can show.

* A boundary of at most ``KEEP`` positions is served as stored: there is nothing to gain.
* A larger one is simplified with a tolerance of ``TOLERANCE_M`` metres, converted at the
  length of a degree of latitude (a degree of longitude is shorter, so no point moves further
  in either direction); by shapely's plain Douglas–Peucker when that gives a valid polygon,
  else by its topology-preserving variant, so what is served is always a valid polygon with
  closed rings.
* Should the result still hold more than ``MAX_POSITIONS`` positions (an outline jagged at
  every scale), the tolerance is doubled until it does not, at most ``ROUNDS`` times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import shapely
from shapely.errors import ShapelyError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from hotline.org import rings

TOLERANCE_M = 3.0
METRES_PER_DEGREE = 111_320.0  # of latitude
KEEP = 64
# At the dashboard's county view a grid is a few dozen pixels wide: 500 positions outline it
# finer than the screen does, in at most about 20 kB of JSON.
MAX_POSITIONS = 500
ROUNDS = 10
_POLYGONAL = ("Polygon", "MultiPolygon")


def for_map(geometry: dict[str, Any] | None) -> dict[str, Any] | None:
    """The geometry to draw for a stored boundary: itself when small, else simplified."""
    if geometry is None or rings.positions(geometry) <= KEEP:
        return geometry
    try:
        stored = shape(geometry)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, ShapelyError):
        return geometry  # stored before boundaries were checked: drawn as it is
    tolerance = TOLERANCE_M / METRES_PER_DEGREE
    simple = _simplified(stored, tolerance)
    for _ in range(ROUNDS):
        if shapely.get_num_coordinates(simple) <= MAX_POSITIONS:
            break
        tolerance *= 2
        simple = _simplified(stored, tolerance)
    if simple.is_empty:
        return geometry
    return _geojson(simple)


def for_map_all(geometries: Sequence[dict[str, Any] | None]) -> list[dict[str, Any] | None]:
    """``for_map`` of each; blocking, so a page of large boundaries is run in a thread."""
    return [for_map(g) for g in geometries]


def _simplified(geom: BaseGeometry, tolerance: float) -> BaseGeometry:
    plain = shapely.simplify(geom, tolerance, preserve_topology=False)
    if plain.geom_type in _POLYGONAL and not plain.is_empty and plain.is_valid:
        return plain
    # The plain algorithm may cross a ring over itself or collapse it; this one may not.
    return shapely.simplify(geom, tolerance, preserve_topology=True)


def _geojson(geom: BaseGeometry) -> dict[str, Any]:
    parts = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
    coordinates = [
        [shapely.get_coordinates(ring).tolist() for ring in (p.exterior, *p.interiors)]
        for p in parts
    ]
    if geom.geom_type == "Polygon":
        return {"type": "Polygon", "coordinates": coordinates[0]}
    return {"type": "MultiPolygon", "coordinates": coordinates}
