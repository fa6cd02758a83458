"""China's official working-day calendar and the deadlines counted on it.

Rules:

- Working days follow the State Council's calendar: public holidays are days off, and make-up
  working days (调休, usually a Saturday or Sunday) are working days. Every other day is a
  working day Monday to Friday.
- The ``chinesecalendar`` package knows the years already announced. A JSON calendar file in
  the data directory can add years or replace a year wholesale (see ``WorkCalendar.load``).
- A year known to neither is computed Monday to Friday, and every result that relied on such a
  guess lists that year in ``Deadline.unknown_years`` so callers can show it, never silently.
  Even then the fixed-date holidays of the State Council's rules of 2024 (元旦 1 January, 劳动节
  1–2 May, 国庆节 1–3 October) are days off. (A known year says itself which days are off.)
- All instants are timezone-aware. The county's zone decides which date an instant falls on;
  deadlines are returned in UTC.
- "N working days" from an instant ends at 24:00 (county time) of the N-th working day
  strictly after the instant's local date; N = 0 ends at 24:00 of that date.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from chinese_calendar import constants as _cc

_ONE_DAY = timedelta(days=1)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_YEAR = re.compile(r"\d{4}")
_YEAR_KEYS = frozenset({"holidays", "workdays"})

# True = working day, False = day off; only the days that differ from (or confirm) Mon–Fri.
_PACKAGE_DAYS: dict[date, bool] = {
    **{day: False for day in _cc.holidays},
    **{day: True for day in _cc.workdays},
}
_PACKAGE_YEARS = frozenset(day.year for day in _PACKAGE_DAYS)
# 《全国年节及纪念日放假办法》 (2024): the holidays that fall on the same date every year.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})


@dataclass(frozen=True)
class Deadline:
    at: datetime  # aware, in UTC
    unknown_years: tuple[int, ...]  # years guessed Mon–Fri while computing `at`; empty = known


class WorkCalendar:
    """Working days in one county's zone; immutable once built."""

    def __init__(
        self,
        zone: ZoneInfo,
        overrides: Mapping[date, bool] | None = None,
        known_override_years: Iterable[int] = (),
        sources: Mapping[int, str] | None = None,
    ) -> None:
        """``known_override_years`` replace the package's data for those years wholesale;
        ``overrides`` (date → working?) then apply on top of whatever remains. ``sources``
        says where each replaced year came from."""
        self.zone = zone
        replaced = frozenset(known_override_years)
        self._days = {d: w for d, w in _PACKAGE_DAYS.items() if d.year not in replaced}
        self._days.update(overrides or {})
        self._known = _PACKAGE_YEARS | replaced
        self._sources = dict(sources or {y: "file" for y in replaced})

    @classmethod
    def load(cls, zone: ZoneInfo, path: Path | None) -> WorkCalendar:
        """Build from the package plus an optional JSON calendar file (absent → package only).

        Format: ``{"years": {"2027": {"holidays": ["2027-01-01"], "workdays": ["2027-02-07"]}}}``.
        A listed year is known and replaces the package's data for it: listed holidays are days
        off, listed workdays are working days (even on weekends), other days follow Mon–Fri.
        """
        overrides, years = read_file(path)
        return cls(zone, overrides, years)

    def is_known(self, year: int) -> bool:
        return year in self._known

    def known_years(self) -> tuple[int, int] | None:
        """Earliest and latest known year (there may be gaps between them)."""
        return (min(self._known), max(self._known)) if self._known else None

    def is_working_day(self, day: date) -> bool:
        working = self._days.get(day)
        if working is not None:
            return working
        if not self.is_known(day.year) and (day.month, day.day) in FIXED_HOLIDAYS:
            return False
        return day.weekday() < 5

    def source(self, year: int) -> str | None:
        """Where the year's days come from: package, file or database; None if unknown."""
        return self._sources.get(year) or ("package" if year in _PACKAGE_YEARS else None)

    def add_working_days(self, start: datetime, days: int) -> Deadline:
        if days < 0:
            raise ValueError(f"working days must be >= 0, got {days}")
        day = self._local_date(start)
        unknown: set[int] = set()
        remaining = days
        while remaining:
            day += _ONE_DAY
            if not self.is_known(day.year):
                unknown.add(day.year)
            if self.is_working_day(day):
                remaining -= 1
        return Deadline(self._end_of(day), tuple(sorted(unknown)))

    def add_natural(self, start: datetime, delta: timedelta) -> Deadline:
        self._local_date(start)  # rejects naive datetimes
        # In UTC, so that "24 hours" is elapsed time even across a DST change.
        return Deadline(start.astimezone(UTC) + delta, ())

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after start's local date that have fully ended by ``end`` (0 if none)."""
        day = self._local_date(start) + _ONE_DAY
        # A day has ended by `end` exactly when it is before end's local date.
        last = self._local_date(end)
        count = 0
        while day < last:
            count += self.is_working_day(day)
            day += _ONE_DAY
        return count

    def year(self, year: int) -> list[tuple[date, str]]:
        """Each day of ``year`` labelled workday / makeup-workday / holiday / weekend.

        "holiday" is any listed day off, including a weekend inside a holiday period."""
        out: list[tuple[date, str]] = []
        day = date(year, 1, 1)
        while day.year == year:
            weekend = day.weekday() >= 5
            if self.is_working_day(day):
                label = "makeup-workday" if weekend else "workday"
            else:
                label = "holiday" if day in self._days or not weekend else "weekend"
            out.append((day, label))
            day += _ONE_DAY
        return out

    def _local_date(self, instant: datetime) -> date:
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError(f"naive datetime {instant!r}: times must be timezone-aware")
        return instant.astimezone(self.zone).date()

    def _end_of(self, day: date) -> datetime:
        # Midnight starting the next day; fold=0 keeps a DST gap at midnight on the right side.
        return datetime.combine(day + _ONE_DAY, time(), tzinfo=self.zone).astimezone(UTC)


def read_file(path: Path | None) -> tuple[dict[date, bool], set[int]]:
    """The days and years of a calendar file (nothing if there is none); ValueError if bad."""
    if path is None or not path.exists():
        return {}, set()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"calendar file {path}: not valid UTF-8 JSON: {exc}") from exc
    return _parse_calendar(raw, path)


def year_days(year: int, holidays: Iterable[str], workdays: Iterable[str]) -> dict[date, bool]:
    """One year's listed days (date → working?); ValueError naming the first bad one."""
    out: dict[date, bool] = {}
    for field, values, working in (("holidays", holidays, False), ("workdays", workdays, True)):
        for value in values:
            if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
                raise ValueError(f"{field}: {value!r} is not a YYYY-MM-DD date")
            try:
                day = date.fromisoformat(value)
            except ValueError as exc:
                raise ValueError(f"{field}: {value!r}: {exc}") from exc
            if day.year != year:
                raise ValueError(f"{field}: {value} is not in {year}")
            if out.get(day, working) != working:
                raise ValueError(f"{value} is in both holidays and workdays")
            out[day] = working
    return out


def _parse_calendar(raw: Any, path: Path) -> tuple[dict[date, bool], set[int]]:
    def fail(problem: str) -> ValueError:
        return ValueError(f"calendar file {path}: {problem}")

    if not isinstance(raw, dict) or set(raw) != {"years"} or not isinstance(raw["years"], dict):
        raise fail('expected an object {"years": {"YYYY": {...}}} and nothing else')
    overrides: dict[date, bool] = {}
    years: set[int] = set()
    for key, entry in raw["years"].items():
        if not _YEAR.fullmatch(key):
            raise fail(f"year key {key!r} is not a four-digit year")
        if not isinstance(entry, dict) or not set(entry) <= _YEAR_KEYS:
            # A typo such as "holiday" would otherwise make the year known with no holidays.
            raise fail(f'year {key}: expected an object with only "holidays" and "workdays"')
        year = int(key)
        years.add(year)
        lists = {f: entry.get(f, []) for f in sorted(_YEAR_KEYS)}
        for field, values in lists.items():
            if not isinstance(values, list):
                raise fail(f"year {key}: {field} must be a list of YYYY-MM-DD dates")
        try:
            overrides.update(year_days(year, lists["holidays"], lists["workdays"]))
        except ValueError as exc:
            raise fail(f"year {key}: {exc}") from exc
    return overrides, years
