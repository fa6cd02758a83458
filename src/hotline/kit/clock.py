"""The one place that reads the wall clock; rules take ``now`` as a parameter.

Each app has one ``Clock`` (``app.state.clock``): a request reads it once, through the ``Now``
dependency, so every instant of one request is the same; tests set it by hand (drills).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Depends, Request


def utcnow() -> datetime:
    return datetime.now(UTC)


class Clock:
    """The wall clock, or an instant set by hand (``set``) that it keeps until set again."""

    def __init__(self) -> None:
        self.fixed: datetime | None = None

    def now(self) -> datetime:
        return self.fixed if self.fixed is not None else utcnow()

    def set(self, at: datetime | str) -> datetime:
        self.fixed = datetime.fromisoformat(at) if isinstance(at, str) else at
        return self.fixed


def request_now(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock.now()


# The request's one instant.
Now = Annotated[datetime, Depends(request_now)]


@lru_cache
def county_zone() -> ZoneInfo:
    """The county's zone: it decides what a day and a working day are (DESIGN.md §6)."""
    from hotline.config import get_settings

    return ZoneInfo(get_settings().county.timezone)


def local_iso(at: datetime | None) -> str | None:
    """An instant as the API writes it everywhere: ISO 8601 in the county's zone, with offset."""
    return None if at is None else at.astimezone(county_zone()).isoformat()
