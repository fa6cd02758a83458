"""The coordinates of a Polygon or MultiPolygon, checked before any geometry library sees them.

Rules (RFC 7946 §3.1.1 positions, §3.1.6 polygons):

* a position is 2 or 3 numbers (lon, lat, optionally altitude), each finite, with lon within
  -180..180 and lat within -90..90;
* a ring holds at least 4 positions and ends where it starts;
* a geometry holds at most ``MAX_POSITIONS`` positions over all its rings.

Why here and not in shapely: shapely closes an open ring without a word, and carries a non-finite
coordinate into the stored JSON, which PostgreSQL then refuses (a 500) while SQLite keeps it.
JSON has no Infinity or NaN, but Python's parser reads ``Infinity``, ``NaN`` and ``1e400`` as
floats, so they arrive here as numbers. Checked here, both databases see the same refusal.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from typing import Any

# A grid's boundary surveyed every metre around a 2.5 km perimeter has 2,500 positions; the
# demo's have 5. 10,000 leaves room for detailed village and township outlines while bounding
# what one feature costs to validate, index and draw (about 400 kB of JSON at most).
MAX_POSITIONS = 10_000
MIN_RING = 4
_HUGE = sys.float_info.max  # an integer beyond it has no float, finite or not


def positions(geometry: object) -> int:
    """How many positions the geometry's rings hold; parts that are not lists count nothing."""
    return sum(len(ring) for _, ring in _rings(geometry))


def problem(geometry: dict[str, Any]) -> str | None:
    """The first thing wrong with a Polygon's or MultiPolygon's coordinates, or None."""
    total = positions(geometry)
    if total > MAX_POSITIONS:
        return f"geometry has {total:,} positions; at most {MAX_POSITIONS:,} per geometry"
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list):
        return "malformed geometry: coordinates are not a list of rings"
    if geometry.get("type") == "MultiPolygon":
        for p, rings in enumerate(coordinates):
            if not isinstance(rings, list):
                return f"malformed geometry: polygon {p} is not a list of rings"
    for where, ring in _rings(geometry, every=True):
        wrong = _ring_problem(ring, where)
        if wrong is not None:
            return wrong
    return None


def _rings(geometry: object, *, every: bool = False) -> Iterator[tuple[str, Any]]:
    """(``ring 0`` or ``polygon 1 ring 0``, ring) for each ring; lists only, unless ``every``."""
    if not isinstance(geometry, dict):
        return
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list):
        return
    if geometry.get("type") == "MultiPolygon":
        polygons = [(f"polygon {p} ", rings) for p, rings in enumerate(coordinates)]
    else:
        polygons = [("", coordinates)]
    for prefix, rings in polygons:
        if not isinstance(rings, list):
            continue
        for r, ring in enumerate(rings):
            if every or isinstance(ring, list):
                yield f"{prefix}ring {r}", ring


def _ring_problem(ring: object, where: str) -> str | None:
    if not isinstance(ring, list):
        return f"malformed geometry: {where} is not a list of positions"
    for k, position in enumerate(ring):
        wrong = _position_problem(position)
        if wrong is not None:
            return wrong.format(where=f"position {k} of {where}")
    if len(ring) < MIN_RING:
        return (
            f"malformed geometry: {where} has {len(ring)} positions; "
            f"a ring needs at least {MIN_RING}, the last the same as the first"
        )
    if ring[0] != ring[-1]:
        return (
            f"malformed geometry: {where} is not closed: it starts at {_at(ring[0])} "
            f"and ends at {_at(ring[-1])}"
        )
    return None


def _position_problem(position: object) -> str | None:
    """None for a sound position, else a sentence with a ``{where}`` to fill in."""
    # Written for speed: a county file holds hundreds of thousands of positions.
    if type(position) is not list or not 2 <= len(position) <= 3:
        return "malformed geometry: {where} is not 2 or 3 numbers"
    for value in position:
        kind = type(value)  # bool is an int to isinstance, and no coordinate
        if kind is not float and kind is not int:
            return "malformed geometry: {where} is not 2 or 3 numbers"
        if kind is float and not math.isfinite(value):
            word = "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
            return f"non-finite coordinate {word} at {{where}}"
        if kind is int and not -_HUGE <= value <= _HUGE:
            return "non-finite coordinate (an integer beyond any float) at {where}"
    lon, lat = position[0], position[1]
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return f"coordinate out of range at {_at(position)}"
    return None


def _at(position: object) -> str:
    if isinstance(position, list) and len(position) >= 2:
        return f"({_num(position[0])}, {_num(position[1])})"
    return repr(position)


def _num(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(round(float(value), 7))
    return repr(value)
