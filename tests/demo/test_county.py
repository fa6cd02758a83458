from __future__ import annotations

import itertools
from collections import Counter, defaultdict

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from hotline.demo.county import (
    CONFIRMATION_GROUP,
    DEPARTMENTS,
    SHARED_ALIAS,
    demo_county,
    synthetic_county,
)
from hotline.org.geojson import UnitFeature, parse_county

RECTANGLE = box(123.30, 42.40, 123.50, 42.60)


@pytest.fixture(scope="module")
def demo() -> list[UnitFeature]:
    features, problems = parse_county(demo_county())
    assert problems == []
    return features


def of_kind(features: list[UnitFeature], kind: str) -> list[UnitFeature]:
    return [f for f in features if f.kind == kind]


def shapes(features: list[UnitFeature]) -> list[shapely.Geometry]:
    out = []
    for f in features:
        assert f.shape is not None
        out.append(f.shape)
    return out


class TestDemoCountyShape:
    def test_parses_with_no_problems(self) -> None:
        assert parse_county(demo_county())[1] == []

    def test_has_one_county_six_townships_twenty_one_villages_sixty_grids(
        self, demo: list[UnitFeature]
    ) -> None:
        kinds = Counter(f.kind for f in demo)
        assert kinds["county"] == 1
        assert kinds["township"] >= 5
        assert kinds["village"] >= 20
        assert kinds["grid"] == 60

    def test_codes_follow_the_national_digit_counts(self, demo: list[UnitFeature]) -> None:
        digits = {"county": 6, "township": 9, "village": 12, "grid": 15}
        for f in demo:
            assert f.code.isdigit() and len(f.code) == digits[f.kind], f.code
            if f.parent_code is not None:
                assert f.code.startswith(f.parent_code)

    def test_grids_tile_the_county_rectangle(self, demo: list[UnitFeature]) -> None:
        grids = shapes(of_kind(demo, "grid"))
        union = shapely.union_all(grids)
        assert abs(union.area - RECTANGLE.area) < 1e-9
        assert union.symmetric_difference(RECTANGLE).area < 1e-9
        # Areas that add up to the union's leave no room for overlaps.
        assert abs(sum(g.area for g in grids) - union.area) < 1e-9

    def test_no_two_grids_overlap(self, demo: list[UnitFeature]) -> None:
        grids = shapes(of_kind(demo, "grid"))
        for a, b in itertools.combinations(grids, 2):
            assert a.intersection(b).area < 1e-12

    def test_neighbouring_grids_share_identical_edges(self, demo: list[UnitFeature]) -> None:
        edges: Counter[tuple[tuple[float, float], tuple[float, float]]] = Counter()
        for g in of_kind(demo, "grid"):
            assert g.geometry is not None
            ring = [tuple(p) for p in g.geometry["coordinates"][0]]
            edges.update(tuple(sorted(e)) for e in itertools.pairwise(ring))  # type: ignore[misc]
        outer = [e for e, n in edges.items() if n == 1]
        assert all(n in (1, 2) for n in edges.values())
        assert len(outer) == 2 * (10 + 6)  # only the rectangle's boundary is unshared

    def test_is_deterministic_and_fresh_on_every_call(self) -> None:
        first = demo_county()
        assert first == demo_county()
        first["features"].clear()
        assert len(demo_county()["features"]) == 88


class TestDemoCountyHierarchy:
    def test_every_grid_belongs_to_a_village_and_every_village_to_a_township(
        self, demo: list[UnitFeature]
    ) -> None:
        kind = {f.code: f.kind for f in demo}
        expected = {"grid": "village", "village": "township", "township": "county"}
        for f in demo:
            if f.kind == "county":
                assert f.parent_code is None
            else:
                assert f.parent_code is not None
                assert kind[f.parent_code] == expected[f.kind], f.code

    def test_grid_names_number_the_grids_of_their_village(self, demo: list[UnitFeature]) -> None:
        name = {f.code: f.name for f in demo}
        for g in of_kind(demo, "grid"):
            assert g.parent_code is not None
            assert g.name.startswith(name[g.parent_code] + "第") and g.name.endswith("网格")

    @pytest.mark.parametrize("kind", ["village", "township"])
    def test_villages_and_townships_are_contiguous_unions_of_their_children(
        self, demo: list[UnitFeature], kind: str
    ) -> None:
        children: dict[str, list[shapely.Geometry]] = defaultdict(list)
        for f in demo:
            if f.parent_code is not None and f.shape is not None:
                children[f.parent_code].append(f.shape)
        for unit in of_kind(demo, kind):
            assert unit.shape is not None and unit.shape.geom_type == "Polygon", unit.name
            union = shapely.union_all(children[unit.code])
            assert union.symmetric_difference(unit.shape).area < 1e-12, unit.name

    def test_every_place_has_aliases(self, demo: list[UnitFeature]) -> None:
        assert all(f.aliases for f in demo)


class TestDemoCountyAliases:
    def test_only_the_shared_alias_names_two_places(self, demo: list[UnitFeature]) -> None:
        owners: dict[str, list[UnitFeature]] = defaultdict(list)
        for f in demo:
            for text in {f.name, *f.aliases}:
                owners[text].append(f)
        shared = {text: fs for text, fs in owners.items() if len(fs) > 1}
        assert list(shared) == [SHARED_ALIAS]
        a, b = shared[SHARED_ALIAS]
        assert a.kind == b.kind == "grid" and a.parent_code != b.parent_code

    def test_a_name_inside_another_is_an_ancestors(self, demo: list[UnitFeature]) -> None:
        parent = {f.code: f.parent_code for f in demo}

        def ancestors(code: str) -> set[str]:
            out = set()
            while (up := parent[code]) is not None:
                out.add(up)
                code = up
            return out

        texts = [(t, f.code) for f in demo for t in {f.name, *f.aliases}]
        for (inner, a), (outer, b) in itertools.permutations(texts, 2):
            if a != b and inner in outer and inner != SHARED_ALIAS:
                assert a in ancestors(b), f"{inner!r} ({a}) is inside {outer!r} ({b})"


class TestDepartments:
    def test_eight_departments_with_unique_codes(self) -> None:
        assert len(DEPARTMENTS) == 8
        assert len({d.code for d in DEPARTMENTS}) == 8
        assert all(d.code.startswith("210124-D-") and d.aliases for d in DEPARTMENTS)

    def test_aliases_name_one_department_each(self) -> None:
        texts = [t for d in DEPARTMENTS for t in (d.name, *d.aliases)]
        assert len(texts) == len(set(texts))

    def test_business_environment_bureau_is_there(self) -> None:
        assert any("营商局" in d.aliases for d in DEPARTMENTS)

    def test_confirmation_group(self) -> None:
        assert CONFIRMATION_GROUP == ("210124-QZ", "疑难问题确责小组")


class TestSyntheticCounty:
    def test_two_thousand_grids_parse_with_no_problems(self) -> None:
        features, problems = parse_county(synthetic_county(2000))
        assert problems == []
        kinds = Counter(f.kind for f in features)
        assert kinds == {"county": 1, "township": 2, "village": 40, "grid": 2000}

    def test_parents_exist_and_codes_are_unique_and_short(self) -> None:
        features, _ = parse_county(synthetic_county(2000))
        kind = {f.code: f.kind for f in features}
        assert len(kind) == len(features)
        expected = {"grid": "village", "village": "township", "township": "county"}
        for f in features:
            assert len(f.code) <= 32
            if f.parent_code is not None:
                assert kind[f.parent_code] == expected[f.kind]

    def test_each_grid_has_its_own_alias(self) -> None:
        features, _ = parse_county(synthetic_county(500))
        aliases = [a for f in of_kind(features, "grid") for a in f.aliases]
        assert len(aliases) == 500 == len(set(aliases))

    def test_villages_are_contiguous(self) -> None:
        features, _ = parse_county(synthetic_county(700))
        children: dict[str | None, list[shapely.Geometry]] = defaultdict(list)
        for g in of_kind(features, "grid"):
            children[g.parent_code].append(g.shape)
        for parts in children.values():
            assert shapely.union_all(parts).geom_type == "Polygon"

    def test_same_seed_same_county_other_seed_other_county(self) -> None:
        assert synthetic_county(300, seed=7) == synthetic_county(300, seed=7)
        assert synthetic_county(300, seed=7) != synthetic_county(300, seed=8)

    def test_zero_grids_is_refused(self) -> None:
        with pytest.raises(ValueError):
            synthetic_county(0)

    @settings(max_examples=25, deadline=None)
    @given(st.integers(min_value=1, max_value=400), st.integers(min_value=0, max_value=2**32))
    def test_any_size_and_seed_tiles_without_gaps_or_overlaps(self, n: int, seed: int) -> None:
        features, problems = parse_county(synthetic_county(n, seed=seed))
        assert problems == []
        grids = shapes(of_kind(features, "grid"))
        assert len(grids) == n
        union = shapely.union_all(grids)
        assert union.geom_type == "Polygon" and not list(union.interiors)
        assert abs(sum(g.area for g in grids) - union.area) < 1e-12
