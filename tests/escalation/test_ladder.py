"""The ladders' pure rules: each kind of owner climbs its own ladder, one rung at a time, to the
next rung that has a unit for the ticket, never down into a village for a department."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hotline.escalation.ladder import RANK, Rung, climb, higher, track_of

RUNGS = [
    Rung("grid", 1, "village", "村/社区"),
    Rung("grid", 2, "township", "乡镇/街道"),
    Rung("grid", 3, "county", "县级督办"),
    Rung("grid", 4, "group", "确责小组"),
    Rung("department", 1, "department", "部门负责人"),
    Rung("department", 2, "county", "县级督办"),
    Rung("department", 3, "group", "确责小组"),
    Rung("enterprise", 1, "department", "承办单位负责人"),
    Rung("enterprise", 2, "line", "专线主管单位"),
    Rung("enterprise", 3, "county", "县级督办"),
    Rung("enterprise", 4, "group", "确责小组"),
]
OWNERS = {
    "village": "V",
    "township": "T",
    "county": "C",
    "department": None,
    "line": "B",
    "group": "G",
}


def walk(track: str, owners: dict[str, str | None], owner: str | None) -> list[tuple[str, str]]:
    steps, level = [], 0
    while (step := climb(RUNGS, track, level, owners, owner)) is not None:
        steps.append((step.kind, step.unit_code))
        level = step.level
    return steps


class TestTracks:
    def test_the_enterprise_line_has_its_own_ladder(self) -> None:
        assert track_of("enterprise", "grid") == "enterprise"
        assert track_of("enterprise", "department") == "enterprise"

    def test_a_department_climbs_the_department_ladder(self) -> None:
        assert track_of("main", "department") == "department"
        assert track_of("main", "grid") == "grid"
        assert track_of("main", None) == "grid"


class TestClimb:
    def test_a_grid_ticket_climbs_village_township_county_group(self) -> None:
        assert walk("grid", OWNERS, "GRID") == [
            ("village", "V"),
            ("township", "T"),
            ("county", "C"),
            ("group", "G"),
        ]

    def test_a_department_ticket_never_reaches_a_village(self) -> None:
        owners = {**OWNERS, "department": "D"}
        assert walk("department", owners, "D") == [
            ("department", "D"),
            ("county", "C"),
            ("group", "G"),
        ]

    def test_the_enterprise_line_passes_its_unit_when_that_unit_owns_the_ticket(self) -> None:
        owners = {**OWNERS, "department": "B"}
        assert walk("enterprise", owners, "B") == [
            ("department", "B"),
            ("county", "C"),
            ("group", "G"),
        ]
        owners = {**OWNERS, "department": "D"}
        assert walk("enterprise", owners, "D")[:2] == [("department", "D"), ("line", "B")]

    def test_a_rung_without_a_unit_is_passed_over(self) -> None:
        assert walk("grid", {**OWNERS, "township": None}, "GRID")[1] == ("county", "C")

    def test_a_village_does_not_climb_to_itself(self) -> None:
        assert walk("grid", OWNERS, "V")[0] == ("township", "T")

    def test_straight_to_the_group(self) -> None:
        step = climb(RUNGS, "grid", 1, OWNERS, "GRID", to_top=True)
        assert step is not None and (step.kind, step.level) == ("group", 4)

    def test_nothing_above_the_top(self) -> None:
        assert climb(RUNGS, "grid", 4, OWNERS, "GRID") is None

    @given(
        track=st.sampled_from(["grid", "department", "enterprise"]),
        present=st.fixed_dictionaries({k: st.booleans() for k in OWNERS}),
    )
    def test_every_climb_goes_up_and_a_department_never_meets_a_village(
        self, track: str, present: dict[str, bool]
    ) -> None:
        owners = {k: (v if present[k] else None) for k, v in {**OWNERS, "department": "D"}.items()}
        level, seen = 0, []
        while (step := climb(RUNGS, track, level, owners, "D")) is not None:
            assert step.level > level
            seen.append(step.kind)
            level = step.level
        if track != "grid":
            assert "village" not in seen and "township" not in seen
        assert len(seen) == len(set(seen))


class TestPeak:
    def test_the_peak_keeps_the_highest_kind(self) -> None:
        assert higher(None, "village") == "village"
        assert higher("county", "village") == "county"
        assert higher("village", "group") == "group"
        assert RANK["group"] > RANK["county"] > RANK["township"] > RANK["village"]
