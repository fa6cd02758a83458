"""The working-day calendar every process agrees on: the package's years, the data directory's
calendar file, and the years admins set through the API (``calendar_year``), in that order of
precedence. Each process keeps one ``WorkCalendar`` and rebuilds it when the ``calendar``
generation moves (db.config_state), read in the caller's transaction unless given."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.db import config_state
from hotline.db.session import Session
from hotline.sla import repository
from hotline.sla.calendar import WorkCalendar, read_file, year_days
from hotline.sla.models import CalendarYear


class CalendarCache:
    """One per process; ``current`` returns the calendar as the database has it now."""

    def __init__(self, zone: ZoneInfo, path: Path | None) -> None:
        self.zone = zone
        self.path = path
        # Read once: a bad file stops the start-up, as it always has.
        self._file_days, self._file_years = read_file(path)
        self._state: tuple[Any, WorkCalendar] | None = None

    def build(self, rows: Iterable[CalendarYear]) -> WorkCalendar:
        stored = {r.year: year_days(r.year, r.holidays, r.workdays) for r in rows}
        days: dict[date, bool] = {d: w for d, w in self._file_days.items() if d.year not in stored}
        for listed in stored.values():
            days.update(listed)
        sources = {y: "file" for y in self._file_years} | dict.fromkeys(stored, "database")
        return WorkCalendar(self.zone, days, set(sources), sources)

    async def current(self, session: AsyncSession, generation: int | None = None) -> WorkCalendar:
        version = (
            generation if generation is not None else (await config_state.read(session)).calendar
        )
        state = self._state
        if state is not None and state[0] == version:
            return state[1]
        rows = await repository.years(session)
        calendar = self.build(rows)
        self._state = (version, calendar)
        return calendar

    def last(self) -> WorkCalendar:
        """The calendar as last read (or from the package and file alone): for readers without
        a transaction, such as /readyz and /metrics."""
        return self._state[1] if self._state is not None else self.build(())


async def current_calendar(request: Request, session: Session) -> WorkCalendar:
    cache: CalendarCache = request.app.state.calendars
    return await cache.current(session)


# The calendar as this request's transaction sees it.
Calendar = Annotated[WorkCalendar, Depends(current_calendar)]
