"""A report's period: a week from a Monday, a month from the 1st, a quarter from 1 Jan, Apr, Jul
or Oct, in county dates; the end is the next period's start (exclusive)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from hotline.errors import Unprocessable

QUARTERS = ("一", "二", "三", "四")


class PeriodKind(StrEnum):
    week = "week"
    month = "month"
    quarter = "quarter"


def _months_later(day: date, months: int) -> date:
    n = day.year * 12 + day.month - 1 + months
    return date(n // 12, n % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    start: date
    end: date  # exclusive

    @classmethod
    def of(cls, kind: PeriodKind, start: date) -> Period:
        """The period of ``kind`` starting on ``start``; Unprocessable naming the rule when
        ``start`` does not begin one."""
        if kind is PeriodKind.week:
            if start.weekday() != 0:
                raise Unprocessable(
                    "周报的开始日期必须是星期一",
                    field="start",
                    en="A week report starts on a Monday",
                )
            return cls(kind, start, start + timedelta(days=7))
        if kind is PeriodKind.month:
            if start.day != 1:
                raise Unprocessable(
                    "月报的开始日期必须是某月1日",
                    field="start",
                    en="A month report starts on the 1st",
                )
            return cls(kind, start, _months_later(start, 1))
        if start.day != 1 or start.month not in (1, 4, 7, 10):
            raise Unprocessable(
                "季报的开始日期必须是1月1日、4月1日、7月1日或10月1日",
                field="start",
                en="A quarter report starts on 1 January, April, July or October",
            )
        return cls(kind, start, _months_later(start, 3))

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def stem(self) -> str:
        """How files name it: 2026-W45, 2026-11, 2026-Q4."""
        if self.kind is PeriodKind.week:
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind is PeriodKind.month:
            return f"{self.start.year}-{self.start.month:02d}"
        return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"

    @property
    def label(self) -> str:
        """How the title names it: 2026年11月, 2026年第四季度, 2026年第45周（11月2日—11月8日）."""
        if self.kind is PeriodKind.week:
            year, week, _ = self.start.isocalendar()
            last = self.last
            return (
                f"{year}年第{week}周（{self.start.month}月{self.start.day}日—"
                f"{last.month}月{last.day}日）"
            )
        if self.kind is PeriodKind.month:
            return f"{self.start.year}年{self.start.month}月"
        return f"{self.start.year}年第{QUARTERS[(self.start.month - 1) // 3]}季度"
