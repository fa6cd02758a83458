"""Hot spots: similar appeals of one category in one place within the window form a cluster."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.hotspot.cluster import Appeal, find, similarity, tokens

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
WATER = (
    "幸福村从昨天开始停水，家里没有自来水，做饭都成问题。",
    "幸福村又停水了，自来水两天都没来，老人做饭困难。",
    "幸福村停水三天了，自来水一直不来，做饭都困难。",
)
NOISE = "村口烧烤店每天晚上噪音扰民到凌晨，影响休息。"
POTHOLE = "村口道路有一个大坑，雨天积水，电动车容易摔倒。"
# A is like B and B is like C, but A is nothing like C.
CHAIN = ("停水 水管 路灯 噪音", "路灯 噪音 垃圾 井盖", "垃圾 井盖 积水 树木")


def appeal(
    id: int, text: str, *, days_ago: float = 1, place: str = "V1", category: str = "water"
) -> Appeal:
    return Appeal(id, category, place, NOW - timedelta(days=days_ago), text)


def water(
    days_ago: tuple[float, ...] = (1, 2, 3), places: tuple[str, ...] = ("V1",) * 3
) -> list[Appeal]:
    return [
        appeal(i + 1, text, days_ago=d, place=p)
        for i, (text, d, p) in enumerate(zip(WATER, days_ago, places, strict=True))
    ]


class TestSimilarAppealsInOnePlaceFormAHotSpot:
    def test_three_water_outages_in_a_village_within_30_days(self) -> None:
        [spot] = find(water(days_ago=(29, 10, 1)), now=NOW)
        assert (spot.category, spot.place, spot.ids) == ("water", "V1", (1, 2, 3))
        assert spot.first_seen == NOW - timedelta(days=29)
        assert spot.last_seen == NOW - timedelta(days=1)

    def test_two_are_not_enough(self) -> None:
        assert find(water()[:2], now=NOW) == []

    def test_two_are_enough_when_min_size_is_two(self) -> None:
        [spot] = find(water()[:2], now=NOW, min_size=2)
        assert spot.ids == (1, 2)

    def test_identical_texts_cluster_even_at_threshold_one(self) -> None:
        appeals = [appeal(i, WATER[0]) for i in (1, 2, 3)]
        assert [f.ids for f in find(appeals, now=NOW, threshold=1.0)] == [(1, 2, 3)]

    def test_input_order_does_not_matter(self) -> None:
        appeals = [*water(), appeal(4, NOISE), appeal(5, POTHOLE)]
        assert find(appeals, now=NOW) == find(reversed(appeals), now=NOW)


class TestAHotSpotStaysInOneCategoryAndPlace:
    def test_the_same_texts_spread_over_two_villages(self) -> None:
        assert find(water(places=("V1", "V1", "V2")), now=NOW) == []

    def test_the_same_texts_in_two_categories(self) -> None:
        appeals = water()
        appeals[2] = appeal(3, WATER[2], category="drainage")
        assert find(appeals, now=NOW) == []

    def test_each_village_gets_its_own_hot_spot(self) -> None:
        appeals = water() + [appeal(10 + i, text, place="V0") for i, text in enumerate(WATER)]
        assert [(f.place, f.ids) for f in find(appeals, now=NOW)] == [
            ("V0", (10, 11, 12)),
            ("V1", (1, 2, 3)),
        ]


class TestOnlyTheWindowCounts:
    def test_one_outside_the_window_leaves_two(self) -> None:
        assert find(water(days_ago=(31, 2, 1)), now=NOW) == []

    def test_the_window_excludes_its_start_and_includes_now(self) -> None:
        assert find(water(days_ago=(30, 2, 0)), now=NOW) == []
        [spot] = find(water(days_ago=(29.99, 2, 0)), now=NOW)
        assert spot.last_seen == NOW

    def test_appeals_after_now_do_not_count(self) -> None:
        assert find(water(days_ago=(-1, 2, 1)), now=NOW) == []

    def test_a_shorter_window(self) -> None:
        assert find(water(days_ago=(8, 2, 1)), now=NOW, window_days=7) == []


class TestDissimilarTextsDoNotCluster:
    def test_a_water_outage_noise_and_a_pothole_in_one_village(self) -> None:
        appeals = [appeal(1, WATER[0]), appeal(2, NOISE), appeal(3, POTHOLE)]
        assert find(appeals, now=NOW, min_size=2) == []

    def test_only_the_similar_ones_cluster(self) -> None:
        appeals = [*water(), appeal(4, NOISE), appeal(5, POTHOLE)]
        assert [f.ids for f in find(appeals, now=NOW, min_size=2)] == [(1, 2, 3)]

    def test_single_linkage_chains_through_a_middle_appeal(self) -> None:
        assert similarity(Counter(tokens(CHAIN[0])), Counter(tokens(CHAIN[2]))) == 0
        appeals = [appeal(i + 1, text) for i, text in enumerate(CHAIN)]
        assert [f.ids for f in find(appeals, now=NOW)] == [(1, 2, 3)]

    def test_a_higher_threshold_breaks_the_chain(self) -> None:
        appeals = [appeal(i + 1, text) for i, text in enumerate(CHAIN)]
        assert find(appeals, now=NOW, threshold=0.6) == []


class TestKeywordsAndTrend:
    def test_keywords_of_a_water_outage_cluster_include_停水(self) -> None:
        [spot] = find(water(), now=NOW)
        assert "停水" in spot.keywords
        assert len(spot.keywords) <= 5

    def test_words_common_to_the_whole_window_rank_lower(self) -> None:
        cluster = [appeal(i, "小区停水，自来水没有") for i in (1, 2, 3)]
        elsewhere = [appeal(10 + i, f"小区噪音{i}", place=f"V{i + 2}") for i in range(5)]
        [spot] = find(cluster + elsewhere, now=NOW)
        assert spot.keywords == ("停水", "自来水", "小区")

    def test_trend_counts_weeks_ending_now_oldest_first(self) -> None:
        [spot] = find(water(days_ago=(29, 8, 1)), now=NOW)
        assert spot.trend == (1, 0, 0, 1, 1)

    def test_trend_counts_sum_to_the_size(self) -> None:
        appeals = [appeal(i, WATER[i % 3], days_ago=i * 0.7) for i in range(40)]
        [spot] = find(appeals, now=NOW, window_days=20)
        assert len(spot.trend) == 3
        assert sum(spot.trend) == len(spot.ids) == 29


class TestTokens:
    def test_drops_punctuation_numbers_single_characters_and_stop_words(self) -> None:
        # The tagger cuts 1号楼 as 1 / 号 / 楼: numbers and single characters, all dropped.
        assert tokens("请问，1号楼停水12345二十３天了！！—— 的 了 反映 市民") == ["停水"]

    def test_keeps_the_words_that_tell_appeals_apart(self) -> None:
        assert tokens(NOISE) == [
            "村口",
            "烧烤店",
            "每天晚上",
            "噪音",
            "扰民",
            "凌晨",
            "影响",
            "休息",
        ]


words = st.lists(st.sampled_from(["停水", "噪音", "道路", "井盖", "垃圾", "小区"]), max_size=8)


class TestSimilarity:
    def test_identical_texts_are_one_and_disjoint_texts_zero(self) -> None:
        bag = Counter(tokens(WATER[0]))
        assert similarity(bag, bag) == 1
        assert similarity(bag, Counter(tokens(NOISE))) == 0
        assert similarity(bag, Counter()) == 0

    @given(words, words)
    def test_is_symmetric_and_between_zero_and_one(self, a: list[str], b: list[str]) -> None:
        s = similarity(Counter(a), Counter(b))
        assert 0 <= s <= 1
        assert s == pytest.approx(similarity(Counter(b), Counter(a)))


class TestArguments:
    @pytest.mark.parametrize(
        "kwargs", [{"window_days": 0}, {"min_size": 0}, {"threshold": 0}, {"threshold": 1.5}]
    )
    def test_nonsense_is_refused(self, kwargs: dict) -> None:
        with pytest.raises(ValueError):
            find(water(), now=NOW, **kwargs)


def reference(appeals: list[Appeal], window_days: int, min_size: int, threshold: float) -> set:
    """Single linkage by comparing every pair."""
    live = [a for a in appeals if NOW - timedelta(days=window_days) < a.created_at <= NOW]
    root = {a.id: a.id for a in live}

    def find_root(i: int) -> int:
        while root[i] != i:
            i = root[i]
        return i

    for a, b in combinations(live, 2):
        same_group = (a.category, a.place) == (b.category, b.place)
        if same_group and similarity(Counter(tokens(a.text)), Counter(tokens(b.text))) >= threshold:
            root[find_root(a.id)] = find_root(b.id)
    clusters: dict[int, list[int]] = {}
    for a in live:
        clusters.setdefault(find_root(a.id), []).append(a.id)
    return {tuple(sorted(ids)) for ids in clusters.values() if len(ids) >= min_size}


rows = st.lists(
    st.tuples(
        st.sampled_from(["water", "noise"]),
        st.sampled_from(["V1", "V2"]),
        st.integers(-48, 40 * 24),  # hours ago
        st.sampled_from([*WATER, NOISE, POTHOLE, *CHAIN, "停水", "。"]),
    ),
    max_size=30,
)


class TestAnyInput:
    @settings(max_examples=150, deadline=None)
    @given(
        rows,
        st.integers(1, 45),
        st.integers(1, 4),
        st.sampled_from([0.1, 0.3, 0.5, 1 / math.sqrt(8), 0.9, 1.0]),
    )
    def test_clusters_are_disjoint_components_of_one_group_inside_the_window(
        self, drawn: list, window_days: int, min_size: int, threshold: float
    ) -> None:
        appeals = [
            Appeal(i, c, p, NOW - timedelta(hours=h), text)
            for i, (c, p, h, text) in enumerate(drawn)
        ]
        by_id = {a.id: a for a in appeals}
        found = find(
            appeals, now=NOW, window_days=window_days, min_size=min_size, threshold=threshold
        )
        assert found == sorted(found, key=lambda f: (f.category, f.place, f.ids[0]))
        seen: set[int] = set()
        for spot in found:
            members = [by_id[i] for i in spot.ids]
            assert {(m.category, m.place) for m in members} == {(spot.category, spot.place)}
            start = NOW - timedelta(days=window_days)
            assert all(start < m.created_at <= NOW for m in members)
            assert list(spot.ids) == sorted(spot.ids) and len(spot.ids) >= min_size
            assert seen.isdisjoint(spot.ids)
            seen.update(spot.ids)
            assert len(spot.trend) == math.ceil(window_days / 7)
            assert sum(spot.trend) == len(spot.ids)
        assert {f.ids for f in found} == reference(appeals, window_days, min_size, threshold)


TOPICS = {
    "water": ["停水", "自来水", "供水", "水压", "水管破裂", "没水"],
    "noise": ["噪音", "扰民", "施工", "广场舞", "烧烤店", "夜间"],
    "road": ["道路", "坑洼", "井盖", "积水", "路灯", "破损"],
    "trash": ["垃圾", "清运", "臭味", "堆放", "垃圾桶", "苍蝇"],
}
WHERE = ["本村", "我家", "小区", "村东头", "幸福路", "三组", "老街", "学校门口", "菜市场旁"]
FILLER = ["老人孩子", "生活不便", "晚上", "白天", "连续", "好几天", "出行困难", "物业不管", "下雨"]


def synthetic(rnd: random.Random, n: int, groups: int, topics: list[str]) -> list[Appeal]:
    """Appeals with distinct texts (each pays for jieba) like a county's month of calls."""
    out = []
    for i in range(n):
        g = rnd.randrange(groups)
        words = rnd.sample(TOPICS[rnd.choice(topics)], 3) + rnd.sample(FILLER, 2)
        text = rnd.choice(WHERE) + "，".join(words) + f"，已经{rnd.randint(1, 30)}天，门牌{i}号。"
        out.append(
            Appeal(i, f"c{g % 20}", f"v{g // 20}", NOW - timedelta(days=rnd.uniform(0, 35)), text)
        )
    return out


class TestScale:
    def test_a_storm_of_5000_in_one_group_is_one_hot_spot(self) -> None:
        # The 100,000-appeal timing lives in bench/, not in the suite.
        rnd = random.Random(12345)
        storm = synthetic(rnd, 5_000, 1, ["water"])
        found = find(storm, now=NOW)
        assert found and max(len(f.ids) for f in found) > 4_000
