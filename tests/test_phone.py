"""kit.phone: Chinese numbers normalised, any other kept as given where it must be, all masked."""

from __future__ import annotations

import pytest

from hotline.kit import phone as phones


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0086-13812345678", "13812345678"),
        ("024-87654321", "024-87654321"),
        ("02487654321", "024-87654321"),
        ("0245-7654321-12", "0245-7654321-12"),
    ],
)
def test_a_chinese_number_is_normalised_also_when_kept_as_given(raw: str, normal: str) -> None:
    assert phones.normalise(raw) == normal
    assert phones.as_given(raw) == normal


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("111-111-1111", "111-111-1111"),
        ("  +1  (202) 555-0100 ", "+1 (202) 555-0100"),
        ("12345", "12345"),
        ("9" * 40, "9" * phones.MAX_LENGTH),
    ],
)
def test_any_other_number_is_refused_by_normalise_and_kept_by_as_given(raw: str, kept: str) -> None:
    with pytest.raises(ValueError):
        phones.normalise(raw)
    assert phones.as_given(raw) == kept


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("024-87654321", "024-****4321"),
        ("024-87654321-12", "024-****2112"),
        ("111-111-1111", "****1111"),
        ("+1 (202) 555-0100", "****0100"),
        ("12345", "****"),
    ],
)
def test_masking_keeps_at_most_the_area_code_and_the_last_four(phone: str, masked: str) -> None:
    assert phones.mask(phone) == masked
