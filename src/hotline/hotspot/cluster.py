"""Finding hot spots (类案): similar tickets of one category piling up in one place.

The rules:

* Only appeals with ``now - window_days < created_at <= now`` count.
* Appeals are grouped by (category, place); nothing ever links across groups.
* Within a group, appeals are clustered by **single linkage**: two appeals are linked when the
  cosine similarity of their token counts is at least ``threshold``, and a cluster is a connected
  component of that relation (an appeal joins when it is similar enough to *any* member), so
  clusters can chain: A like B and B like C put A with C. The result does not depend on the order
  of the input. ``threshold`` is in (0, 1]; a text with no tokens left links with nothing.
* A cluster with at least ``min_size`` members is a hot spot. Output is sorted by
  (category, place, first id).
* Keywords: tokens ranked by their summed count over the members times a smoothed inverse
  document frequency over all appeals in the window, ``ln((1 + N) / (1 + df)) + 1``; ties by
  token; at most five.
* Trend: member counts per 7-day week, weeks aligned to end at ``now``, oldest first; there are
  ``ceil(window_days / 7)`` weeks and the oldest may be partial.

Tokens are jieba words without punctuation, numbers, single characters, stop words and people's
names (hotspot.persons), cut from the text once kit.scrub has taken out phone and ID-card numbers
and the appeal's own callers' names: no keyword can name a caller (DESIGN.md §8). A keyword that
names a caller of another member of the cluster is skipped too.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import jieba
import jieba.posseg

from hotline.hotspot import persons
from hotline.kit.scrub import scrub

KEYWORDS = 5
# Beyond this many shared tokens every pair is compared; it bounds the cost of the filter.
MAX_SHARED = 16

# Single characters (的, 了, 我 ...) need no entry: every one-character token is dropped.
STOP_WORDS = frozenset(
    """
    一个 没有 自己 我们 他们 你们 她们 已经 还是 问题 反映 市民 来电 诉求 情况 希望 处理 解决
    相关 部门 现在 目前 一直 什么 怎么 这个 那个 这些 那些 这样 那样 因为 所以 但是 而且 如果
    可以 能够 非常 尽快 要求 表示 进行 存在 导致 造成 时候 这里 那里 您好 你好 谢谢 工作人员
    核实 协调 督促 落实 联系 回复 答复 多次 一下 还有 没人 给予 及时 有关 方面 是否 以及 由于
    请问 麻烦
    """.split()
)


@dataclass(frozen=True)
class Appeal:
    id: int
    category: str
    place: str  # the village (or grid) code the ticket lies in
    created_at: datetime  # aware
    text: str
    names: tuple[str, ...] = ()  # the ticket's callers (merged callers too): never a token


@dataclass(frozen=True)
class Found:
    category: str
    place: str
    ids: tuple[int, ...]  # sorted member ticket ids
    first_seen: datetime
    last_seen: datetime
    keywords: tuple[str, ...]  # up to five most characteristic words, for a title
    trend: tuple[int, ...]  # members per week over the window, oldest first


@functools.cache
def _load_jieba() -> None:
    # The dictionary takes ~0.5 s to load, so only the first tokenisation pays for it.
    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()


def warm() -> None:
    """Load the tokeniser now (its dictionary takes about half a second): the clustering
    process of a server does it as it starts (hotspot.runner)."""
    _load_jieba()


def _is_word(token: str) -> bool:
    return (
        len(token) > 1
        and any(ch.isalnum() for ch in token)
        and not all(ch.isnumeric() or ch == "." for ch in token)
        and token not in STOP_WORDS
    )


def tokens(text: str, names: Iterable[str] = ()) -> list[str]:
    """The words of ``text`` that can tell one appeal from another, in order; never one of
    ``names``, a phone or ID-card number, or what jieba's tags mark as a person's name."""
    _load_jieba()
    out = []
    previous = ("", "x")
    for pair in jieba.posseg.lcut(scrub(text, names)):
        word = pair.word.strip()
        if _is_word(word) and not persons.is_name(word, pair.flag, previous, jieba.dt.FREQ):
            out.append(word)
        previous = (word, pair.flag)
    return out


def _dot(a: Counter[str], b: Counter[str]) -> int:
    if len(a) > len(b):
        a, b = b, a
    total = 0
    for t, c in a.items():  # a plain loop: this is the innermost step of clustering
        if t in b:
            total += c * b[t]
    return total


def _cosine(a: Counter[str], b: Counter[str], squares_a: int, squares_b: int) -> float:
    # Integer sums and one rounding at the end: identical texts come out at exactly 1.0.
    return _dot(a, b) / math.sqrt(squares_a * squares_b) if squares_a and squares_b else 0.0


def _squares(counts: Counter[str]) -> int:
    return sum(c * c for c in counts.values())


def similarity(a: Counter[str], b: Counter[str]) -> float:
    """Cosine similarity of two token counts, 0..1 (0 when either is empty)."""
    return min(1.0, _cosine(a, b, _squares(a), _squares(b)))


def _components(bags: list[Counter[str]], threshold: float) -> list[int]:
    """Single-linkage components of token counts; returns each item's root.

    Comparing every pair is quadratic, so candidates are filtered first, with Python ints as
    bitsets of items so that the filtering runs in C. Two texts sharing ``m`` tokens have
    similarity at most ``m * top_a * top_b``, ``top`` being the largest count over the norm. A
    text whose ``sum(c * c) // max(c) ** 2`` is ``e`` has ``top <= 1 / sqrt(e)``, so text ``a``
    need only be compared with the texts of size ``e`` that share ``ceil(threshold * sqrt(e) /
    top_a)`` tokens with it. Once a text joins a component, the rest of that component is never
    compared with it again. Together these keep a storm of near-duplicates (停水 calls) close to
    linear, and spare unrelated texts that only share common words (小区, 物业) from being
    compared pair by pair.
    """
    squares = [_squares(bag) for bag in bags]
    parent = list(range(len(bags)))
    members: dict[int, int] = {}  # root -> bitset, for roots of more than one item
    postings: dict[str, int] = {}  # token -> bitset of the items seen so far that have it
    sizes: dict[int, int] = {}  # e -> bitset of the items seen so far of that size

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, bag in enumerate(bags):
        if not bag:
            continue
        top = max(bag.values()) / math.sqrt(squares[i])
        # Rounded down a hair, so that rounding can only add candidates, never lose one.
        need = {e: math.ceil(threshold * math.sqrt(e) / top * (1 - 1e-9)) for e in sizes}
        depth = min(max(need.values(), default=1), MAX_SHARED)
        shared = [0] * (depth + 1)  # shared[m]: items sharing at least m tokens with this one
        for t in bag:
            having = postings.get(t, 0)
            for m in range(depth, 1, -1):
                shared[m] |= shared[m - 1] & having
            shared[1] |= having
        candidates = 0
        for e, items in sizes.items():
            candidates |= items & shared[max(1, min(need[e], depth))]
        while candidates:
            j = (candidates & -candidates).bit_length() - 1
            if _cosine(bag, bags[j], squares[i], squares[j]) < threshold:
                candidates &= candidates - 1
                continue
            ri, rj = root(i), root(j)
            joined = members.pop(ri, 1 << ri) | members.pop(rj, 1 << rj)
            parent[rj] = ri
            members[ri] = joined
            candidates &= ~joined
        for t in bag:
            postings[t] = postings.get(t, 0) | 1 << i
        e = squares[i] // max(bag.values()) ** 2
        sizes[e] = sizes.get(e, 0) | 1 << i
    return [root(i) for i in range(len(bags))]


def _keywords(
    counts: Counter[str], df: Counter[str], total: int, names: set[str]
) -> tuple[str, ...]:
    score = {t: c * (math.log((1 + total) / (1 + df[t])) + 1) for t, c in counts.items()}
    ranked = (t for t in sorted(score, key=lambda t: (-score[t], t)) if scrub(t, names) == t)
    return tuple(itertools.islice(ranked, KEYWORDS))


def find(
    appeals: Iterable[Appeal],
    *,
    now: datetime,
    window_days: int = 30,
    min_size: int = 3,
    threshold: float = 0.3,
) -> list[Found]:
    """The hot spots among ``appeals`` as of ``now``; see the module docstring for the rules."""
    if window_days < 1 or min_size < 1:
        raise ValueError("window_days and min_size must be at least 1")
    if not 0 < threshold <= 1:
        # At 0 every pair would link, even pairs with no word in common.
        raise ValueError("threshold must be in (0, 1]")
    start = now - timedelta(days=window_days)
    # Repeated calls are often word for word the same, and jieba is the slow part.
    bags: dict[tuple[str, tuple[str, ...]], Counter[str]] = {}
    df: Counter[str] = Counter()
    total = 0
    groups: defaultdict[tuple[str, str], list[tuple[Appeal, Counter[str]]]] = defaultdict(list)
    for appeal in appeals:
        if start < appeal.created_at <= now:
            key = (appeal.text, appeal.names)
            bag = bags.get(key)
            if bag is None:
                bag = bags[key] = Counter(tokens(appeal.text, appeal.names))
            df.update(bag.keys())
            total += 1
            groups[appeal.category, appeal.place].append((appeal, bag))

    weeks = math.ceil(window_days / 7)
    found = []
    for (category, place), group in groups.items():
        if len(group) < min_size:
            continue
        group.sort(key=lambda pair: pair[0].id)
        roots = _components([bag for _, bag in group], threshold)
        clusters: defaultdict[int, list[tuple[Appeal, Counter[str]]]] = defaultdict(list)
        for pair, r in zip(group, roots, strict=True):
            clusters[r].append(pair)
        for cluster in clusters.values():
            if len(cluster) < min_size:
                continue
            trend = [0] * weeks
            counts: Counter[str] = Counter()
            names: set[str] = set()
            for appeal, bag in cluster:
                trend[weeks - 1 - (now - appeal.created_at).days // 7] += 1
                counts.update(bag)
                names.update(appeal.names)
            times = [appeal.created_at for appeal, _ in cluster]
            found.append(
                Found(
                    category=category,
                    place=place,
                    ids=tuple(appeal.id for appeal, _ in cluster),
                    first_seen=min(times),
                    last_seen=max(times),
                    keywords=_keywords(counts, df, total, names),
                    trend=tuple(trend),
                )
            )
    found.sort(key=lambda f: (f.category, f.place, f.ids[0]))
    return found
