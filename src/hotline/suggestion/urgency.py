"""The suggested urgency of an appeal: which listed words (suggestion.words) its text names."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import ahocorasick

from hotline.suggestion import words


@dataclass(frozen=True)
class Urgency:
    level: str  # emergency | utility
    words: list[str]


def _automaton() -> ahocorasick.Automaton:
    auto = ahocorasick.Automaton()
    for level, listed in (("emergency", words.EMERGENCY), ("utility", words.UTILITY)):
        for word in listed:
            auto.add_word(word, (level, word))
    auto.make_automaton()
    return auto


_AUTO = _automaton()


def suggest(text: str) -> Urgency | None:
    """``emergency`` when any emergency word occurs, else ``utility`` when an outage word does,
    with every word found in the order of the text; None when the text names neither."""
    folded = unicodedata.normalize("NFKC", text)
    found: dict[str, list[str]] = {"emergency": [], "utility": []}
    for _end, (level, word) in _AUTO.iter(folded):
        if word not in found[level]:
            found[level].append(word)
    for level in ("emergency", "utility"):
        # 煤气味 inside 闻到煤气味 is one finding, named by the longer word.
        kept = [w for w in found[level] if not any(w != o and w in o for o in found[level])]
        if kept:
            return Urgency(level, kept)
    return None
