"""Scrubbing typed personal data (kit.scrub): what must go, what must stay."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.kit.scrub import MASK, scrub

M = MASK


class TestMobileNumbers:
    @pytest.mark.parametrize(
        "text",
        [
            "13812345678",
            "19912345678",
            "138 1234 5678",
            "138-1234-5678",
            "1381234 5678",
            "+8613812345678",
            "+86 138 1234 5678",
            "+86-138-1234-5678",
            "0086-13812345678",
            "0086 138 1234 5678",
            "86-13812345678",
            "(+86)13812345678",
            "１３８１２３４５６７８",  # typed with a full-width input method
            "１３８－１２３４－５６７８",
        ],
    )
    def test_every_way_of_writing_one_is_masked_whole(self, text: str) -> None:
        assert scrub(f"联系电话{text}，请回电") == f"联系电话{M}，请回电"

    def test_in_a_caller_s_sentence(self) -> None:
        text = "我手机号是13912345678有事打我电话，或者打我爱人的15800001111"
        assert scrub(text) == f"我手机号是{M}有事打我电话，或者打我爱人的{M}"

    def test_right_against_latin_letters(self) -> None:
        assert scrub("Tel13812345678") == f"Tel{M}"
        assert scrub("13812345678abc") == f"{M}abc"


class TestLandlines:
    @pytest.mark.parametrize(
        "text",
        [
            "024-87654321",
            "02487654321",
            "024 87654321",
            "(024)87654321",
            "（024）8765 4321",
            "(024) 8765-4321",
            "0411-8888666",
            "0411 8888 6666",
            "010-12345678",
            "024-87654321-8001",
            "024-87654321转8001",
            "024-87654321 转 8001",
            "02487654321分机12",
            "87654321",
            "8765-4321",
            "8765432",
            "87654321转8001",
        ],
    )
    def test_with_or_without_area_code_and_extension(self, text: str) -> None:
        assert scrub(f"座机{text}。") == f"座机{M}。"


class TestOtherLongDigitRuns:
    @pytest.mark.parametrize(
        "text",
        [
            "111-111-1111",
            "400-123-4567",
            "400 888 8888",
            "1234567",
            "6222021234567890123",  # a bank card
            "6222 0212 3456 7890 123",
            "123456789",  # a QQ number
            "013812345678",  # a mobile dialled with a leading 0
        ],
    )
    def test_seven_digits_or_more_are_masked(self, text: str) -> None:
        assert scrub(f"号码{text}在这") == f"号码{M}在这"


class TestIdCards:
    @pytest.mark.parametrize(
        "text",
        [
            "210124199001011234",
            "21012419900101123X",
            "21012419900101123x",
            "２１０１２４１９９００１０１１２３Ｘ",
            "210124 19900101 123X",
            "210124-19900101-1234",
            "210124900101123",  # the old 15 digits
            "210124 900101 123",
        ],
    )
    def test_eighteen_and_fifteen_digit_numbers(self, text: str) -> None:
        assert scrub(f"身份证号{text}，") == f"身份证号{M}，"

    def test_an_id_followed_by_a_unit_character_is_still_masked(self) -> None:
        assert scrub("证件210124199001011234号") == f"证件{M}号"
        assert scrub("证件210124900101123号") == f"证件{M}号"


class TestNames:
    def test_the_caller_s_name_and_the_way_agents_write_it(self) -> None:
        text = "居民欧阳娜娜反映，欧阳女士家中停水，欧阳娜娜的邻居也停水"
        assert scrub(text, ["欧阳娜娜"]) == f"居民{M}反映，{M}家中停水，{M}的邻居也停水"

    def test_surname_forms_of_a_two_character_name(self) -> None:
        assert scrub("王先生来电反映，王伟说王女士不在", ["王伟"]) == f"{M}来电反映，{M}说{M}不在"

    def test_a_caller_recorded_as_surname_and_title(self) -> None:
        assert scrub("王先生说王女士也看见了", ["王先生"]) == f"{M}说{M}也看见了"

    def test_a_one_character_name_is_masked_only_with_a_title(self) -> None:
        assert scrub("王家村王先生反映", ["王"]) == f"王家村{M}反映"

    def test_whitespace_inside_a_name(self) -> None:
        assert scrub("来电人 欧阳 娜娜 称", ["欧阳娜娜"]) == f"来电人 {M} 称"

    def test_latin_names_ignore_case(self) -> None:
        assert scrub("caller JOHN SMITH says", ["John Smith"]) == f"caller {M} says"

    def test_several_names_and_empty_ones(self) -> None:
        text = "李四和张三都反映了"
        assert scrub(text, ["李四", None, "", "  ", "张三"]) == f"{M}和{M}都反映了"

    def test_placeholders_agents_type_for_no_name_are_not_masked(self) -> None:
        text = "市民反映，居民都很着急，匿名"
        assert scrub(text, ["市民", "居民", "匿名"]) == text

    def test_other_people_s_names_stay_unless_given(self) -> None:
        assert scrub("张三反映李四家漏水", ["张三"]) == f"{M}反映李四家漏水"

    def test_any_other_string_given_is_masked_as_written(self) -> None:
        # A foreign number no rule knows whole: given with the names, it goes whole.
        assert scrub("请回电+44 20 7946 0958") == f"请回电+44 20 {M}"
        assert scrub("请回电+44 20 7946 0958", ["+44 20 7946 0958"]) == f"请回电{M}"

    def test_a_name_beside_its_phone_is_one_mask(self) -> None:
        assert scrub("欧阳娜娜13812345678", ["欧阳娜娜"]) == M


class TestWhatPeopleNeedStays:
    @pytest.mark.parametrize(
        "text",
        [
            "东湖花园12号楼3单元501室",
            "3-2-501",
            "12-3-1502室",
            "家住12-3-1502",
            "幸福路188号",
            "2026年12月1日",
            "2026-12-01 10:30",
            "2026.12.01",
            "20261201",
            "2020-2025年",
            "2019-2020",
            "300元",
            "1200000元",
            "1200000块",
            "¥1200000",
            "￥ 1200000",
            "1,200,000",
            "1234567.89元",
            "面积120.5平方米",
            "12345热线",
            "拨打110、120、119",
            "95598",
            "96110",
            "一共3500户",
            "工单20261126000042未办结",  # a ticket's number: the date and the id
            "PM2.5超过300",
            "第3次反映",
            "10:00-17:30",
            "",
        ],
    )
    def test_ordinary_numbers(self, text: str) -> None:
        assert scrub(text, ["欧阳娜娜"]) == text

    def test_a_date_or_amount_announced_as_a_number_is_masked(self) -> None:
        assert scrub("电话20261201") == f"电话{M}"
        assert scrub("手机号码：1200000元") == f"手机号码：{M}元"

    def test_the_rest_of_the_text_is_untouched(self) -> None:
        text = "村口道路有一个大坑，雨天积水，电话13812345678，身份证210124199001011234。"
        assert scrub(text) == f"村口道路有一个大坑，雨天积水，电话{M}，身份证{M}。"


digits_free = st.text(st.characters(blacklist_categories=("Nd",)), max_size=40)
mobiles = st.from_regex(r"\A1[3-9][0-9]{9}\Z")


class TestAnyText:
    @given(digits_free, mobiles, digits_free)
    def test_a_mobile_never_survives(self, before: str, mobile: str, after: str) -> None:
        assert mobile not in scrub(before + mobile + after)

    @given(st.text(max_size=60))
    def test_scrubbing_twice_changes_nothing_more(self, text: str) -> None:
        once = scrub(text, ["欧阳娜娜"])
        assert scrub(once, ["欧阳娜娜"]) == once

    @given(st.text(st.characters(blacklist_categories=("Nd",)), max_size=60))
    def test_text_without_digits_or_names_is_unchanged(self, text: str) -> None:
        assert scrub(text) == text

    @given(st.text("0123456789１３８ -－元年号X.(", max_size=60))
    def test_eleven_digits_in_a_row_are_left_only_as_a_dated_serial_or_a_decimal(
        self, text: str
    ) -> None:
        left = scrub(text).translate({0xFF10 + i: str(i) for i in range(10)})
        for run in re.findall(r"(?<![0-9])(?<![0-9]\.)[0-9]{11,}(?!\.[0-9])", left):
            assert re.fullmatch(r"(19|20)[0-9]{12}", run), (text, left)
