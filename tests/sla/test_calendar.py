"""WorkCalendar against chinesecalendar's data: deadlines, unknown years and calendar files."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from chinese_calendar import constants
from hypothesis import given
from hypothesis import strategies as st

from hotline.sla.calendar import Deadline, WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar(SHANGHAI)
ONE_US = timedelta(microseconds=1)

# Starts arrive in any zone; the county's zone must decide the date.
starts = st.datetimes(
    min_value=datetime(2015, 1, 1),
    max_value=datetime(2026, 12, 31, 23, 59, 59),
    timezones=st.sampled_from([SHANGHAI, UTC, ZoneInfo("America/New_York")]),
    allow_imaginary=False,
)
counts = st.integers(min_value=0, max_value=40)


def local(at: datetime) -> datetime:
    return at.astimezone(SHANGHAI)


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI) + timedelta(days=1)


def write(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "calendar.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return path


class TestDeadlineProperties:
    @given(starts, st.integers(min_value=1, max_value=40))
    def test_deadline_ends_a_working_day(self, start: datetime, n: int) -> None:
        deadline = CAL.add_working_days(start, n)
        assert deadline.at.tzinfo is UTC
        last_day = local(deadline.at - ONE_US).date()
        assert CAL.is_working_day(last_day)
        assert local(deadline.at).time() == datetime.min.time()

    @given(starts, counts)
    def test_one_more_day_is_strictly_later(self, start: datetime, n: int) -> None:
        assert CAL.add_working_days(start, n + 1).at > CAL.add_working_days(start, n).at

    @given(starts, counts)
    def test_working_days_between_inverts_add(self, start: datetime, n: int) -> None:
        assert CAL.working_days_between(start, CAL.add_working_days(start, n).at) == n

    @given(starts, st.integers(min_value=1, max_value=40))
    def test_agrees_with_chinesecalendar_where_it_knows(self, start: datetime, n: int) -> None:
        deadline = CAL.add_working_days(start, n)
        if not deadline.unknown_years:
            last_day = local(deadline.at - ONE_US).date()
            first = local(start).date() + timedelta(days=1)
            assert len(chinese_calendar.get_workdays(first, last_day)) == n


class TestOfficialCalendar:
    def test_make_up_weekend_counts_as_working_day(self) -> None:
        makeup = min(d for d in constants.workdays if d.year == 2026 and d.weekday() >= 5)
        start = datetime.combine(makeup - timedelta(days=1), datetime.min.time(), SHANGHAI)
        assert CAL.is_working_day(makeup)
        assert CAL.add_working_days(start + timedelta(hours=10), 1).at == end_of(makeup)

    def test_last_working_day_before_national_day_2026_plus_one(self) -> None:
        last = date(2026, 10, 1) - timedelta(days=1)
        while not chinese_calendar.is_workday(last):
            last -= timedelta(days=1)
        first_after = date(2026, 10, 1)
        while not chinese_calendar.is_workday(first_after):
            first_after += timedelta(days=1)
        start = datetime.combine(last, datetime.min.time(), SHANGHAI) + timedelta(hours=15)

        deadline = CAL.add_working_days(start, 1)

        assert deadline.at == end_of(first_after)
        assert deadline.unknown_years == ()
        # 2026: Mid-Autumn (Sep 25-27) and National Day (Oct 1-7) are separate holidays.
        assert (last, first_after) == (date(2026, 9, 30), date(2026, 10, 8))
        assert deadline.at == datetime(2026, 10, 8, 16, tzinfo=UTC)

    def test_zero_days_ends_the_local_day_of_start(self) -> None:
        start = datetime(2026, 3, 2, 20, tzinfo=UTC)  # 03-03 04:00 in Shanghai
        assert CAL.add_working_days(start, 0).at == datetime(2026, 3, 3, 16, tzinfo=UTC)

    def test_known_years_span_the_package(self) -> None:
        years = {d.year for d in constants.holidays}
        assert CAL.known_years() == (min(years), max(years))
        assert CAL.is_known(2026)

    def test_year_labels_days(self) -> None:
        labels = dict(CAL.year(2026))
        assert len(labels) == 365
        assert labels[date(2026, 10, 1)] == "holiday"
        assert labels[date(2026, 10, 3)] == "holiday"  # a Saturday inside National Day
        assert labels[date(2026, 9, 19)] == "weekend"
        assert labels[date(2026, 9, 20)] == "makeup-workday"
        assert labels[date(2026, 9, 30)] == "workday"


class TestUnknownYears:
    def test_unknown_year_is_mon_to_fri_and_reported(self) -> None:
        friday = datetime(2031, 5, 2, 15, tzinfo=SHANGHAI)
        deadline = CAL.add_working_days(friday, 1)
        assert not CAL.is_known(2031)
        assert deadline.at == end_of(date(2031, 5, 5))  # the Monday, holiday or not
        assert deadline.unknown_years == (2031,)

    def test_crossing_into_unknown_year_reports_only_it(self) -> None:
        deadline = CAL.add_working_days(datetime(2026, 12, 30, 9, tzinfo=SHANGHAI), 3)
        assert deadline.unknown_years == (2027,)
        # 31 December, then 1 January 2027 is 元旦 even in a year nobody has announced: the 4th.
        assert deadline.at == end_of(date(2027, 1, 5))

    def test_natural_time_never_reports_unknown_years(self) -> None:
        start = datetime(2031, 5, 2, 15, tzinfo=SHANGHAI)
        deadline = CAL.add_natural(start, timedelta(hours=24))
        assert deadline.at == datetime(2031, 5, 3, 7, tzinfo=UTC)
        assert deadline.unknown_years == ()


class TestInvalidInput:
    def test_naive_start_is_rejected(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            CAL.add_working_days(datetime(2026, 1, 5, 9), 1)

    def test_negative_days_are_rejected(self) -> None:
        with pytest.raises(ValueError, match=">= 0"):
            CAL.add_working_days(datetime(2026, 1, 5, 9, tzinfo=SHANGHAI), -1)

    def test_end_before_start_counts_zero(self) -> None:
        start = datetime(2026, 1, 5, 9, tzinfo=SHANGHAI)
        assert CAL.working_days_between(start, start - timedelta(days=10)) == 0


class TestCalendarFile:
    def test_missing_or_no_file_means_package_only(self, tmp_path: Path) -> None:
        for path in (None, tmp_path / "absent.json"):
            cal = WorkCalendar.load(SHANGHAI, path)
            assert cal.known_years() == CAL.known_years()

    def test_file_adds_a_year(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            {"years": {"2027": {"holidays": ["2027-01-01"], "workdays": ["2027-02-07"]}}},
        )
        cal = WorkCalendar.load(SHANGHAI, path)
        assert cal.is_known(2027)
        assert cal.known_years() == (2004, 2027)
        assert not cal.is_working_day(date(2027, 1, 1))
        assert cal.is_working_day(date(2027, 2, 7))  # a Sunday
        thursday = datetime(2026, 12, 31, 9, tzinfo=SHANGHAI)
        assert cal.add_working_days(thursday, 1) == Deadline(end_of(date(2027, 1, 4)), ())
        saturday = datetime(2027, 2, 6, 9, tzinfo=SHANGHAI)
        assert cal.add_working_days(saturday, 1).at == end_of(date(2027, 2, 7))

    def test_file_replaces_a_known_year(self, tmp_path: Path) -> None:
        path = write(tmp_path, {"years": {"2026": {"holidays": ["2026-03-02"]}}})
        cal = WorkCalendar.load(SHANGHAI, path)
        assert cal.is_known(2026)
        assert not cal.is_working_day(date(2026, 3, 2))
        assert cal.is_working_day(date(2026, 10, 1))  # the package's National Day is gone
        assert not cal.is_working_day(date(2026, 9, 20))  # and so is its make-up Sunday
        assert not cal.is_working_day(date(2025, 10, 1))  # other years untouched

    @pytest.mark.parametrize(
        ("content", "problem"),
        [
            ("{not json", "JSON"),
            ([], "expected an object"),
            ({"years": {"2027": {"holiday": ["2027-01-01"]}}}, "only"),
            ({"years": {"27": {}}}, "four-digit"),
            ({"years": {"2027": {"holidays": "2027-01-01"}}}, "list"),
            ({"years": {"2027": {"holidays": ["2027-02-30"]}}}, "2027-02-30"),
            ({"years": {"2027": {"holidays": ["2027/01/01"]}}}, "YYYY-MM-DD"),
            ({"years": {"2027": {"holidays": ["2028-01-01"]}}}, "not in 2027"),
            (
                {"years": {"2027": {"holidays": ["2027-01-01"], "workdays": ["2027-01-01"]}}},
                "both",
            ),
        ],
    )
    def test_malformed_file_names_file_and_problem(
        self, tmp_path: Path, content: object, problem: str
    ) -> None:
        path = write(tmp_path, content)
        with pytest.raises(ValueError, match=re.escape(str(path))) as excinfo:
            WorkCalendar.load(SHANGHAI, path)
        assert problem in str(excinfo.value)
