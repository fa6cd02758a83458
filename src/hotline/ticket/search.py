"""Full-text search over a ticket's content and reply (GET /v1/tickets?q=).

Chinese has no spaces, so the words are jieba's, cut once when the text is written and kept in
``ticket.search_words`` as one space-separated string; the database then only has to match
whole words. PostgreSQL keeps ``to_tsvector('simple', search_words)`` in a stored generated
column with a GIN index (the migration; the ``simple`` configuration lower-cases and does not
stem, so a word is found as it was cut); SQLite keeps an FTS5 table over the same column,
filled by triggers.

The stored words are jieba's search cut (``cut_for_search``: 安全隐患 also as 安全 and 隐患), every
Chinese character alone and every pair of neighbouring ones (as CJK analysers index). A query is
cut into words by jieba's precise cut, and each word is asked for as its pairs (AND): a word is
found whether the text had it alone, inside a longer word, or cut otherwise by jieba (路灯不亮 is
cut 路 / 灯不亮), and a query of one character (水) finds every text with that character.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import jieba
from sqlalchemy import event, inspect

from hotline.ticket.models import Ticket

jieba.setLogLevel(60)  # its "Building prefix dict" lines are not our log

# Longest query accepted, in characters (the schema says so too).
MAX_QUERY = 200


_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[^\W_\u3400-\u4dbf\u4e00-\u9fff]+")


def _chinese(run: str) -> bool:
    return "\u3400" <= run[0] <= "\u9fff"


def _pieces(text_: str, *, stored: bool) -> Iterable[str]:
    """Runs of Chinese as their characters (stored only) and pairs of neighbours; any other run
    of letters or digits as it is, lower-cased."""
    for run in _RUN.findall(text_):
        if not _chinese(run):
            yield run.lower()
        elif len(run) == 1 or stored:
            yield from run
        if _chinese(run):
            yield from (run[i : i + 2] for i in range(len(run) - 1))


def _kept(word: str) -> bool:
    return any(unicodedata.category(c)[0] in "LN" for c in word)


def words(*texts: str | None) -> str:
    """The stored words of these texts: jieba's search cut, every Chinese character and every
    pair of neighbouring ones, other runs of letters or digits; lower-cased, each once."""
    seen: dict[str, None] = {}
    for text_ in texts:
        if not text_:
            continue
        for word in jieba.cut_for_search(text_):
            if _kept(word):
                seen.setdefault(word.strip().lower(), None)
        seen.update(dict.fromkeys(_pieces(text_, stored=True)))
    return " ".join(seen)


def query_words(q: str) -> list[str]:
    """The terms a query asks for: each word of jieba's precise cut as its pairs of
    neighbouring characters (a word of one character as itself), so a word is found even where
    jieba cut the stored text differently (路灯不亮 as 路 / 灯不亮)."""
    found: dict[str, None] = {}
    for word in jieba.cut(q):
        if _kept(word):
            found.update(dict.fromkeys(_pieces(word.strip(), stored=False)))
    return list(found)


def reply_text(reply: dict[str, Any] | None) -> str | None:
    text_ = (reply or {}).get("text")
    return text_ if isinstance(text_, str) else None


def of(ticket: Ticket) -> str:
    """``search_words`` for the ticket as it stands: its content and its reply's text."""
    return words(ticket.content, reply_text(ticket.reply))


@event.listens_for(Ticket, "before_insert")
def _on_insert(_mapper: Any, _connection: Any, ticket: Ticket) -> None:
    ticket.search_words = of(ticket)


@event.listens_for(Ticket, "before_update")
def _on_update(_mapper: Any, _connection: Any, ticket: Ticket) -> None:
    state = inspect(ticket)
    if state.attrs.content.history.has_changes() or state.attrs.reply.history.has_changes():
        ticket.search_words = of(ticket)
