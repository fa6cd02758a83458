"""GridIndex.locate against tilings whose answers are known by construction.

Lattice coordinates are dyadic (multiples of 1/4096 around lon 123, lat 42), so edge midpoints
and shared vertices are exactly representable and lie exactly on the boundaries they claim to.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import MultiPolygon, Point, Polygon, box

from hotline.routing.geo import GridIndex

LON0, LAT0 = 123.0, 42.0
UNIT = 1 / 256  # lattice step, ~300-400 m
TICK = 1 / 4096  # jitter resolution; ±3 ticks of a 16-tick step keeps every quad convex


@dataclass
class Tiling:
    cols: int
    rows: int
    vertices: dict[tuple[int, int], tuple[float, float]]
    codes: dict[tuple[int, int], str]  # (col, row) -> code; missing cells are holes

    def ring(self, col: int, row: int) -> list[tuple[float, float]]:
        corners = [(col, row), (col + 1, row), (col + 1, row + 1), (col, row + 1)]
        return [self.vertices[c] for c in corners]

    def grids(self) -> list[tuple[str, Polygon]]:
        return [(code, Polygon(self.ring(*cell))) for cell, code in self.codes.items()]

    def covering_codes(self, lon: float, lat: float) -> list[str]:
        point = Point(lon, lat)
        return [code for code, poly in self.grids() if poly.covers(point)]


@st.composite
def tilings(draw: st.DrawFn, holes: bool = False) -> Tiling:
    cols = draw(st.integers(1, 6))
    rows = draw(st.integers(1, 6))
    jitter = st.integers(-3, 3)
    vertices = {
        (i, j): (LON0 + i * UNIT + draw(jitter) * TICK, LAT0 + j * UNIT + draw(jitter) * TICK)
        for i in range(cols + 1)
        for j in range(rows + 1)
    }
    cells = [(i, j) for i in range(cols) for j in range(rows)]
    # Codes in shuffled order so "smallest code" is unrelated to position or input order.
    labels = draw(st.permutations([f"G{n:02d}" for n in range(len(cells))]))
    codes = dict(zip(cells, labels, strict=True))
    if holes:
        for cell in draw(st.lists(st.sampled_from(cells), max_size=len(cells) - 1)):
            codes.pop(cell, None)
    return Tiling(cols, rows, vertices, codes)


def interior_point(ring: list[tuple[float, float]], edge: int, t: float, s: float) -> Point:
    """A point strictly inside a convex ring: between its centroid and a point on one edge."""
    (ax, ay), (bx, by) = ring[edge], ring[(edge + 1) % len(ring)]
    cx, cy = sum(x for x, _ in ring) / len(ring), sum(y for _, y in ring) / len(ring)
    ex, ey = ax + t * (bx - ax), ay + t * (by - ay)
    return Point(cx + s * (ex - cx), cy + s * (ey - cy))


inside_params = {
    "edge": st.integers(0, 3),
    "t": st.floats(0.0, 1.0),
    "s": st.floats(0.0, 0.95),
}


class TestLocate:
    @settings(deadline=None)
    @given(tiling=tilings(), data=st.data(), **inside_params)
    def test_point_strictly_inside_grid_locates_to_it(
        self, tiling: Tiling, data: st.DataObject, edge: int, t: float, s: float
    ) -> None:
        cell = data.draw(st.sampled_from(sorted(tiling.codes)))
        point = interior_point(tiling.ring(*cell), edge, t, s)
        assert Polygon(tiling.ring(*cell)).contains_properly(point)

        assert GridIndex(tiling.grids()).locate(point.x, point.y) == tiling.codes[cell]

    @settings(deadline=None)
    @given(tiling=tilings(holes=True), data=st.data(), **inside_params)
    def test_point_in_a_hole_between_grids_locates_to_none(
        self, tiling: Tiling, data: st.DataObject, edge: int, t: float, s: float
    ) -> None:
        all_cells = [(i, j) for i in range(tiling.cols) for j in range(tiling.rows)]
        missing = [cell for cell in all_cells if cell not in tiling.codes]
        assume(missing)
        point = interior_point(tiling.ring(*data.draw(st.sampled_from(missing))), edge, t, s)

        assert GridIndex(tiling.grids()).locate(point.x, point.y) is None

    @settings(deadline=None)
    @given(
        tiling=tilings(),
        side=st.sampled_from(["west", "east", "south", "north"]),
        along=st.floats(-1.0, 2.0),
        away=st.floats(1e-6, 1.0),
    )
    def test_point_beyond_the_tiling_locates_to_none(
        self, tiling: Tiling, side: str, along: float, away: float
    ) -> None:
        minx, miny, maxx, maxy = MultiPolygon([p for _, p in tiling.grids()]).bounds
        lon = minx + along * (maxx - minx)
        lat = miny + along * (maxy - miny)
        lon, lat = {
            "west": (minx - away, lat),
            "east": (maxx + away, lat),
            "south": (lon, miny - away),
            "north": (lon, maxy + away),
        }[side]

        assert GridIndex(tiling.grids()).locate(lon, lat) is None

    @settings(deadline=None)
    @given(tiling=tilings(), data=st.data())
    def test_point_on_shared_edge_locates_to_smaller_code(
        self, tiling: Tiling, data: st.DataObject
    ) -> None:
        cols, rows = tiling.cols, tiling.rows
        # Interior edges as (one end, other end, the two grids either side).
        edges = [
            ((i, j), (i, j + 1), [(i - 1, j), (i, j)]) for i in range(1, cols) for j in range(rows)
        ]
        edges += [
            ((i, j), (i + 1, j), [(i, j - 1), (i, j)]) for i in range(cols) for j in range(1, rows)
        ]
        assume(edges)
        a, b, neighbours = data.draw(st.sampled_from(edges))
        (ax, ay), (bx, by) = tiling.vertices[a], tiling.vertices[b]
        lon, lat = (ax + bx) / 2, (ay + by) / 2  # exact: dyadic endpoints
        sides = sorted(tiling.codes[cell] for cell in neighbours)
        assert sorted(tiling.covering_codes(lon, lat)) == sides

        assert GridIndex(tiling.grids()).locate(lon, lat) == sides[0]

    @settings(deadline=None)
    @given(tiling=tilings(), data=st.data())
    def test_shared_vertex_locates_to_smallest_code_of_grids_meeting_there(
        self, tiling: Tiling, data: st.DataObject
    ) -> None:
        vertex = data.draw(st.sampled_from(sorted(tiling.vertices)))
        i, j = vertex
        meeting = [c for c in [(i - 1, j - 1), (i, j - 1), (i - 1, j), (i, j)] if c in tiling.codes]

        located = GridIndex(tiling.grids()).locate(*tiling.vertices[vertex])

        assert located == min(tiling.codes[c] for c in meeting)

    @settings(deadline=None, max_examples=50)
    @given(tiling=tilings(holes=True), seed=st.integers(0, 2**32 - 1))
    def test_any_point_locates_like_brute_force_smallest_covering_code(
        self, tiling: Tiling, seed: int
    ) -> None:
        index = GridIndex(tiling.grids())
        rnd = random.Random(seed)
        for _ in range(200):
            # Half the points snap to the jitter ticks, where edges and vertices lie.
            lon = LON0 + rnd.uniform(-0.5, tiling.cols + 0.5) * UNIT
            lat = LAT0 + rnd.uniform(-0.5, tiling.rows + 0.5) * UNIT
            if rnd.random() < 0.5:
                lon, lat = round(lon / TICK) * TICK, round(lat / TICK) * TICK

            assert index.locate(lon, lat) == min(tiling.covering_codes(lon, lat), default=None)

    @settings(deadline=None)
    @given(tiling=tilings(), seed=st.integers(0, 2**32 - 1))
    def test_answers_do_not_depend_on_input_order(self, tiling: Tiling, seed: int) -> None:
        grids = tiling.grids()
        shuffled = grids[:]
        random.Random(seed).shuffle(shuffled)
        first, second = GridIndex(grids), GridIndex(shuffled)

        for lon, lat in tiling.vertices.values():
            assert first.locate(lon, lat) == second.locate(lon, lat)


class TestPolygonShapes:
    def test_multipolygon_grid_is_found_in_each_part_and_neighbour_in_between(self) -> None:
        split = MultiPolygon([box(0, 0, 1, 1), box(2, 0, 3, 1)])
        index = GridIndex([("B-split", split), ("A-middle", box(1, 0, 2, 1))])

        assert index.locate(0.5, 0.5) == "B-split"
        assert index.locate(2.5, 0.5) == "B-split"
        assert index.locate(1.5, 0.5) == "A-middle"
        assert index.locate(1.0, 0.5) == "A-middle"  # shared edge: smaller code
        assert index.locate(3.5, 0.5) is None

    def test_enclave_inside_a_hole_belongs_to_the_enclave_grid(self) -> None:
        ring = Polygon(box(0, 0, 10, 10).exterior.coords, [box(4, 4, 6, 6).exterior.coords])
        index = GridIndex([("Z-ring", ring), ("Y-enclave", box(4, 4, 6, 6))])

        assert index.locate(5, 5) == "Y-enclave"
        assert index.locate(1, 1) == "Z-ring"
        assert index.locate(4, 5) == "Y-enclave"

    def test_point_in_hole_without_enclave_is_outside(self) -> None:
        ring = Polygon(box(0, 0, 10, 10).exterior.coords, [box(4, 4, 6, 6).exterior.coords])

        assert GridIndex([("ring", ring)]).locate(5, 5) is None

    def test_self_intersecting_bow_tie_is_repaired_and_both_lobes_locate(self) -> None:
        bow_tie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
        assert not bow_tie.is_valid
        index = GridIndex([("bow", bow_tie)])

        assert index.locate(0.2, 1.0) == "bow"
        assert index.locate(1.8, 1.0) == "bow"
        assert index.locate(1.0, 1.8) is None

    def test_one_huge_grid_among_many_small_ones_stays_exact(self) -> None:
        rnd = random.Random(3)
        small = [(f"S{i:03d}", box(i, 0, i + 0.9, 0.9)) for i in range(300)]
        grids = [*small, ("A-huge", box(-1000, -1000, 1000, -1))]
        index = GridIndex(grids)
        tree = shapely.STRtree([geom for _, geom in grids])
        for _ in range(2000):
            lon, lat = rnd.uniform(-1100, 1100), rnd.uniform(-1100, 2)
            # Half the points land among the small grids, where the huge one forces coarse cells.
            if rnd.random() < 0.5:
                lon, lat = rnd.uniform(-1, 301), rnd.uniform(-0.5, 1.5)
            hits = tree.query(Point(lon, lat), predicate="intersects")

            assert index.locate(lon, lat) == min((grids[h][0] for h in hits), default=None)

    def test_overlapping_grids_resolve_to_smallest_code(self) -> None:
        index = GridIndex([("b", box(0, 0, 2, 2)), ("a", box(1, 1, 3, 3))])

        assert index.locate(1.5, 1.5) == "a"
        assert index.locate(0.5, 0.5) == "b"


class TestRealisticScale:
    def test_thousands_of_irregular_grids_match_brute_force(self) -> None:
        rnd = random.Random(11)
        size, step = 60, 0.004
        vertex = {
            (i, j): (
                123.4 + (i + rnd.uniform(-0.2, 0.2)) * step,
                42.5 + (j + rnd.uniform(-0.2, 0.2)) * step,
            )
            for i in range(size + 1)
            for j in range(size + 1)
        }
        grids = [
            (
                f"{rnd.randrange(10**6):06d}-{i}-{j}",
                Polygon([vertex[i, j], vertex[i + 1, j], vertex[i + 1, j + 1], vertex[i, j + 1]]),
            )
            for i in range(size)
            for j in range(size)
        ]
        index = GridIndex(grids)
        tree = shapely.STRtree([geom for _, geom in grids])
        assert len(index) == size * size
        for _ in range(5000):
            lon = 123.4 + rnd.uniform(-1, size + 1) * step
            lat = 42.5 + rnd.uniform(-1, size + 1) * step
            hits = tree.query(Point(lon, lat), predicate="intersects")

            assert index.locate(lon, lat) == min((grids[h][0] for h in hits), default=None)


class TestEdgeCases:
    def test_empty_index_locates_nothing(self) -> None:
        index = GridIndex([])

        assert len(index) == 0
        assert index.locate(123.4, 42.5) is None

    @pytest.mark.parametrize(
        ("lon", "lat"), [(math.nan, 0.5), (0.5, math.nan), (math.inf, 0.5), (0.5, -math.inf)]
    )
    def test_non_finite_coordinates_locate_to_none(self, lon: float, lat: float) -> None:
        assert GridIndex([("a", box(0, 0, 1, 1))]).locate(lon, lat) is None

    def test_len_counts_every_grid_including_empty_ones(self) -> None:
        index = GridIndex([("a", box(0, 0, 1, 1)), ("b", Polygon())])

        assert len(index) == 2
        assert index.locate(0.5, 0.5) == "a"

    def test_duplicate_code_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="duplicate"):
            GridIndex([("a", box(0, 0, 1, 1)), ("a", box(1, 0, 2, 1))])

    def test_non_polygon_geometry_is_rejected(self) -> None:
        with pytest.raises(TypeError, match="Polygon"):
            GridIndex([("a", Point(0, 0).buffer(1).exterior)])
