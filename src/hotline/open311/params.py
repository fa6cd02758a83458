"""The parameters of GET requests, as the spec words them.

- Blank counts as absent (the spec's "Optional Arguments").
- ``service_request_id`` (a comma list, at most 200) overrides every other argument.
- ``start_date``/``end_date`` bound ``requested_datetime``; without either the window is the last
  90 days, with one it reaches 90 days from it, and a window over 90 days is a 400.
- ``status`` is a comma list of ``open`` and ``closed``; ``closed`` is our ``closed``, every other
  state is ``open``.
- Up to 1,000 requests by default, as the spec says ("the first 1000"); beyond the spec:
  ``updated_after`` (within the window) and ``page``/``page_size`` (at most 1,000), newest first.
- A parameter given twice is a 400 naming it (the spec's lists are comma lists): a client that
  sends ``status=open&status=closed`` must not silently get one of the two.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta

from hotline.errors import Unprocessable
from hotline.open311.service import Filters, ticket_id

SPAN = timedelta(days=90)
MAX_IDS = 200
MAX_PAGE_SIZE = 1000  # also the default: the spec's "first 1000"
STATUSES = frozenset({"open", "closed"})
# An unescaped "+" in a query string arrives as a space: "…T00:00:00 08:00" meant "+08:00".
_SPACED_OFFSET = re.compile(r" (\d{2}:?\d{2})$")


def once(query: Iterable[tuple[str, str]]) -> None:
    """Refuse a query string that gives one parameter twice."""
    seen: set[str] = set()
    for name, _ in query:
        if name in seen:
            raise Unprocessable(
                "重复出现；请合并为一个逗号分隔的列表",
                en="was given more than once; send one comma list",
                field=name,
            )
        seen.add(name)


def _present(raw: str | None) -> str | None:
    return raw.strip() if raw is not None and raw.strip() else None


def _list(raw: str | None) -> list[str] | None:
    parts = [p.strip() for p in (raw or "").split(",") if p.strip()]
    return parts or None


def _time(raw: str | None, field: str) -> datetime | None:
    text = _present(raw)
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(_SPACED_OFFSET.sub(r"+\1", text))
    except ValueError:
        raise Unprocessable(
            "不是 ISO 8601 时间，如 2026-06-01T00:00:00+08:00",
            en="not an ISO 8601 date-time such as 2026-06-01T00:00:00+08:00",
            field=field,
        ) from None
    if value.tzinfo is None:
        raise Unprocessable(
            "需带时区：Z 或 +08:00 这样的偏移",
            en="needs its zone: Z or an offset such as +08:00",
            field=field,
        )
    return value


def _int(raw: str | None, field: str, default: int, high: int) -> int:
    text = _present(raw)
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= high:
        raise Unprocessable(
            f"应为 1 到 {high} 之间的整数",
            en=f"must be a whole number from 1 to {high}",
            field=field,
        )
    return int(text)


def window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The requested_datetime range to search."""
    if start is None and end is None:
        return now - SPAN, now
    if start is None:
        assert end is not None
        return end - SPAN, end
    if end is None:
        return start, start + SPAN
    if end < start:
        raise Unprocessable("早于 start_date", en="is before start_date", field="end_date")
    if end - start > SPAN:
        raise Unprocessable(
            "start_date 到 end_date 不能超过 90 天",
            en="start_date to end_date may not span more than 90 days",
            field="end_date",
        )
    return start, end


def filters(
    *,
    service_request_id: str | None,
    service_code: str | None,
    start_date: str | None,
    end_date: str | None,
    status: str | None,
    updated_after: str | None,
    page: str | None,
    page_size: str | None,
    now: datetime,
) -> Filters:
    ids = _list(service_request_id)
    if ids is not None:
        if len(ids) > MAX_IDS:
            raise Unprocessable(
                f"一次最多 {MAX_IDS} 个编号",
                en=f"at most {MAX_IDS} ids at once",
                field="service_request_id",
            )
        # An id that cannot exist matches nothing, like an id that does not.
        return Filters(ids=[n for n in map(ticket_id, ids) if n is not None])
    statuses = _list(status)
    if statuses is not None and not set(statuses) <= STATUSES:
        raise Unprocessable(
            "应为 open、closed 或两者（逗号分隔）",
            en="must be open, closed or both, comma-separated",
            field="status",
        )
    closed = None if statuses is None or set(statuses) == STATUSES else statuses[0] == "closed"
    start, end = window(_time(start_date, "start_date"), _time(end_date, "end_date"), now)
    size = _int(page_size, "page_size", MAX_PAGE_SIZE, MAX_PAGE_SIZE)
    return Filters(
        codes=_list(service_code),
        start=start,
        end=end,
        closed=closed,
        updated_after=_time(updated_after, "updated_after"),
        offset=(_int(page, "page", 1, 100_000) - 1) * size,
        limit=size,
    )
