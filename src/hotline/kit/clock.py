"""The one place that reads the wall clock; rules take ``now`` as a parameter."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


@lru_cache
def county_zone() -> ZoneInfo:
    """The county's zone: it decides what a day and a working day are (DESIGN.md §6)."""
    from hotline.config import get_settings

    return ZoneInfo(get_settings().county.timezone)


def local_iso(at: datetime | None) -> str | None:
    """An instant as the API writes it everywhere: ISO 8601 in the county's zone, with offset."""
    return None if at is None else at.astimezone(county_zone()).isoformat()
