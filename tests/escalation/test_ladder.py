"""The ladder's pure rule: climb to the next rung that has an owner."""

from __future__ import annotations

from hotline.escalation.ladder import Step, climb

LADDER = [
    Step(1, "village", "村"),
    Step(2, "township", "乡镇"),
    Step(3, "department", "部门"),
    Step(4, "group", "确责小组"),
]
OWNERS = {"village": "V", "township": "T", "department": "D", "group": "G"}


class TestClimb:
    def test_rungs_in_order(self) -> None:
        levels = []
        level = 0
        while (step := climb(LADDER, level, OWNERS)) is not None:
            levels.append((step.level, step.unit_code))
            level = step.level
        assert levels == [(1, "V"), (2, "T"), (3, "D"), (4, "G")]

    def test_a_rung_without_owner_is_passed_over(self) -> None:
        step = climb(LADDER, 2, {**OWNERS, "department": None})
        assert step is not None and (step.level, step.unit_code) == (4, "G")

    def test_nothing_above_the_top(self) -> None:
        assert climb(LADDER, 4, OWNERS) is None
