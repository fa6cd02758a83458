"""The demo county's people and catalogue: fictional names, deterministic."""

from __future__ import annotations

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = [
    "建华",
    "秀英",
    "志刚",
    "桂兰",
    "国强",
    "玉梅",
    "海燕",
    "晓东",
    "丽华",
    "春生",
    "凤霞",
    "宏伟",
    "淑珍",
    "长青",
    "雪梅",
    "永利",
    "金凤",
    "德胜",
    "红霞",
    "立新",
]


def person_name(n: int) -> str:
    """The n-th fictional name; distinct for n below len(SURNAMES) * len(GIVEN)."""
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)]


def phone(n: int) -> str:
    """A fictional mobile number in the 139 0000 xxxx range."""
    return f"1390000{n:04d}"


# Department-duty matters (category → department code suffix) and the enterprise line.
CATEGORY_RULES = {
    "utility.water": "WATER",
    "utility.power": "POWER",
    "utility.gas": "GAS",
    "utility.heating": "HEAT",
    "housing.certificate": "HOUSING",
    "market.food": "MARKET",
    "market.price": "MARKET",
    "market.consumer": "MARKET",
    "environment.pollution": "ECOLOGY",
}
ENTERPRISE_LINE_DEPARTMENT = "BUSINESS"
# Matters whose reply needs an `after` photo (catalogue data): a removed illegal structure, a
# felled or replanted tree.
AFTER_PHOTO_CATEGORIES = ("urban.construction", "urban.greening")
MEMBERS_PER_DEPARTMENT = 2
