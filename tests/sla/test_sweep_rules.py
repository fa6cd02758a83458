"""The sweeper's pure rules: reminders, breaches, the next look."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hotline.sla.sweep_rules import ClockState, due_now, next_check

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def clock(minutes: int = 100, **changes: object) -> ClockState:
    base = dict(
        name="sign",
        running=True,
        started_at=T0,
        due_at=T0 + timedelta(minutes=minutes),
        reminded_at=None,
        overdue_at=None,
    )
    base.update(changes)
    return ClockState(**base)  # type: ignore[arg-type]


class TestDueNow:
    def test_nothing_before_the_reminder(self) -> None:
        assert due_now([clock()], T0 + timedelta(minutes=79), 0.8) == []

    def test_a_reminder_at_the_share(self) -> None:
        assert [w for _, w in due_now([clock()], T0 + timedelta(minutes=80), 0.8)] == ["remind"]

    def test_a_breach_supersedes_the_reminder(self) -> None:
        assert [w for _, w in due_now([clock()], T0 + timedelta(minutes=101), 0.8)] == ["breach"]

    def test_nothing_twice(self) -> None:
        done = clock(reminded_at=T0, overdue_at=T0)
        assert due_now([done], T0 + timedelta(days=9), 0.8) == []

    def test_a_stopped_clock_never_fires(self) -> None:
        assert due_now([clock(running=False)], T0 + timedelta(days=9), 0.8) == []


class TestNextCheck:
    def test_is_the_reminder_then_the_deadline(self) -> None:
        assert next_check([clock()], 0.8) == T0 + timedelta(minutes=80)
        assert next_check([clock(reminded_at=T0)], 0.8) == T0 + timedelta(minutes=100)
        assert next_check([clock(reminded_at=T0, overdue_at=T0)], 0.8) is None

    @given(st.integers(1, 10_000), st.floats(0.05, 0.95), st.integers(0, 20_000))
    def test_nothing_is_due_before_the_next_check(
        self, minutes: int, share: float, offset: int
    ) -> None:
        clocks = [clock(minutes)]
        at = next_check(clocks, share)
        assert at is not None
        now = T0 + timedelta(minutes=offset)
        assert bool(due_now(clocks, now, share)) == (now >= at)
