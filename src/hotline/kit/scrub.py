"""Scrubbing personal data typed into free text before the text leaves the centre (DESIGN.md §8).

``scrub(text, names)`` replaces each of these with ``MASK``:

* every given name wherever it occurs (whitespace between its characters too); for a Chinese
  name of two to four characters also its surname with 先生, 女士 or 小姐 (王先生 for 王伟,
  欧阳女士 for 欧阳娜娜), the way agents write a caller down. A one-character name is masked
  only in those forms, never as a bare character;
* ID-card numbers: 18 digits (17 and a check digit or X) and the old 15, whole or split 6-8-4
  by spaces or dashes;
* mobile numbers: 1[3-9] and nine more digits, spaces or dashes anywhere inside, with an
  optional +86, 0086 or 86 prefix;
* landlines: a 0xx or 0xxx area code, in brackets or not, a dash or space or nothing, a 7-8
  digit number and an optional extension (-8001, 转8001, 分机8001, ext 8001);
* any other run of at least seven digits in groups of three or more joined by one space or dash
  (111-111-1111, 8765 4321, a bank card number), with an extension if it has one.

Kept, since people need them: runs of fewer than seven digits or in shorter groups (12号楼3单元,
3-2-501, 12-3-1502, 12345, 95598, 300元); dates (2026年12月1日, 2026-12-01, 20261201) and 14-digit
numbers that start with one (a ticket's number, 20261126000042); year ranges (2020-2025); amounts
(1200000元, ¥1200000, 1,200,000) and decimals (1234567.89). A date or an amount right after a word
that announces a number (电话, 手机, 联系, 号码 …) is scrubbed anyway. Full-width digits and signs
(１３８, －, （）) count as their ASCII forms.

Spans found by several rules, or touching, become one mask. No database, no domain words: the
caller's name is the caller of the text's ticket, passed by the module that knows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from functools import lru_cache

MASK = "＊＊＊"

# Compound surnames (复姓): the surname of 欧阳娜娜 is 欧阳, not 欧.
COMPOUND_SURNAMES = frozenset(
    """
    欧阳 司马 诸葛 上官 皇甫 尉迟 公孙 慕容 宇文 司徒 夏侯 轩辕 令狐 端木 独孤 钟离 澹台 申屠
    赫连 呼延 东方 长孙 南宫 西门 万俟 闻人 公冶 太史 濮阳 百里 东郭 仲孙 单于 拓跋 完颜
    """.split()
)
HONORIFICS = ("先生", "女士", "小姐")
# What agents type when a caller gives no name: masking them would only blank ordinary words.
_NOT_NAMES = frozenset("匿名 市民 群众 居民 村民 来电人 不详 未知 无 先生 女士 小姐".split())

# One character for one: positions found in the folded text are positions in the original.
_FOLD = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        "－": "-",
        "‐": "-",
        "‑": "-",
        "–": "-",
        "—": "-",
        "\u3000": " ",
        "＋": "+",
        "（": "(",
        "）": ")",
        "Ｘ": "X",
        "ｘ": "x",
    }
)
_SEP = r"[ \-]"
_EXT = r"(?:[ ]?(?:-|转|分机|ext\.?|x|X)[ ]?[0-9]{1,6}(?![0-9]))?"
_ID = re.compile(
    rf"(?<![0-9])[0-9]{{6}}{_SEP}?[0-9]{{8}}{_SEP}?[0-9]{{3}}[0-9Xx](?![0-9])"
    rf"|(?<![0-9])[0-9]{{6}}{_SEP}?[0-9]{{6}}{_SEP}?[0-9]{{3}}(?![0-9])"
)
_MOBILE = re.compile(
    rf"(?<![0-9])(?:\(?(?:\+|00)?86\)?{_SEP}?)?1[3-9](?:{_SEP}?[0-9]){{9}}(?![0-9])"
)
_LANDLINE = re.compile(
    rf"(?<![0-9])(?:\(0[1-9][0-9]{{1,2}}\)|0[1-9][0-9]{{1,2}}){_SEP}?"
    rf"[2-9](?:[0-9]{{6,7}}|[0-9]{{2,3}}{_SEP}[0-9]{{4}})"
    rf"(?![0-9]){_EXT}"
)
_RUN = re.compile(
    rf"(?<![0-9])(?<![0-9]\.)[0-9]{{3,}}(?:{_SEP}[0-9]{{3,}})*(?![0-9]|\.[0-9]){_EXT}"
)
_RUN_DIGITS = 7
# A plain run this long or shorter followed by a unit (or after a currency sign) is an amount.
_AMOUNT_DIGITS = 10
_UNITS = frozenset("元块角分万亿千百米吨斤克升度平亩户人次个件台辆%‰")
_CURRENCY = ("¥", "￥", "$", "RMB", "rmb")
_CUE = re.compile(
    r"(?:电话|手机|号码|联系|致电|拨打|座机|热线|tel|TEL|Tel|微信|QQ|qq)[^0-9]{0,4}\Z"
)


def _year(digits: str) -> bool:
    return len(digits) == 4 and 1900 <= int(digits) <= 2099


def _is_date(digits: str) -> bool:
    if len(digits) != 8 or not _year(digits[:4]):
        return False
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return False
    return True


def _kept_run(folded: str, match: re.Match[str]) -> bool:
    """Whether a digit run is a date, a year range or an amount rather than a number to hide."""
    groups = re.findall(r"[0-9]+", match.group())
    digits = "".join(groups)
    if len(digits) < _RUN_DIGITS:
        return True
    if _CUE.search(folded, max(0, match.start() - 12), match.start()):
        return False
    if len(groups) == 1 and len(digits) in (8, 14) and _is_date(digits[:8]):
        return True  # a date, or a date-stamped serial (20261126000042, a ticket's number)
    if len(groups) > 1 and all(_year(g) for g in groups):
        return True
    if len(groups) == 1 and len(digits) <= _AMOUNT_DIGITS:
        after = folded[match.end() : match.end() + 1]
        before = folded[max(0, match.start() - 3) : match.start()].rstrip()
        return after in _UNITS or before.endswith(_CURRENCY)
    return False


def _forms(name: str) -> list[str]:
    """The ways a name may be written in a text."""
    name = "".join(name.translate(_FOLD).split())
    if not name or name in _NOT_NAMES:
        return []
    for title in HONORIFICS:
        if name.endswith(title) and len(name) > len(title):
            return [name, *_forms(name[: -len(title)])]
    chinese = all("\u4e00" <= ch <= "\u9fff" for ch in name)
    forms = [name] if len(name) >= 2 else []
    if chinese and len(name) <= 4:
        surname = name[:2] if name[:2] in COMPOUND_SURNAMES else name[0]
        forms += [surname + title for title in HONORIFICS]
    return forms


@lru_cache(maxsize=4096)
def _names_pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    forms = {form for name in names for form in _forms(name)}
    if not forms:
        return None
    # Longest first, so that 欧阳娜娜 is not cut short by a shorter form that starts it.
    parts = [r"\s*".join(map(re.escape, f)) for f in sorted(forms, key=lambda f: (-len(f), f))]
    return re.compile("|".join(parts), re.IGNORECASE)


def _spans(text: str, names: tuple[str, ...]) -> list[tuple[int, int]]:
    folded = text.translate(_FOLD)
    found: list[tuple[int, int]] = []
    pattern = _names_pattern(names)
    if pattern is not None:
        found += [m.span() for m in pattern.finditer(folded)]
    for rule in (_ID, _MOBILE, _LANDLINE):
        found += [m.span() for m in rule.finditer(folded)]
    found += [m.span() for m in _RUN.finditer(folded) if not _kept_run(folded, m)]
    return sorted(found)


def scrub(text: str, names: Iterable[str | None] = ()) -> str:
    """``text`` with phone numbers, ID-card numbers and the given names replaced by ``MASK``
    (the module docstring lists what is and is not replaced). ``names`` are the people the text
    must not name (a ticket's caller and merged callers); empty ones are ignored. Any other
    string given there is masked as written, whitespace aside: a caller's phone as they gave it
    (+44 20 7946 0958), in case no rule above knows its shape."""
    if not text:
        return text
    wanted = tuple(sorted({n for n in names if n and n.strip()}))
    out: list[str] = []
    last = 0
    for start, end in _spans(text, wanted):
        if start < last:  # overlapping an earlier span: widen it
            last = max(last, end)
            continue
        if start == last and out and out[-1] == MASK:  # touching: one mask
            last = end
            continue
        out += [text[last:start], MASK]
        last = end
    out.append(text[last:])
    return "".join(out)
