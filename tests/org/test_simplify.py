from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import shape

from hotline.org import rings, simplify

LON, LAT = 123.4, 42.5
METRE = 1 / simplify.METRES_PER_DEGREE  # in degrees of latitude


def circle(n: int, *, jag: float = 0.0, radius: float = 0.005, seed: int = 0) -> list[list[float]]:
    """A closed ring of ``n`` positions round (LON, LAT), each moved out or in by up to
    ``jag`` of the radius."""
    rng = np.random.default_rng(seed)
    turn = np.linspace(0, 2 * math.pi, n - 1, endpoint=False)
    r = radius * (1 + jag * rng.uniform(-1, 1, n - 1))
    ring = np.c_[LON + r * np.cos(turn), LAT + r * np.sin(turn)].round(7).tolist()
    return [*ring, ring[0]]


def polygon(*ring_list: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(ring_list)}


def assert_drawable(geometry: dict[str, Any]) -> None:
    """A valid GeoJSON polygon whose rings are closed and hold at least 4 positions."""
    assert rings.problem(geometry) is None
    assert shape(geometry).is_valid


class TestSmallBoundaries:
    def test_none_stays_none(self) -> None:
        assert simplify.for_map(None) is None

    def test_a_boundary_of_few_positions_is_served_as_stored(self) -> None:
        square = polygon([[120, 40], [120.01, 40], [120.01, 40.01], [120, 40.01], [120, 40]])
        assert simplify.for_map(square) is square

    def test_the_bound_of_kept_boundaries_is_inclusive(self) -> None:
        ring = circle(simplify.KEEP)
        assert simplify.for_map(polygon(ring)) == polygon(ring)


class TestLargeBoundaries:
    def test_a_smooth_outline_at_the_position_bound_shrinks_within_the_tolerance(self) -> None:
        stored = polygon(circle(rings.MAX_POSITIONS))
        drawn = simplify.for_map(stored)
        assert drawn is not None
        assert_drawable(drawn)
        assert rings.positions(drawn) < 100
        distance = shapely.hausdorff_distance(shape(stored), shape(drawn))
        assert distance <= simplify.TOLERANCE_M * METRE
        assert len(json.dumps(drawn)) < len(json.dumps(stored)) / 50

    def test_an_outline_jagged_at_every_scale_is_capped(self) -> None:
        stored = polygon(circle(rings.MAX_POSITIONS, jag=0.2))
        drawn = simplify.for_map(stored)
        assert drawn is not None
        assert_drawable(drawn)
        assert rings.positions(drawn) <= simplify.MAX_POSITIONS
        assert len(json.dumps(drawn)) < 20_000
        assert shape(drawn).area == pytest.approx(shape(stored).area, rel=0.1)

    def test_a_bump_below_the_tolerance_is_flattened(self) -> None:
        x0, y0, x1, y1 = LON, LAT, LON + 0.01, LAT + 0.01
        top = [
            [x1 - 0.01 * k / 99, y1 + 2 * METRE * math.sin(math.pi * k / 99)] for k in range(100)
        ]
        drawn = simplify.for_map(polygon([[x0, y0], [x1, y0], *top, [x0, y0]]))
        assert drawn == polygon([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])

    def test_a_multipolygon_with_a_hole_stays_one(self) -> None:
        shell = circle(2000)
        hole = circle(2000, radius=0.002)[::-1]
        far = [[x + 0.02, y] for x, y in circle(2000)]
        stored = {"type": "MultiPolygon", "coordinates": [[shell, hole], [far]]}
        drawn = simplify.for_map(stored)
        assert drawn is not None and drawn["type"] == "MultiPolygon"
        assert [len(p) for p in drawn["coordinates"]] == [2, 1]
        assert_drawable(drawn)

    def test_a_strip_narrower_than_the_tolerance_does_not_vanish(self) -> None:
        # A grid 2 m wide along a road: plain Douglas–Peucker collapses it to nothing.
        lower = [[LON + 0.01 * k / 100, LAT] for k in range(101)]
        upper = [[LON + 0.01 * k / 100, LAT + 2 * METRE] for k in range(100, -1, -1)]
        stored = polygon([*lower, *upper, lower[0]])
        tolerance = simplify.TOLERANCE_M * METRE
        assert shapely.simplify(shape(stored), tolerance, preserve_topology=False).is_empty
        drawn = simplify.for_map(stored)
        assert drawn is not None
        assert_drawable(drawn)
        assert shape(drawn).area > 0

    def test_a_page_is_simplified_boundary_by_boundary(self) -> None:
        small = polygon([[120, 40], [120.01, 40], [120.01, 40.01], [120, 40.01], [120, 40]])
        big = polygon(circle(rings.MAX_POSITIONS))
        assert simplify.for_map_all([small, None, big]) == [
            small,
            None,
            simplify.for_map(big),
        ]
