from __future__ import annotations

import json
import time
from typing import Any

import pytest

from hotline.demo.county import synthetic_county
from hotline.org import rings
from hotline.org.geojson import Problem, UnitFeature, parse_county

LON, LAT = 123.4, 42.5


def square(x: float = 0, y: float = 0, size: float = 0.01) -> dict[str, Any]:
    """A square polygon whose south-west corner is (LON + x, LAT + y)."""
    x0, y0 = LON + x, LAT + y
    ring = [[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(geometry: object = None, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def grid(code: str, geometry: dict[str, Any] | None = None, **props: Any) -> dict[str, Any]:
    props.setdefault("name", f"{code}网格")
    return feature(square() if geometry is None else geometry, code=code, **props)


def collection(*features: object) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def problems_of(doc: object) -> list[Problem]:
    return parse_county(doc)[1]


def texts(problems: list[Problem]) -> list[str]:
    return [p.problem for p in problems]


class TestValidFile:
    def test_valid_file_parses_with_no_problems(self) -> None:
        doc = collection(
            feature(code="210124", name="法库县", kind="county"),
            feature(code="210124100", name="法库镇", kind="township", parent_code="210124"),
            grid("A1", square(0, 0), parent_code="210124100", aliases=["幸福小区", "新华路"]),
            grid("A2", square(0.01, 0), parent_code="210124100"),
        )
        features, problems = parse_county(doc)
        assert problems == []
        assert [f.code for f in features] == ["210124", "210124100", "A1", "A2"]
        a1 = features[2]
        assert a1 == UnitFeature(
            "A1", "A1网格", "grid", "210124100", ("幸福小区", "新华路"), square(0, 0), a1.shape
        )
        assert a1.shape is not None and a1.shape.area == pytest.approx(1e-4)

    def test_kind_defaults_to_grid(self) -> None:
        features, _ = parse_county(collection(grid("G1")))
        assert features[0].kind == "grid"
        assert features[0].parent_code is None
        assert features[0].aliases == ()

    def test_alias_string_is_split_on_dunhao_and_comma(self) -> None:
        features, problems = parse_county(
            collection(grid("G1", aliases="幸福小区、新华路, 北关 ,"))
        )
        assert problems == []
        assert features[0].aliases == ("幸福小区", "新华路", "北关")

    def test_non_grid_without_geometry_is_fine(self) -> None:
        features, problems = parse_county(
            collection(feature(code="V1", name="东湖村", kind="village"))
        )
        assert problems == []
        assert features[0].geometry is None and features[0].shape is None

    def test_multipolygon_grid_is_accepted(self) -> None:
        parts = [square(0, 0)["coordinates"], square(0.05, 0)["coordinates"]]
        problems = problems_of(
            collection(grid("G1", {"type": "MultiPolygon", "coordinates": parts}))
        )
        assert problems == []

    def test_progress_is_called_with_processed_counts(self) -> None:
        calls: list[int] = []
        doc = collection(*(grid(f"G{i}", square(i * 0.01, 0)) for i in range(1200)))
        parse_county(doc, progress=calls.append)
        assert calls == [500, 1000, 1200]


class TestTopLevel:
    @pytest.mark.parametrize(
        "doc",
        [
            None,
            "FeatureCollection",
            [grid("G1")],
            {"type": "Feature", "properties": {}, "geometry": None},
            {"type": "FeatureCollection"},
            {"type": "FeatureCollection", "features": {"G1": grid("G1")}},
        ],
    )
    def test_non_feature_collection_is_one_problem(self, doc: object) -> None:
        features, problems = parse_county(doc)
        assert features == []
        assert len(problems) == 1 and problems[0].index == -1 and problems[0].code is None

    def test_empty_collection_has_no_problems(self) -> None:
        assert parse_county(collection()) == ([], [])


class TestProperties:
    def test_missing_code_is_reported(self) -> None:
        problems = problems_of(collection(feature(square(), name="无码网格")))
        assert [(p.index, p.code, p.problem) for p in problems] == [(0, None, "missing code")]

    @pytest.mark.parametrize("code", ["", "has space", "x" * 33, "网格1", 210124])
    def test_malformed_code_is_reported(self, code: object) -> None:
        problems = problems_of(collection(feature(square(), code=code, name="网格")))
        assert len(problems) == 1 and "code" in problems[0].problem

    def test_code_may_be_any_short_identifier(self) -> None:
        assert problems_of(collection(grid("grid-7_b.2"), grid("x" * 32, square(0.01)))) == []

    def test_duplicate_code_is_reported_on_the_later_feature(self) -> None:
        problems = problems_of(collection(grid("G1"), grid("G2", square(1)), grid("G1", square(2))))
        assert [(p.index, p.code) for p in problems] == [(2, "G1")]
        assert "duplicate code" in problems[0].problem and "feature 0" in problems[0].problem

    def test_missing_name_is_reported_by_code(self) -> None:
        problems = problems_of(collection(feature(square(), code="G1")))
        assert [(p.index, p.code, p.problem) for p in problems] == [(0, "G1", "missing name")]

    @pytest.mark.parametrize("name", ["", "   ", "名" * 101, 42, ["东湖村"]])
    def test_bad_name_is_reported(self, name: object) -> None:
        problems = problems_of(collection(feature(square(), code="G1", name=name)))
        assert len(problems) == 1 and "name" in problems[0].problem

    def test_unknown_kind_is_reported(self) -> None:
        problems = problems_of(collection(grid("G1", kind="district")))
        assert texts(problems) == ["kind 'district' is not one of county, township, village, grid"]

    @pytest.mark.parametrize("parent", [210124, ["210124"]])
    def test_non_string_parent_code_is_reported(self, parent: object) -> None:
        problems = problems_of(collection(grid("G1", parent_code=parent)))
        assert texts(problems) == ["parent_code must be a string or null"]

    @pytest.mark.parametrize("aliases", [["幸福小区", ""], ["幸福小区", 3], {"a": 1}, ["名" * 101]])
    def test_bad_aliases_are_reported(self, aliases: object) -> None:
        problems = problems_of(collection(grid("G1", aliases=aliases)))
        assert len(problems) == 1 and "alias" in problems[0].problem

    def test_item_that_is_not_a_feature_is_reported(self) -> None:
        problems = problems_of(collection(grid("G1"), {"type": "Point"}, "G2"))
        assert [(p.index, p.problem) for p in problems] == [
            (1, "not a GeoJSON Feature"),
            (2, "not a GeoJSON Feature"),
        ]

    def test_every_problem_is_reported_not_just_the_first(self) -> None:
        doc = collection(
            feature(square(0), name="无码"),
            feature(square(1), code="G2"),
            grid("G3", square(2), kind="district"),
            grid("G4", {"type": "Point", "coordinates": [LON, LAT]}),
        )
        problems = problems_of(doc)
        assert [p.index for p in problems] == [0, 1, 2, 3]
        features, _ = parse_county(doc)
        assert features == []


class TestGeometry:
    def test_grid_without_geometry_is_reported(self) -> None:
        doc = collection(feature(None, code="G1", name="网格"))
        assert texts(problems_of(doc)) == ["grid has no geometry"]

    @pytest.mark.parametrize(
        "geometry",
        [
            {"type": "Point", "coordinates": [LON, LAT]},
            {"type": "LineString", "coordinates": [[LON, LAT], [LON + 1, LAT]]},
            {"coordinates": square()["coordinates"]},
            "POLYGON ((0 0, 1 0, 1 1, 0 0))",
        ],
    )
    def test_geometry_that_is_not_a_polygon_is_reported(self, geometry: object) -> None:
        problems = problems_of(collection(feature(geometry, code="G1", name="网格")))
        assert len(problems) == 1 and "is not Polygon or MultiPolygon" in problems[0].problem

    def test_village_with_a_point_geometry_is_reported(self) -> None:
        point = {"type": "Point", "coordinates": [LON, LAT]}
        problems = problems_of(collection(feature(point, code="V1", name="东湖村", kind="village")))
        assert [p.code for p in problems] == ["V1"]

    @pytest.mark.parametrize(
        "coordinates",
        [
            [[[LON, LAT], [LON + 1, LAT]]],
            [[["a", LAT], [LON + 1, LAT], [LON, LAT + 1], [LON, LAT]]],
            "nonsense",
            [[[LON, LAT], [LON + 1], [LON, LAT + 1], [LON, LAT]]],
        ],
    )
    def test_malformed_coordinates_are_reported(self, coordinates: object) -> None:
        doc = collection(grid("G1", {"type": "Polygon", "coordinates": coordinates}))
        problems = problems_of(doc)
        assert [p.code for p in problems] == ["G1"]
        assert problems[0].problem.startswith("malformed geometry")

    def test_bow_tie_polygon_is_reported_by_code(self) -> None:
        ring = [[123.40, 42.50], [123.42, 42.54], [123.42, 42.50], [123.40, 42.54], [123.40, 42.50]]
        bow_tie = {"type": "Polygon", "coordinates": [ring]}
        doc = collection(grid("G1", square(1)), grid("BOWTIE", bow_tie))
        problems = problems_of(doc)
        assert [(p.index, p.code, p.problem) for p in problems] == [
            (1, "BOWTIE", "self-intersection at (123.41, 42.52)")
        ]

    def test_hole_outside_its_shell_is_reported(self) -> None:
        shell = square(0, 0)["coordinates"][0]
        hole = square(0.5, 0.5)["coordinates"][0]
        problems = problems_of(
            collection(grid("G1", {"type": "Polygon", "coordinates": [shell, hole]}))
        )
        assert len(problems) == 1 and problems[0].problem.startswith("hole lies outside shell at")

    def test_coordinate_out_of_range_is_reported(self) -> None:
        ring = [[179.5, 89.5], [180.5, 89.5], [180.5, 89.9], [179.5, 89.9], [179.5, 89.5]]
        problems = problems_of(collection(grid("G1", {"type": "Polygon", "coordinates": [ring]})))
        assert texts(problems) == ["coordinate out of range at (180.5, 89.5)"]

    def test_latitude_out_of_range_is_reported(self) -> None:
        ring = [[10, 89.5], [11, 89.5], [11, 90.5], [10, 90.5], [10, 89.5]]
        problems = problems_of(collection(grid("G1", {"type": "Polygon", "coordinates": [ring]})))
        assert texts(problems) == ["coordinate out of range at (11.0, 90.5)"]

    def test_geometry_is_checked_even_when_properties_have_problems(self) -> None:
        ring = [
            [LON, LAT],
            [LON + 0.01, LAT + 0.01],
            [LON + 0.01, LAT],
            [LON, LAT + 0.01],
            [LON, LAT],
        ]
        doc = collection(feature({"type": "Polygon", "coordinates": [ring]}, code="G1"))
        problems = problems_of(doc)
        assert [p.problem.split(" at ")[0] for p in problems] == [
            "missing name",
            "self-intersection",
        ]

    def test_empty_polygon_is_reported(self) -> None:
        problems = problems_of(collection(grid("G1", {"type": "Polygon", "coordinates": []})))
        assert texts(problems) == ["empty geometry"]


class TestOverlaps:
    def test_two_overlapping_grids_are_reported_once(self) -> None:
        doc = collection(grid("G1", square(0, 0)), grid("G2", square(0.005, 0)))
        problems = problems_of(doc)
        assert [(p.index, p.code) for p in problems] == [(1, "G2")]
        assert problems[0].problem == "overlaps grid G1 (area 5e-05 deg²)"

    def test_touching_grids_are_fine(self) -> None:
        doc = collection(
            grid("G1", square(0, 0)),
            grid("G2", square(0.01, 0)),  # shares an edge
            grid("G3", square(0.01, 0.01)),  # shares an edge with G2, a corner with G1
            grid("G4", square(0.005, 0.01, size=0.005)),  # half an edge, T-junction
        )
        assert problems_of(doc) == []

    def test_grid_inside_another_is_reported(self) -> None:
        doc = collection(grid("BIG", square(0, 0, 0.1)), grid("SMALL", square(0.02, 0.02)))
        assert [(p.code, p.problem[:17]) for p in problems_of(doc)] == [
            ("SMALL", "overlaps grid BIG")
        ]

    def test_identical_grids_are_reported(self) -> None:
        doc = collection(grid("G1"), grid("G2"))
        assert [p.problem[:16] for p in problems_of(doc)] == ["overlaps grid G1"]

    def test_each_overlapping_pair_is_reported_on_the_later_feature(self) -> None:
        doc = collection(
            grid("G1", square(0, 0)),
            grid("G2", square(0.02, 0)),
            grid("G3", square(0.005, 0, size=0.02)),  # over both G1 and G2
        )
        problems = problems_of(doc)
        assert {(p.index, p.problem[:16]) for p in problems} == {
            (2, "overlaps grid G1"),
            (2, "overlaps grid G2"),
        }
        assert len(problems) == 2

    def test_overlap_with_a_grid_without_a_code_names_its_feature_index(self) -> None:
        doc = collection(feature(square(), name="无码网格"), grid("G2", square(0.005)))
        problems = problems_of(doc)
        assert [(p.index, p.problem) for p in problems] == [
            (0, "missing code"),
            (1, "overlaps grid of feature 0 (area 5e-05 deg²)"),
        ]

    def test_overlap_below_the_tolerance_is_ignored(self) -> None:
        sliver = 1e-11  # an overlap of 1e-11 x 0.01 = 1e-13 deg²
        doc = collection(grid("G1", square(0, 0)), grid("G2", square(0.01 - sliver, 0)))
        assert problems_of(doc) == []

    def test_townships_and_villages_may_cover_grids(self) -> None:
        doc = collection(
            feature(square(0, 0, 0.1), code="T1", name="法库镇", kind="township"),
            feature(square(0, 0, 0.1), code="V1", name="东湖村", kind="village", parent_code="T1"),
            grid("G1", parent_code="V1"),
        )
        assert problems_of(doc) == []

    def test_invalid_grids_are_not_also_reported_as_overlapping(self) -> None:
        ring = [
            [LON, LAT],
            [LON + 0.01, LAT + 0.01],
            [LON + 0.01, LAT],
            [LON, LAT + 0.01],
            [LON, LAT],
        ]
        doc = collection(grid("G1"), grid("G2", {"type": "Polygon", "coordinates": [ring]}))
        assert [p.problem.split(" at ")[0] for p in problems_of(doc)] == ["self-intersection"]


class TestScale:
    def test_fifty_thousand_grids_validate_in_well_under_thirty_seconds(self) -> None:
        doc = synthetic_county(50_000)
        started = time.perf_counter()
        features, problems = parse_county(doc)
        elapsed = time.perf_counter() - started
        assert problems == []
        assert sum(f.kind == "grid" for f in features) == 50_000
        assert elapsed < 15


class TestCoordinatesAndRings:
    def test_an_unclosed_ring_is_reported_by_code(self) -> None:
        ring = square()["coordinates"][0][:-1]
        problems = problems_of(collection(grid("G1", {"type": "Polygon", "coordinates": [ring]})))
        assert [(p.index, p.code) for p in problems] == [(0, "G1")]
        assert problems[0].problem.startswith("malformed geometry: ring 0 is not closed")

    def test_a_ring_of_three_positions_is_reported(self) -> None:
        ring = [[LON, LAT], [LON + 0.01, LAT], [LON, LAT]]
        problems = problems_of(collection(grid("G1", {"type": "Polygon", "coordinates": [ring]})))
        assert texts(problems) == [
            "malformed geometry: ring 0 has 3 positions; "
            "a ring needs at least 4, the last the same as the first"
        ]

    @pytest.mark.parametrize("literal", ["Infinity", "-Infinity", "NaN", "1e400"])
    def test_non_finite_numbers_read_by_pythons_json_are_reported(self, literal: str) -> None:
        text = json.dumps(collection(grid("G0", square(1)), grid("G1", square(0, 0, size=0.5))))
        assert text.count("123.9") == 2  # the east edge of G1, and its east edge only
        problems = problems_of(json.loads(text.replace("123.9", literal, 1)))
        assert [(p.index, p.code) for p in problems] == [(1, "G1")]
        assert problems[0].problem.startswith("non-finite coordinate")
        assert problems[0].problem.endswith("at position 1 of ring 0")

    def test_a_non_finite_altitude_on_a_village_is_reported(self) -> None:
        ring = [[*p, float("inf")] for p in square()["coordinates"][0]]
        doc = collection(
            grid("G1", square(1)),
            feature(
                {"type": "Polygon", "coordinates": [ring]}, code="V1", name="村", kind="village"
            ),
        )
        assert [(p.index, p.code, p.problem) for p in problems_of(doc)] == [
            (1, "V1", "non-finite coordinate Infinity at position 0 of ring 0")
        ]

    def test_a_feature_records_its_place_in_the_file(self) -> None:
        doc = collection(
            feature(square(), name="无码"), grid("G1", square(1)), grid("G2", square(2))
        )
        features, _ = parse_county(doc)
        assert [(f.code, f.index) for f in features] == [("G1", 1), ("G2", 2)]


class TestPositionBounds:
    def test_a_geometry_over_the_bound_is_reported_on_its_feature(self) -> None:
        step = 0.01 / rings.MAX_POSITIONS
        top = [[LON + 0.01 - k * step, LAT + 0.01] for k in range(rings.MAX_POSITIONS - 1)]
        ring = [[LON, LAT], [LON + 0.01, LAT], *top, [LON, LAT]]
        doc = collection(
            grid("G0", square(1)), grid("BIG", {"type": "Polygon", "coordinates": [ring]})
        )
        assert [(p.index, p.code, p.problem) for p in problems_of(doc)] == [
            (1, "BIG", "geometry has 10,002 positions; at most 10,000 per geometry")
        ]

    def test_a_file_over_the_bound_is_one_problem_before_anything_is_read(self) -> None:
        ring = [[LON, LAT]] * 9_901  # shared, so the test builds no million positions
        heavy = {"type": "Polygon", "coordinates": [ring]}
        doc = collection(*(grid(f"G{i}", heavy) for i in range(101)))
        started = time.perf_counter()
        features, problems = parse_county(doc)
        assert time.perf_counter() - started < 1
        assert features == []
        assert [(p.index, p.code, p.problem) for p in problems] == [
            (
                -1,
                None,
                "the file has 1,000,001 positions; at most 1,000,000 per import "
                "(feature 0 has the most: 9,901)",
            )
        ]
