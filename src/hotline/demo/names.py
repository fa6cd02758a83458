"""The demo county's places: fictional, but named the way Faku County (法库县) names them.

Rules the data keeps (tests/demo/test_county.py checks them):

* ``LAYOUT`` draws the 60 grids, 10 columns west to east by 6 rows north to south; each
  letter is a village, and every village and every township is one contiguous block.
* Grids of a village are numbered in reading order (第一网格, 第二网格, …).
* When one place's name or alias occurs inside another's, the first place is an ancestor
  of the second (北关 inside 北关社区第一网格), so a match on the longer text is never
  contradicted; the one exception is ``SHARED_ALIAS``, deliberately on two grids in
  different villages, for demonstrating ambiguous matches.
"""

from __future__ import annotations

from typing import NamedTuple

COUNTY_CODE = "210124"
COUNTY_NAME = "法库县"
COUNTY_ALIASES = ("法库",)

SHARED_ALIAS = "幸福小区"


class Township(NamedTuple):
    code: str  # the last three digits of the 9-digit code
    name: str
    aliases: tuple[str, ...]


class Village(NamedTuple):
    township: str  # Township.code
    code: str  # last three digits: 001-199 for communities (社区), 201+ for villages (村)
    name: str
    aliases: tuple[str, ...]
    grids: tuple[tuple[str, ...], ...]  # aliases of each grid, in reading order


TOWNSHIPS = (
    Township("100", "法库镇", ("城关镇",)),
    Township("101", "大孤家子镇", ("大孤家子", "大孤")),
    Township("102", "三面船镇", ("三面船",)),
    Township("103", "秀水河子镇", ("秀水河子", "秀水河")),
    Township("104", "叶茂台镇", ("叶茂台",)),
    Township("105", "依牛堡子镇", ("依牛堡子", "依牛堡")),
)

VILLAGES = {
    "a": Village(
        "100",
        "001",
        "北关社区",
        ("北关", "北门外"),
        (("新华小区", "新华路"), ("锦绣家园",), (SHARED_ALIAS, "北环路")),
    ),
    "b": Village(
        "100",
        "002",
        "东湖社区",
        ("东湖", "东湖公园"),
        (("东湖花园",), ("湖滨小区", "滨湖路"), ("金色家园",)),
    ),
    "c": Village("100", "003", "南关社区", ("南关", "南门外"), (("南关小区",), ("龙山小区",))),
    "d": Village("100", "004", "西街社区", ("西街", "老西街"), (("西街小区",), ("民主街",))),
    "s": Village(
        "101",
        "201",
        "大孤家子村",
        ("大孤家子屯",),
        (("站前小区",), ("供销社家属楼",), ("粮库",)),
    ),
    "t": Village(
        "101", "202", "八家子村", ("八家子",), (("八家子东屯",), ("八家子西屯",), ("小河沿",))
    ),
    "u": Village("101", "203", "后营子村", ("后营子",), (("后营子屯",), ("前营子",), ("砖厂",))),
    "e": Village(
        "102",
        "201",
        "三面船村",
        ("三面船屯",),
        (("船城小区",), (SHARED_ALIAS,), ("三面船中学",)),
    ),
    "f": Village(
        "102", "202", "马家屯村", ("马家屯",), (("马家屯东街",), ("马家坨子",), ("辽河堤",))
    ),
    "g": Village(
        "102",
        "203",
        "王家窝堡村",
        ("王家窝堡", "王窝堡"),
        (("王家窝堡北屯",), ("王家窝堡南屯",), ("养殖小区",)),
    ),
    "h": Village(
        "102", "204", "石桥子村", ("石桥子", "石桥"), (("石桥南屯",), ("石桥北屯",), ("采石场",))
    ),
    "i": Village("102", "205", "河东村", ("河东",), (("河东屯",), ("渡口",), ("河东工业园",))),
    "m": Village(
        "103", "201", "秀水河子村", ("秀水河子屯",), (("秀水小区",), ("秀水河子中心街",), ("老街",))
    ),
    "n": Village(
        "103", "202", "老营子村", ("老营子",), (("老营子东屯",), ("老营子西屯",), ("苗圃",))
    ),
    "o": Village("103", "203", "红旗村", ("红旗",), (("红旗屯",), ("红旗水库",), ("四家子",))),
    "p": Village(
        "104", "201", "叶茂台村", ("叶茂台屯",), (("圣迹寺",), ("叶茂台中学",), ("台上屯",))
    ),
    "q": Village("104", "202", "西山村", ("西山",), (("西山屯",), ("西山林场",), ("石佛寺",))),
    "r": Village("104", "203", "柳树屯村", ("柳树屯",), (("柳树屯东街",), ("柳河湾",))),
    "j": Village(
        "105", "201", "依牛堡子村", ("依牛堡子屯",), (("依牛堡子中心街",), ("牛场",), ("东大岗",))
    ),
    "k": Village(
        "105", "202", "新立屯村", ("新立屯",), (("新立屯一队",), ("新立屯二队",), ("新立屯三队",))
    ),
    "l": Village("105", "203", "朝阳村", ("朝阳",), (("朝阳屯",), ("朝阳水库",), ("北大岗",))),
}

LAYOUT = (
    "pppjjjksss",
    "qrrlllkttt",
    "qqaaabkuuu",
    "mmddbbeeef",
    "nmocchgggf",
    "nnoohhiiif",
)
