"""Opaque keyset cursors: base64url JSON that callers must not build themselves.

A cursor names the list it pages (``kind``), so one list's cursor given to another is refused
rather than silently read as a position in the wrong order.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from hotline.errors import Unprocessable

Row = TypeVar("Row")


def encode(values: list[Any], *, kind: str) -> str:
    raw = json.dumps({"k": kind, "v": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _plain(value: Any) -> bool:
    """A string or integer the database can take as a bound value."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    # Not printable: NUL (PostgreSQL refuses it in text), a lone surrogate (not UTF-8) …
    return isinstance(value, str) and value.isprintable()


MALFORMED, MALFORMED_EN = "翻页游标无效，请使用上一页返回的游标", "Malformed cursor"


def decode(cursor: str, *, kind: str, arity: int, field: str = "cursor") -> list[Any]:
    """Decode a cursor made by ``encode`` for ``kind``; anything else is a 422 naming ``field``."""
    try:
        if len(cursor) > 512:
            raise ValueError("too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        doc = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError) as exc:
        raise Unprocessable(MALFORMED, en=MALFORMED_EN, field=field) from exc
    values = doc.get("v") if isinstance(doc, dict) and doc.get("k") == kind else None
    if not isinstance(values, list) or len(values) != arity or not all(map(_plain, values)):
        raise Unprocessable(MALFORMED, en=MALFORMED_EN, field=field)
    return values


def page(
    rows: Sequence[Row], limit: int, *, kind: str, key: Callable[[Row], list[Any]]
) -> tuple[Sequence[Row], str | None]:
    """A page from ``limit + 1`` rows read in key order: the first ``limit``, and the cursor
    to the rest (``key`` of the last one kept), or None when there is no rest."""
    kept = rows[:limit]
    return kept, encode(key(kept[-1]), kind=kind) if len(rows) > limit and kept else None


def instant_and_id(cursor: str | None, *, kind: str) -> tuple[datetime, int] | None:
    """The (aware instant, id) a newest-first keyset cursor of ``kind`` points after; None
    without a cursor. A naive time cannot be compared with stored instants: malformed too."""
    if cursor is None:
        return None
    at, row_id = decode(cursor, kind=kind, arity=2)
    try:
        after = (datetime.fromisoformat(at), int(row_id))
    except (TypeError, ValueError) as exc:
        raise Unprocessable(MALFORMED, en=MALFORMED_EN, field="cursor") from exc
    if after[0].tzinfo is None:
        raise Unprocessable(MALFORMED, en=MALFORMED_EN, field="cursor")
    return after
