"""Grading a unit (考核等级) by its on-time completion and satisfaction rates; pure.

A unit is graded A when both rates reach A's thresholds, else B when both reach B's, else C,
else D. A unit with no replied ticket or no callback that reached the caller (a rate of 0 ÷ 0)
is not graded: a grade on nothing would reward a unit that never answered. The thresholds are
policy data (``GET/PUT /v1/reports/grades``); DEFAULT holds when none are stored.
"""

from __future__ import annotations

from dataclasses import dataclass

GRADES = ("A", "B", "C")


@dataclass(frozen=True)
class Threshold:
    on_time: float  # 按时办结率 at least
    satisfaction: float  # 满意率 at least


@dataclass(frozen=True)
class Policy:
    a: Threshold
    b: Threshold
    c: Threshold
    satisfaction_floor: float  # units below it are named (满意度未达标)

    def problems(self) -> list[str]:
        """What makes the policy unusable (each threshold in 0..1, A ≥ B ≥ C on both rates)."""
        found = []
        values = [self.a.on_time, self.a.satisfaction, self.b.on_time, self.b.satisfaction]
        values += [self.c.on_time, self.c.satisfaction, self.satisfaction_floor]
        if any(not 0 <= v <= 1 for v in values):
            found.append("每个阈值都须在 0 到 1 之间")
        for rate, zh in (("on_time", "按时办结率"), ("satisfaction", "满意率")):
            a, b, c = (getattr(t, rate) for t in (self.a, self.b, self.c))
            if not a >= b >= c:
                found.append(f"{zh}阈值须 A ≥ B ≥ C")
        return found


DEFAULT = Policy(
    a=Threshold(0.95, 0.90),
    b=Threshold(0.90, 0.85),
    c=Threshold(0.80, 0.75),
    satisfaction_floor=0.80,
)


def grade(policy: Policy, on_time: float | None, satisfaction: float | None) -> str | None:
    """A, B, C or D; None when either rate is 0 ÷ 0."""
    if on_time is None or satisfaction is None:
        return None
    for name, threshold in zip(GRADES, (policy.a, policy.b, policy.c), strict=True):
        if on_time >= threshold.on_time and satisfaction >= threshold.satisfaction:
            return name
    return "D"


def below_floor(policy: Policy, satisfaction: float | None) -> bool:
    return satisfaction is not None and satisfaction < policy.satisfaction_floor
