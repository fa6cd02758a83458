"""People's names among jieba's tagged words (hotspot.persons), and tokens without them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hotline.hotspot.cluster import Appeal, find, tokens
from hotline.hotspot.persons import is_name
from tests.hotspot.test_cluster import NOW

# Names jieba's tagger marks as names, whole or in pieces (欧阳/ns 娜娜/nrt, 刘/zg 秀英/nr).
NAMES = (
    "欧阳娜娜 司马光 诸葛明 上官婉儿 张伟 王芳 李娜 孙丽娟 张晓燕 王建国 李桂英 刘秀英 陈卫东 "
    "赵红梅 周杰 吴敏 李红梅 王淑珍 郭志强 马红霞 高秀英 林小红 李四 王先生 李女士"
).split()
# Ordinary words the dictionary tags nr: the words that tell appeals apart.
ORDINARY = "井盖 胡同 师傅 阳光 文明 顾客 卫浴设备 幸福村 荣誉 温泉".split()


# jieba's dictionary counts of these words.
FREQ = {"李四": 106, "胡同": 1762, "井盖": 6, "娜娜": 16}


class TestIsName:
    def test_a_word_the_dictionary_does_not_know_that_starts_with_a_surname(self) -> None:
        assert is_name("张伟", "nr", ("居民", "n"), FREQ)

    def test_a_rare_dictionary_name_but_not_a_frequent_word(self) -> None:
        assert is_name("李四", "nr", ("", "x"), FREQ)
        assert not is_name("胡同", "nr", ("", "x"), FREQ)

    def test_a_given_name_after_a_surname_but_not_after_a_conjunction(self) -> None:
        assert is_name("娜娜", "nrt", ("欧阳", "ns"), FREQ)
        assert is_name("秀英", "nr", ("刘", "zg"), FREQ)
        assert not is_name("井盖", "nr", ("和", "c"), FREQ)

    def test_a_compound_surname_alone_is_a_name(self) -> None:
        assert is_name("欧阳", "ns", ("居民", "n"), FREQ)
        assert not is_name("西门", "ns", ("小区", "n"), FREQ)

    def test_only_name_tags_count(self) -> None:
        assert not is_name("张伟", "n", ("", "x"), FREQ)
        assert not is_name("井盖", "nr", ("", "x"), FREQ)  # 井 is no common surname

    def test_four_characters_only_after_a_compound_surname(self) -> None:
        assert is_name("上官婉儿", "nr", ("", "x"), FREQ)
        assert not is_name("卫浴设备", "nr", ("", "x"), FREQ)


class TestTokensWithoutNames:
    @pytest.mark.parametrize("name", NAMES)
    def test_a_name_in_the_text_is_no_token(self, name: str) -> None:
        found = tokens(f"居民{name}反映小区停水，{name}说已经三天了")
        assert "停水" in found
        assert [t for t in found if t in name or name in t] == []

    @pytest.mark.parametrize("word", ORDINARY)
    def test_ordinary_words_tagged_as_names_stay(self, word: str) -> None:
        assert word in tokens(f"路灯和{word}都有问题，希望尽快处理")

    def test_the_given_names_go_even_when_jieba_sees_no_name(self) -> None:
        # 于洋 comes out as a place (ns): only being the caller's name takes it out.
        assert "于洋" in tokens("于洋家门口停水")
        assert tokens("于洋家门口停水", ["于洋"]) == ["家门口", "停水"]

    def test_phone_and_id_numbers_go_with_what_they_are_glued_to(self) -> None:
        found = tokens("电话A13812345678，身份证21012419900101123X，户号abc87654321停水")
        assert found == ["电话", "身份证", "户号", "abc", "停水"]


def appeal(i: int, text: str, *names: str) -> Appeal:
    return Appeal(i, "water", "V1", NOW - timedelta(days=i), text, names)


class TestKeywordsNameNoOne:
    def test_the_same_caller_name_in_every_appeal(self) -> None:
        text = "居民欧阳娜娜反映幸福村停水，自来水两天没来，电话13812345678"
        [spot] = find([appeal(i, text, "欧阳娜娜") for i in (1, 2, 3)], now=NOW)
        assert "停水" in spot.keywords
        assert not any("欧阳" in k or "娜娜" in k or "138" in k for k in spot.keywords)

    def test_a_name_typed_in_appeals_whose_callers_are_others(self) -> None:
        text = "居民欧阳娜娜反映幸福村停水，自来水两天没来"
        [spot] = find([appeal(i, text, "李四") for i in (1, 2, 3)], now=NOW)
        assert "停水" in spot.keywords
        assert not any("欧阳" in k or "娜娜" in k for k in spot.keywords)

    def test_a_keyword_naming_another_member_s_caller_is_skipped(self) -> None:
        appeals = [
            appeal(1, "于洋家门口停水，自来水没来", "王芳"),
            appeal(2, "于洋家门口又停水，自来水没来", "张伟"),
            appeal(3, "家门口停水，自来水没来", "于洋"),
        ]
        [spot] = find(appeals, now=NOW)
        assert "停水" in spot.keywords and "于洋" not in spot.keywords
        # Without the third caller's name, 于洋 (a place to jieba) would be a keyword.
        unnamed = [Appeal(a.id, a.category, a.place, a.created_at, a.text) for a in appeals]
        assert "于洋" in find(unnamed, now=NOW)[0].keywords
