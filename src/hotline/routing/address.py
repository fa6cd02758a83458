"""Route a free-text Chinese address to a place (township, village, grid) by the names it contains.

Places form a tree through ``parent_code``: county (level 0) → township/street (1) →
village/community (2) → grid (3); a higher level is more specific.  ``AddressMatcher.match``
applies these rules, in order:

1. Find every name and alias of every place in the text in one Aho–Corasick pass.  Names shorter
   than 2 characters are ignored (too many false hits).  One name may belong to several places.
2. A hit lying inside a longer hit that overlaps it is dropped: in "东湖花园3号楼" the village
   "东湖" is not reported when the grid alias "东湖花园" is.  Partly overlapping hits are kept.
3. The places named are split into the deepest (highest level found) and the shallower ones.
4. Without shallower places, the deepest ones stand as they are.  With shallower places, each
   deepest place scores the number of its ancestors that were also named; only the top scorers
   are kept.  If every deepest place scores 0 — the text names, say, village A and a grid alias
   that belongs only to village B's grid — the text contradicts itself: the result is ambiguous
   with every named place (deepest and shallower) as candidates.
5. One place left → it is the answer.  More than one → ``ambiguous`` with the codes as sorted
   candidates and no code.  Nothing named → no code, not ambiguous, no candidates.

Known simplification: a deepest place backed by any named ancestor wins even if the text also
names an unrelated, more specific shallower place ("法库县 A村 <grid of B村>" routes to B's grid).

``words`` lists every kept hit as (text, place code), one entry per place sharing the name,
ordered by position in the text.  Matching is exact (no case folding or width normalisation).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick

_MIN_NAME_LENGTH = 2


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    level: int  # 0 county, 1 township/street, 2 village/community, 3 grid
    parent_code: str | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddressMatch:
    code: str | None
    words: tuple[tuple[str, str], ...]
    candidates: tuple[str, ...]
    ambiguous: bool


_NO_MATCH = AddressMatch(code=None, words=(), candidates=(), ambiguous=False)


class AddressMatcher:
    """Immutable multi-pattern matcher over the names and aliases of a set of places."""

    def __init__(self, places: Iterable[Place]) -> None:
        by_code: dict[str, Place] = {}
        for place in places:
            if place.code in by_code:
                raise ValueError(f"duplicate place code {place.code!r}")
            by_code[place.code] = place
        self._level = {code: place.level for code, place in by_code.items()}
        self._ancestors = {code: _ancestors(code, by_code) for code in by_code}

        owners: dict[str, set[str]] = {}
        for place in by_code.values():
            for name in (place.name, *place.aliases):
                name = name.strip()
                if len(name) >= _MIN_NAME_LENGTH:
                    owners.setdefault(name, set()).add(place.code)
        self._automaton = ahocorasick.Automaton()
        for name, owner_codes in owners.items():
            codes = tuple(sorted(owner_codes))
            words = tuple((name, code) for code in codes)
            self._automaton.add_word(name, (len(name), words, codes))
        if owners:
            self._automaton.make_automaton()
        self._size = len(owners)

    def __len__(self) -> int:
        return self._size

    def match(self, text: str) -> AddressMatch:
        """Decide which place ``text`` refers to; see the module docstring for the rules."""
        if not self._size:
            return _NO_MATCH
        hits = [
            (last - length, -length, words, codes)
            for last, (length, words, codes) in self._automaton.iter(text)
        ]
        if not hits:
            return _NO_MATCH
        # By start, longest first: a hit inside an earlier one ends no further than it.  Keys are
        # unique, so the sort never compares beyond (start, -length).
        hits.sort()
        kept: list[tuple[str, str]] = []
        named: set[str] = set()
        reach = -2
        for start, neg_length, words, codes in hits:
            end = start - neg_length
            if end <= reach:
                continue
            reach = end
            kept += words
            named.update(codes)
        return self._decide(named, tuple(kept))

    def _decide(self, named: set[str], words: tuple[tuple[str, str], ...]) -> AddressMatch:
        level = self._level
        deepest_level = max(level[code] for code in named)
        deepest = [code for code in named if level[code] == deepest_level]
        if len(deepest) < len(named):
            ancestors = self._ancestors
            support = {code: len(ancestors[code] & named) for code in deepest}
            best = max(support.values())
            if best == 0:
                return AddressMatch(None, words, tuple(sorted(named)), ambiguous=True)
            deepest = [code for code in deepest if support[code] == best]
        if len(deepest) == 1:
            return AddressMatch(deepest[0], words, (deepest[0],), ambiguous=False)
        return AddressMatch(None, words, tuple(sorted(deepest)), ambiguous=True)


def _ancestors(code: str, by_code: dict[str, Place]) -> frozenset[str]:
    """Codes of every place above ``code`` via ``parent_code``; stops at unknown codes or loops."""
    seen: list[str] = []
    parent = by_code[code].parent_code
    while parent is not None and parent != code and parent not in seen:
        seen.append(parent)
        place = by_code.get(parent)
        parent = place.parent_code if place is not None else None
    return frozenset(seen)
