from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.org.geojson import UnitFeature
from hotline.org.tree import (
    Node,
    Usage,
    cycles,
    kind_change_problems,
    parent_problem,
    parents_for,
    tree_problems,
)


def unit(code: str, kind: str, parent: str | None = None, index: int = 0) -> UnitFeature:
    return UnitFeature(code, code, kind, parent, (), None, None, None, index)


def texts(features: list[UnitFeature], stored: dict[str, Node]) -> list[tuple[int, str, str]]:
    return [(p.index, str(p.code), p.problem) for p in tree_problems(features, stored)]


STORED = {
    "C": Node("county", None),
    "T": Node("township", "C"),
    "V": Node("village", "T", "G1"),
    "G1": Node("grid", "V"),
    "G2": Node("grid", "V"),
    "D": Node("department", "C"),
}


class TestParentKinds:
    @pytest.mark.parametrize(
        ("kind", "parents"),
        [
            ("county", ()),
            ("township", ("county",)),
            ("village", ("township", "county")),
            ("grid", ("village", "township", "county")),
            ("department", ("county",)),
            ("group", ("county",)),
        ],
    )
    def test_a_unit_sits_under_a_higher_rank(self, kind: str, parents: tuple[str, ...]) -> None:
        assert parents_for(kind) == parents

    @pytest.mark.parametrize(
        ("kind", "parent", "problem"),
        [
            ("village", "grid", "a village sits under a township or county"),
            ("village", "village", "a village sits under a township or county"),
            ("township", "village", "a township sits under a county"),
            ("county", "county", "a county has no parent"),
            ("grid", "department", "a grid sits under a village, township or county"),
            ("department", "township", "a department sits under a county"),
        ],
    )
    def test_a_parent_of_the_wrong_kind_is_named(
        self, kind: str, parent: str, problem: str
    ) -> None:
        assert parent_problem(kind, parent) == problem

    def test_a_grid_may_sit_under_a_township(self) -> None:
        assert parent_problem("grid", "township") is None


class TestCycles:
    def test_two_units_that_are_each_others_parent(self) -> None:
        assert cycles(["A"], {"A": "B", "B": "A"}) == [["A", "B"]]

    def test_a_chain_that_runs_into_a_loop_reports_the_loop(self) -> None:
        parents = {"X": "A", "A": "B", "B": "C", "C": "A"}
        assert cycles(["X"], parents) == [["A", "B", "C"]]

    def test_each_loop_is_found_once(self) -> None:
        parents = {"A": "B", "B": "A", "C": "D", "D": "C", "E": None}
        assert cycles(["A", "B", "C", "E", "D"], parents) == [["A", "B"], ["C", "D"]]

    def test_chains_to_a_root_or_an_unknown_unit_are_no_loop(self) -> None:
        assert cycles(["G", "V"], {"G": "V", "V": "T", "T": None, "X": "NOPE"}) == []

    def test_a_long_chain_is_walked_once(self) -> None:
        parents = {f"U{i}": f"U{i + 1}" for i in range(200_000)}
        assert cycles(list(parents), parents) == []

    @given(st.dictionaries(st.integers(0, 12), st.integers(0, 14), max_size=13))
    def test_the_units_on_loops_are_exactly_those_their_chain_returns_to(
        self, edges: dict[int, int]
    ) -> None:
        parents: dict[str, str | None] = {str(c): str(p) for c, p in edges.items()}

        def returns(code: str) -> bool:
            current = parents.get(code)
            for _ in range(len(parents) + 1):
                if current is None:
                    return False
                if current == code:
                    return True
                current = parents.get(current)
            return False

        found = cycles(list(parents), parents)
        on_loops = [c for loop in found for c in loop]
        assert sorted(on_loops) == sorted(c for c in parents if returns(c))
        for loop in found:  # each loop in chain order: every unit's parent is the next
            assert [parents[c] for c in loop] == [*loop[1:], loop[0]]


class TestTreeProblems:
    def test_a_sound_file_has_none(self) -> None:
        features = [unit("T2", "township", "C", 0), unit("V2", "village", "T2", 1)]
        assert texts([*features, unit("G3", "grid", "V2", 2)], STORED) == []

    def test_a_grid_under_a_grid(self) -> None:
        assert texts([unit("G3", "grid", "G1", 4)], STORED) == [
            (4, "G3", "parent G1 is a grid; a grid sits under a village, township or county")
        ]

    def test_the_parent_takes_the_kind_the_file_gives_it(self) -> None:
        features = [unit("T", "village", "C", 0), unit("V2", "village", "T", 1)]
        problems = texts(features, STORED)
        assert (1, "V2", "parent T is a village; a village sits under a township or county") in (
            problems
        )

    def test_a_village_with_grids_turned_into_a_grid(self) -> None:
        assert texts([unit("V", "grid", "T", 2)], STORED) == [
            (
                2,
                "V",
                "cannot change from village to grid: its child units G1 (grid), G2 (grid) "
                "cannot sit under a grid",
            )
        ]

    def test_children_the_file_moves_away_are_not_stranded(self) -> None:
        features = [unit("V", "grid", "T", 0), unit("V2", "village", "T", 1)]
        features += [unit("G1", "grid", "V2", 2), unit("G2", "grid", "V2", 3)]
        assert texts(features, STORED) == []

    def test_a_county_turned_into_a_township_strands_its_department(self) -> None:
        problems = texts([unit("C", "township", None, 0)], STORED)
        assert [p for _, _, p in problems] == [
            "cannot change from county to township: its child units D (department), "
            "T (township) cannot sit under a township"
        ]

    def test_a_cycle_within_the_file_is_reported_once_on_its_first_feature(self) -> None:
        features = [unit("A", "village", "B", 3), unit("B", "village", "A", 1)]
        cycle = [p for p in tree_problems(features, STORED) if "cycle" in p.problem]
        assert [(p.index, p.code, p.problem) for p in cycle] == [
            (1, "B", "parent chain B → A → B is a cycle")
        ]

    def test_a_longer_cycle_through_stored_units(self) -> None:
        stored = {**STORED, "V3": Node("village", "V4"), "V4": Node("village", "T")}
        problems = texts([unit("T", "township", "V3", 0)], stored)
        assert (0, "T", "parent chain T → V3 → V4 → T is a cycle") in problems

    def test_a_loop_among_stored_units_alone_is_not_the_files(self) -> None:
        stored = {**STORED, "L1": Node("village", "L2"), "L2": Node("village", "L1")}
        assert texts([unit("G3", "grid", "L1", 0)], stored) == []


class TestKindChange:
    def test_nothing_holding_on_means_no_problem(self) -> None:
        assert kind_change_problems(unit("G1", "village", "T"), "grid", Usage()) == []

    def test_every_hold_is_a_problem_of_its_own(self) -> None:
        usage = Usage(
            open_tickets=3,
            people=(("worker", "staff 7 (worker)"), ("officer", "API key hk_1 (officer)")),
            members=2,
            default_of=("V",),
            uncovered=1e-4,
        )
        problems = kind_change_problems(unit("G1", "village", "T", 5), "grid", usage)
        assert {(p.index, p.code) for p in problems} == {(5, "G1")}
        assert [p.problem for p in problems] == [
            "cannot change from grid to village: 3 open ticket(s) name it; close or move them "
            "first",
            "cannot change from grid to village: staff 7 (worker) cannot belong to a village",
            "cannot change from grid to village: 2 dedicated member(s) are attached to it",
            "cannot change from grid to village: it is the default grid of V",
            "cannot change from grid to village: 0.0001 deg² of its area would lie in no grid",
        ]

    def test_people_who_fit_the_new_kind_stay(self) -> None:
        usage = Usage(people=(("officer", "staff 9 (officer)"),))
        assert kind_change_problems(unit("T", "village", "C"), "township", usage) == []

    def test_many_people_are_counted_past_the_first_five(self) -> None:
        people = tuple(("worker", f"staff {i} (worker)") for i in range(8))
        [problem] = kind_change_problems(unit("G1", "village"), "grid", Usage(people=people))
        assert problem.problem.endswith("staff 4 (worker) and 3 more cannot belong to a village")
