from __future__ import annotations

import json
import math
from typing import Any

import pytest

from hotline.org import rings

LON, LAT = 123.4, 42.5
SQUARE = [[LON, LAT], [LON + 0.01, LAT], [LON + 0.01, LAT + 0.01], [LON, LAT + 0.01], [LON, LAT]]


def polygon(*ring_list: list[Any]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(ring_list)}


def with_position(k: int, position: object) -> list[Any]:
    ring: list[Any] = [list(p) for p in SQUARE]
    ring[k] = position
    return ring


def circle_ring(n: int) -> list[list[float]]:
    """A closed ring of ``n`` positions (the first repeated last) round a 500 m circle."""
    turn = [2 * math.pi * i / (n - 1) for i in range(n - 1)]
    ring = [[LON + 0.006 * math.cos(t), LAT + 0.0045 * math.sin(t)] for t in turn]
    return [*ring, ring[0]]


class TestSoundGeometry:
    def test_a_closed_square_has_no_problem(self) -> None:
        assert rings.problem(polygon(SQUARE)) is None

    def test_an_altitude_is_allowed(self) -> None:
        ring = [[*p, 50.0] for p in SQUARE]
        assert rings.problem(polygon(ring)) is None

    def test_integer_coordinates_are_numbers(self) -> None:
        ring = [[120, 40], [121, 40], [121, 41], [120, 41], [120, 40]]
        assert rings.problem(polygon(ring)) is None

    def test_a_multipolygon_with_a_hole_is_fine(self) -> None:
        hole = [[LON + 0.002, LAT + 0.002], [LON + 0.002, LAT + 0.004], [LON + 0.004, LAT + 0.004]]
        hole.append(hole[0])
        geometry = {"type": "MultiPolygon", "coordinates": [[SQUARE, hole], [SQUARE]]}
        assert rings.problem(geometry) is None

    def test_positions_are_counted_over_every_ring(self) -> None:
        geometry = {"type": "MultiPolygon", "coordinates": [[SQUARE, SQUARE], [SQUARE]]}
        assert rings.positions(geometry) == 15
        assert rings.positions({"type": "Polygon", "coordinates": "nonsense"}) == 0
        assert rings.positions(None) == 0


class TestRings:
    def test_an_unclosed_ring_is_refused(self) -> None:
        assert rings.problem(polygon([*SQUARE[:-1], [LON, LAT + 0.02]])) == (
            "malformed geometry: ring 0 is not closed: it starts at (123.4, 42.5) "
            "and ends at (123.4, 42.52)"
        )

    def test_a_ring_left_open_by_one_position_is_refused(self) -> None:
        problem = rings.problem(polygon(SQUARE[:-1]))
        assert problem is not None and "ring 0 is not closed" in problem

    def test_a_ring_of_three_positions_is_refused(self) -> None:
        triangle = [SQUARE[0], SQUARE[1], SQUARE[0]]
        assert rings.problem(polygon(triangle)) == (
            "malformed geometry: ring 0 has 3 positions; "
            "a ring needs at least 4, the last the same as the first"
        )

    def test_a_hole_is_named_by_its_ring(self) -> None:
        problem = rings.problem(polygon(SQUARE, SQUARE[:-1]))
        assert problem is not None and "ring 1 is not closed" in problem

    def test_a_multipolygon_part_is_named(self) -> None:
        geometry = {"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE[:3]]]}
        problem = rings.problem(geometry)
        assert problem is not None and "polygon 1 ring 0 has 3 positions" in problem

    @pytest.mark.parametrize(
        "coordinates",
        ["nonsense", [SQUARE, "ring"], [[SQUARE[0], "position", *SQUARE[1:]]]],
    )
    def test_malformed_structure_is_refused(self, coordinates: object) -> None:
        problem = rings.problem({"type": "Polygon", "coordinates": coordinates})
        assert problem is not None and problem.startswith("malformed geometry")

    def test_a_multipolygon_part_that_is_no_list_is_refused(self) -> None:
        problem = rings.problem({"type": "MultiPolygon", "coordinates": [[SQUARE], 7]})
        assert problem == "malformed geometry: polygon 1 is not a list of rings"


class TestNumbers:
    @pytest.mark.parametrize(
        ("literal", "word"),
        [
            ("Infinity", "Infinity"),
            ("-Infinity", "-Infinity"),
            ("NaN", "NaN"),
            ("1e400", "Infinity"),
        ],
    )
    def test_what_pythons_json_reads_as_non_finite_is_refused(
        self, literal: str, word: str
    ) -> None:
        ring = f"[[123.4, 42.5], [{literal}, 42.5], [123.41, 42.51], [123.4, 42.51], [123.4, 42.5]]"
        text = f'{{"type": "Polygon", "coordinates": [{ring}]}}'
        assert rings.problem(json.loads(text)) == (
            f"non-finite coordinate {word} at position 1 of ring 0"
        )

    def test_a_non_finite_altitude_is_refused(self) -> None:
        ring = [[*p, 0.0] for p in SQUARE]
        ring[2][2] = float("inf")
        assert (
            rings.problem(polygon(ring)) == "non-finite coordinate Infinity at position 2 of ring 0"
        )

    def test_an_integer_beyond_any_float_is_refused(self) -> None:
        problem = rings.problem(polygon(with_position(1, [10**400, LAT])))
        assert problem is not None and problem.startswith("non-finite coordinate")

    @pytest.mark.parametrize(
        "position", [[True, LAT], [LON, None], [LON, "42.5"], [LON], [1, 2, 3, 4]]
    )
    def test_a_position_that_is_not_two_or_three_numbers_is_refused(self, position: object) -> None:
        assert rings.problem(polygon(with_position(1, position))) == (
            "malformed geometry: position 1 of ring 0 is not 2 or 3 numbers"
        )

    @pytest.mark.parametrize(
        ("position", "text"),
        [
            ([180.5, LAT], "(180.5, 42.5)"),
            ([-180.01, LAT], "(-180.01, 42.5)"),
            ([LON, 90.5], "(123.4, 90.5)"),
            ([LON, -91], "(123.4, -91.0)"),
        ],
    )
    def test_a_coordinate_out_of_range_is_refused(self, position: list[float], text: str) -> None:
        assert rings.problem(polygon(with_position(1, position))) == (
            f"coordinate out of range at {text}"
        )

    def test_the_edges_of_the_range_are_in_it(self) -> None:
        ring = [[-180, -90], [180, -90], [180, 90], [-180, 90], [-180, -90]]
        assert rings.problem(polygon(ring)) is None


class TestPositionBound:
    def test_a_geometry_at_the_bound_is_accepted(self) -> None:
        ring = circle_ring(rings.MAX_POSITIONS)
        assert rings.positions(polygon(ring)) == rings.MAX_POSITIONS
        assert rings.problem(polygon(ring)) is None

    def test_one_position_more_is_refused_before_the_positions_are_read(self) -> None:
        ring: list[Any] = circle_ring(rings.MAX_POSITIONS + 1)
        ring[1] = "not even a position"  # the count alone refuses it
        assert rings.problem(polygon(ring)) == (
            "geometry has 10,001 positions; at most 10,000 per geometry"
        )

    def test_the_bound_counts_every_part_of_a_multipolygon(self) -> None:
        half = circle_ring(rings.MAX_POSITIONS // 2 + 1)
        geometry = {"type": "MultiPolygon", "coordinates": [[half], [half]]}
        problem = rings.problem(geometry)
        assert problem is not None and problem.startswith("geometry has 10,002 positions")
