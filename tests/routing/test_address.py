"""AddressMatcher on a small 法库县 hierarchy, plus a property over generated hierarchies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.routing.address import AddressMatch, AddressMatcher, Place

COUNTY = Place("210124", "法库县", 0, None, ("法库",))
TOWN_DGJ = Place("210124101", "大孤家子镇", 1, "210124", ("大孤家子",))
TOWN_YNB = Place("210124102", "依牛堡子镇", 1, "210124")
DONGHU = Place("210124101201", "东湖村", 2, "210124101", ("东湖",))
XISHAN = Place("210124101202", "西山村", 2, "210124101")
SANMIAN = Place("210124102201", "三面船村", 2, "210124102")
DONGHU_GARDEN = Place("210124101201G01", "东湖花园网格", 3, "210124101201", ("东湖花园",))
DONGHU_XINGFU = Place("210124101201G02", "东湖村第二网格", 3, "210124101201", ("幸福小区",))
XISHAN_XINGFU = Place("210124101202G01", "西山村第一网格", 3, "210124101202", ("幸福小区",))
XISHAN_GROUP = Place("210124101202G02", "西山一组网格", 3, "210124101202", ("西山一组",))
SANMIAN_XINGFU = Place("210124102201G01", "三面船村第一网格", 3, "210124102201", ("幸福小区",))

PLACES = [
    COUNTY,
    TOWN_DGJ,
    TOWN_YNB,
    DONGHU,
    XISHAN,
    SANMIAN,
    DONGHU_GARDEN,
    DONGHU_XINGFU,
    XISHAN_XINGFU,
    XISHAN_GROUP,
    SANMIAN_XINGFU,
]
XINGFU_GRIDS = sorted(p.code for p in (DONGHU_XINGFU, XISHAN_XINGFU, SANMIAN_XINGFU))


@pytest.fixture(scope="module")
def matcher() -> AddressMatcher:
    return AddressMatcher(PLACES)


class TestDecidedPlace:
    def test_address_naming_village_and_its_grid_routes_to_the_grid(
        self, matcher: AddressMatcher
    ) -> None:
        result = matcher.match("辽宁省沈阳市法库县大孤家子镇东湖村东湖花园3号楼2单元楼道灯不亮")

        assert result == AddressMatch(
            code=DONGHU_GARDEN.code,
            words=(
                ("法库县", COUNTY.code),
                ("大孤家子镇", TOWN_DGJ.code),
                ("东湖村", DONGHU.code),
                ("东湖花园", DONGHU_GARDEN.code),
            ),
            candidates=(DONGHU_GARDEN.code,),
            ambiguous=False,
        )

    def test_grid_alias_alone_routes_to_the_grid(self, matcher: AddressMatcher) -> None:
        result = matcher.match("西山一组老王家门口下水道堵了")

        assert result.code == XISHAN_GROUP.code
        assert result.words == (("西山一组", XISHAN_GROUP.code),)

    def test_grid_full_name_routes_to_the_grid(self, matcher: AddressMatcher) -> None:
        assert matcher.match("西山一组网格有人占道经营").code == XISHAN_GROUP.code

    def test_village_without_grid_routes_to_the_village(self, matcher: AddressMatcher) -> None:
        result = matcher.match("法库县西山村村口路灯坏了")

        assert (result.code, result.ambiguous) == (XISHAN.code, False)

    def test_town_alias_routes_to_the_town(self, matcher: AddressMatcher) -> None:
        assert matcher.match("法库大孤家子集市噪音扰民").code == TOWN_DGJ.code


class TestLongestMatch:
    def test_name_inside_a_longer_matched_name_is_dropped(self, matcher: AddressMatcher) -> None:
        # "东湖" (village alias) sits inside "东湖花园" (grid alias) and must not be reported.
        result = matcher.match("东湖花园小区门口")

        assert result.words == (("东湖花园", DONGHU_GARDEN.code),)
        assert result.code == DONGHU_GARDEN.code

    def test_shorter_name_elsewhere_in_the_text_is_kept(self, matcher: AddressMatcher) -> None:
        result = matcher.match("东湖花园北侧东湖边")

        assert result.words == (("东湖花园", DONGHU_GARDEN.code), ("东湖", DONGHU.code))

    def test_partly_overlapping_names_are_both_kept(self) -> None:
        garden = Place("G1", "东湖花园", 3, None)
        street = Place("S1", "花园街", 1, None)

        result = AddressMatcher([garden, street]).match("东湖花园街12号")

        assert result.words == (("东湖花园", "G1"), ("花园街", "S1"))

    def test_single_character_names_are_ignored(self) -> None:
        matcher = AddressMatcher([Place("V1", "湖", 2, None, ("东", "湖村"))])

        assert len(matcher) == 1
        assert matcher.match("湖边东侧").code is None
        assert matcher.match("湖村东侧").code == "V1"


class TestAmbiguity:
    def test_grid_name_shared_by_several_villages_is_ambiguous(
        self, matcher: AddressMatcher
    ) -> None:
        result = matcher.match("幸福小区5号楼前积水")

        assert result == AddressMatch(
            code=None,
            words=tuple(("幸福小区", code) for code in XINGFU_GRIDS),
            candidates=tuple(XINGFU_GRIDS),
            ambiguous=True,
        )

    def test_naming_the_village_resolves_a_shared_grid_name(self, matcher: AddressMatcher) -> None:
        result = matcher.match("西山村幸福小区5号楼前积水")

        assert (result.code, result.candidates, result.ambiguous) == (
            XISHAN_XINGFU.code,
            (XISHAN_XINGFU.code,),
            False,
        )

    def test_naming_a_town_with_one_such_grid_resolves_it(self, matcher: AddressMatcher) -> None:
        assert matcher.match("依牛堡子镇幸福小区").code == SANMIAN_XINGFU.code

    def test_naming_a_town_with_two_such_grids_stays_ambiguous(
        self, matcher: AddressMatcher
    ) -> None:
        result = matcher.match("法库县大孤家子镇幸福小区")

        assert result.ambiguous
        assert result.code is None
        assert result.candidates == tuple(sorted((DONGHU_XINGFU.code, XISHAN_XINGFU.code)))

    def test_grid_with_most_named_ancestors_wins(self, matcher: AddressMatcher) -> None:
        # Both 大孤家子镇 grids have the town named; only 东湖村's also has its village named.
        assert matcher.match("大孤家子镇东湖村幸福小区").code == DONGHU_XINGFU.code

    def test_grid_contradicting_the_named_village_is_ambiguous(
        self, matcher: AddressMatcher
    ) -> None:
        result = matcher.match("三面船村东湖花园")

        assert result.ambiguous
        assert result.code is None
        assert result.candidates == tuple(sorted((SANMIAN.code, DONGHU_GARDEN.code)))

    def test_two_unrelated_villages_named_is_ambiguous(self, matcher: AddressMatcher) -> None:
        result = matcher.match("西山村和三面船村交界处")

        assert (result.code, result.ambiguous) == (None, True)
        assert result.candidates == tuple(sorted((SANMIAN.code, XISHAN.code)))


class TestNoMatch:
    @pytest.mark.parametrize("text", ["", "路灯坏了没人修", "沈阳市和平区南京北街"])
    def test_text_without_known_names_matches_nothing(
        self, matcher: AddressMatcher, text: str
    ) -> None:
        assert matcher.match(text) == AddressMatch(None, (), (), ambiguous=False)

    def test_matcher_without_places_matches_nothing(self) -> None:
        matcher = AddressMatcher([])

        assert len(matcher) == 0
        assert matcher.match("法库县东湖村") == AddressMatch(None, (), (), ambiguous=False)


class TestConstruction:
    def test_len_counts_distinct_names_and_aliases(self, matcher: AddressMatcher) -> None:
        names = {n for p in PLACES for n in (p.name, *p.aliases)}

        assert len(matcher) == len(names) == 17

    def test_duplicate_place_code_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="duplicate"):
            AddressMatcher([XISHAN, Place(XISHAN.code, "别名村", 2, None)])

    def test_parent_cycle_does_not_hang(self) -> None:
        a = Place("A", "甲村", 2, "B")
        b = Place("B", "乙镇", 1, "A")

        assert AddressMatcher([a, b]).match("乙镇甲村").code == "A"


@st.composite
def hierarchies(draw: st.DrawFn) -> list[Place]:
    places = [COUNTY]
    for t in range(draw(st.integers(1, 3))):
        town = Place(f"T{t}", f"第{t}镇", 1, COUNTY.code)
        places.append(town)
        for v in range(draw(st.integers(1, 3))):
            village = Place(f"{town.code}V{v}", f"第{t}镇{v}村", 2, town.code)
            places.append(village)
            for g in range(draw(st.integers(1, 3))):
                # Every village reuses the same grid names: only the village disambiguates.
                places.append(Place(f"{village.code}G{g}", f"{g}号网格", 3, village.code))
    return places


class TestGeneratedHierarchies:
    @given(places=hierarchies(), data=st.data())
    def test_full_address_of_any_grid_routes_to_it(
        self, places: list[Place], data: st.DataObject
    ) -> None:
        by_code = {p.code: p for p in places}
        grid = data.draw(st.sampled_from([p for p in places if p.level == 3]))
        village = by_code[grid.parent_code or ""]
        text = f"辽宁省沈阳市法库县{village.name}{grid.name}旁边垃圾堆放"

        result = AddressMatcher(places).match(text)

        assert (result.code, result.ambiguous) == (grid.code, False)

    @given(places=hierarchies(), data=st.data())
    def test_grid_name_alone_is_ambiguous_exactly_when_shared(
        self, places: list[Place], data: st.DataObject
    ) -> None:
        grid = data.draw(st.sampled_from([p for p in places if p.level == 3]))
        sharing = sorted(p.code for p in places if p.name == grid.name)

        result = AddressMatcher(places).match(f"{grid.name}门口")

        assert result.candidates == tuple(sharing)
        assert result.ambiguous == (len(sharing) > 1)
