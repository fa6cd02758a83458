"""The pure rules of a report: the period's alignment and end, the grades, the roll-up of units."""

from __future__ import annotations

from datetime import date

import pytest

from hotline.errors import Unprocessable
from hotline.report import figures, grades
from hotline.report.period import Period, PeriodKind
from hotline.report.service import handling_units


class TestPeriod:
    @pytest.mark.parametrize(
        ("kind", "start", "end", "stem", "label"),
        [
            (
                PeriodKind.week,
                date(2026, 11, 2),
                date(2026, 11, 9),
                "2026-W45",
                "2026年第45周（11月2日—11月8日）",
            ),
            (PeriodKind.week, date(2026, 12, 28), date(2027, 1, 4), "2026-W53", None),
            (PeriodKind.month, date(2026, 11, 1), date(2026, 12, 1), "2026-11", "2026年11月"),
            (PeriodKind.month, date(2026, 12, 1), date(2027, 1, 1), "2026-12", None),
            (PeriodKind.quarter, date(2026, 10, 1), date(2027, 1, 1), "2026-Q4", "2026年第四季度"),
            (PeriodKind.quarter, date(2026, 1, 1), date(2026, 4, 1), "2026-Q1", "2026年第一季度"),
        ],
    )
    def test_end_is_the_next_start(
        self, kind: PeriodKind, start: date, end: date, stem: str, label: str | None
    ) -> None:
        p = Period.of(kind, start)
        assert (p.end, p.stem) == (end, stem)
        if label:
            assert p.label == label

    @pytest.mark.parametrize(
        ("kind", "start", "rule"),
        [
            (PeriodKind.week, date(2026, 11, 3), "星期一"),
            (PeriodKind.month, date(2026, 11, 2), "1日"),
            (PeriodKind.quarter, date(2026, 11, 1), "10月1日"),
            (PeriodKind.quarter, date(2026, 10, 2), "10月1日"),
        ],
    )
    def test_a_misaligned_start_names_the_rule(
        self, kind: PeriodKind, start: date, rule: str
    ) -> None:
        with pytest.raises(Unprocessable) as refused:
            Period.of(kind, start)
        assert rule in refused.value.detail
        assert refused.value.extra["field"] == "start"


class TestGrades:
    policy = grades.DEFAULT

    @pytest.mark.parametrize(
        ("on_time", "satisfaction", "grade"),
        [
            (0.95, 0.90, "A"),
            (1.0, 1.0, "A"),
            (0.9499, 1.0, "B"),
            (1.0, 0.8999, "B"),
            (0.90, 0.85, "B"),
            (0.85, 0.99, "C"),
            (0.80, 0.75, "C"),
            (0.7999, 1.0, "D"),
            (1.0, 0.0, "D"),
            (None, 1.0, None),
            (1.0, None, None),
        ],
    )
    def test_both_rates_must_reach_a_grade(
        self, on_time: float | None, satisfaction: float | None, grade: str | None
    ) -> None:
        assert grades.grade(self.policy, on_time, satisfaction) == grade

    def test_below_the_floor(self) -> None:
        assert grades.below_floor(self.policy, 0.7999)
        assert not grades.below_floor(self.policy, 0.80)
        assert not grades.below_floor(self.policy, None)

    def test_a_policy_out_of_order_or_range_has_problems(self) -> None:
        assert grades.DEFAULT.problems() == []
        t = grades.Threshold
        swapped = grades.Policy(t(0.9, 0.9), t(0.95, 0.8), t(0.8, 0.7), 0.8)
        assert swapped.problems() == ["按时办结率阈值须 A ≥ B ≥ C"]
        outside = grades.Policy(t(1.2, 0.9), t(0.9, 0.8), t(0.8, 0.95), 0.8)
        assert outside.problems() == ["每个阈值都须在 0 到 1 之间", "满意率阈值须 A ≥ B ≥ C"]


class TestFigures:
    def test_each_column_from_the_counts(self) -> None:
        counted = {
            "received": 10,
            "dispatched": 8,
            "answered_directly": 1,
            "completed": 6,
            "signed_on_time": 7,
            "replied": 6,
            "replied_on_time": 5,
            "callbacks_reached": 4,
            "satisfied": 3,
            "reworked": 1,
            "returned": 2,
        }
        f = figures.figures(counted)
        assert [c.header for c in figures.COLUMNS] == [
            "派遣",
            "按时签收",
            "按时办结",
            "超时办结",
            "未办结",
            "办结率",
            "按时办结率",
            "不满意数",
            "不满意率",
            "满意率",
            "重办",
            "回退",
        ]
        shown = {k: (v["value"], v["numerator"], v["denominator"]) for k, v in f.items()}
        assert shown == {
            "dispatched": (8, 8, 10),
            "signed_on_time": (7, 7, 8),
            "completed_on_time": (5, 5, 6),
            "completed_late": (1, 1, 6),
            "open": (3, 3, 9),
            "completion": (0.6667, 6, 9),
            "on_time_completion": (0.8333, 5, 6),
            "unsatisfied": (1, 1, 4),
            "unsatisfaction": (0.25, 1, 4),
            "satisfaction": (0.75, 3, 4),
            "reworked": (1, 1, 6),
            "returned": (2, 2, 8),
        }

    def test_rates_over_nothing_are_null(self) -> None:
        f = figures.figures({})
        assert f["completion"]["value"] is None and f["unsatisfaction"]["value"] is None
        assert f["open"] == {"value": 0, "numerator": 0, "denominator": 0}


def test_units_roll_up_to_their_township_or_stay_departments() -> None:
    tree = [
        ("C", "县", "county", None),
        ("T", "镇", "township", "C"),
        ("V", "村", "village", "T"),
        ("G", "网格", "grid", "V"),
        ("D", "局", "department", "C"),
        ("X", "确责组", "group", "C"),
    ]
    assert handling_units(tree) == {"C": "C", "T": "T", "V": "T", "G": "T", "D": "D", "X": "X"}
