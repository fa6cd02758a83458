"""The routing precedence as pure rules: catalogue beats geography, geography beats triage."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hotline.routing.rules import Located, Rule, decide, pick_rule

CHAIN = ("G1", "V1", "T1", "C")
codes = st.sampled_from([None, "utility.water", "urban.road"])
lines = st.sampled_from([None, "main", "enterprise"])
areas = st.sampled_from([None, *CHAIN, "elsewhere"])


@st.composite
def rules(draw: st.DrawFn) -> list[Rule]:
    n = draw(st.integers(0, 6))
    return [
        Rule(i + 1, f"U{i}", draw(codes), draw(lines), draw(areas), draw(st.integers(-3, 3)))
        for i in range(n)
    ]


class TestPickRule:
    @given(rules())
    def test_a_picked_rule_always_matches_every_field_it_sets(self, catalogue: list[Rule]) -> None:
        rule = pick_rule(catalogue, category="utility.water", line="main", area_chain=CHAIN)
        if rule is not None:
            assert rule.category in (None, "utility.water")
            assert rule.line in (None, "main")
            assert rule.area in (None, *CHAIN)

    @given(rules())
    def test_no_pick_means_no_rule_matched(self, catalogue: list[Rule]) -> None:
        rule = pick_rule(catalogue, category="urban.road", line="enterprise", area_chain=CHAIN)
        matching = [
            r
            for r in catalogue
            if r.category in (None, "urban.road")
            and r.line in (None, "enterprise")
            and r.area in (None, *CHAIN)
        ]
        assert (rule is None) == (not matching)

    def test_more_specific_rule_beats_higher_priority(self) -> None:
        broad = Rule(1, "BROAD", category="utility.water", priority=100)
        narrow = Rule(2, "NARROW", category="utility.water", line="main")
        assert pick_rule([broad, narrow], category="utility.water", line="main", area_chain=())
        picked = pick_rule([broad, narrow], category="utility.water", line="main", area_chain=())
        assert picked == narrow

    def test_deeper_area_beats_shallower(self) -> None:
        township = Rule(1, "T", category="urban.road", area="T1")
        village = Rule(2, "V", category="urban.road", area="V1")
        picked = pick_rule(
            [township, village], category="urban.road", line="main", area_chain=CHAIN
        )
        assert picked == village

    def test_area_rule_needs_a_location(self) -> None:
        rule = Rule(1, "V", category="urban.road", area="V1")
        assert pick_rule([rule], category="urban.road", line="main", area_chain=()) is None


located = st.builds(
    Located,
    method=st.sampled_from([None, "grid_code", "point", "address"]),
    grid_code=st.sampled_from([None, "G1", "G2"]),
    explanation=st.text(max_size=5),
)


class TestDecide:
    @given(located)
    def test_a_catalogue_rule_beats_geography(self, where: Located) -> None:
        decision = decide(where, Rule(7, "DEPT", category="utility.water"))
        assert decision.method == "catalogue"
        assert decision.unit_code == "DEPT"
        assert decision.grid_code is None  # a department matter is never pushed down to a grid
        assert decision.rule_id == 7

    @given(located)
    def test_without_a_rule_geography_decides_or_triage(self, where: Located) -> None:
        decision = decide(where, None)
        if where.grid_code and where.method:
            assert (decision.method, decision.grid_code) == (where.method, where.grid_code)
        else:
            assert decision.method == "triage"
            assert decision.unit_code is None
