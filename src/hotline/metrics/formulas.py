"""Every figure of the dashboard, written once. Each is a count, or a rate whose numerator and
denominator are counts over the tickets created in the period (a rate with a zero denominator
is null, never 0 or 100). docs/metrics.md states them in Chinese and English.

Every numerator is written as its denominator's condition AND more, so a rate cannot leave
[0, 1] whatever the rows hold (tests/metrics/test_bounds.py tries random rows). A merged
duplicate (并单) is no ticket of its own: it is counted as ``merged`` and in nothing else.

    completion 办结率            completed ÷ (dispatched + answered directly); completed = closed
                                 and dispatched or answered directly. A ticket closed from
                                 triage and never dispatched (redirected, terminated) is in
                                 neither part: it has its own counts
    on_time_completion 按时办结率 replied in the current cycle by the (extended) reply deadline ÷
                                 replied
    on_time_signing 按时签收率    signed in the current cycle by the sign deadline ÷ dispatched
    response 响应率              signed in the current cycle ÷ dispatched
    resolution 解决率            callbacks that reached the caller and found it resolved ÷
                                 callbacks that reached the caller
    satisfaction 满意率          (satisfied + basically satisfied) ÷ callbacks that reached
    direct_answer 直接答复率     answered directly ÷ received
    return 回退率                dispatched tickets whose owner asked to return them ÷ dispatched
    rework 重办率                replied tickets reworked at least once ÷ replied

The current cycle starts at the last dispatch (a rework or a re-dispatch starts a new one): a
reworked ticket counts by its latest cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_
from sqlalchemy.sql.elements import ColumnElement

from hotline.ticket.models import Ticket as T


def _count(condition: ColumnElement[bool] | None = None) -> ColumnElement[Any]:
    if condition is None:
        return func.count()
    # COUNT(*) FILTER (WHERE …): both PostgreSQL and SQLite ≥ 3.30 have it, and it is the
    # cheapest per-row test an aggregate can make.
    return func.count().filter(condition)


# The kinds of escalation rung, lowest first (escalation.ladder): figures count each ticket by
# the highest it reached.
RUNGS = ("village", "department", "township", "line", "county", "group")


def counts(now: Any) -> dict[str, ColumnElement[Any]]:
    """name → aggregate expression over ``ticket`` rows."""
    reason = func.coalesce(T.close_reason, "")
    merged = reason == "merged"
    counted = reason != "merged"
    answered = reason == "answered"
    closed = and_(T.status == "closed", counted)
    # Disjoint from "answered directly", so the completion rate's denominator counts each
    # ticket once: a routed ticket the agent then answers on the phone is a direct answer.
    dispatched = and_(T.dispatched_at.is_not(None), reason.not_in(("merged", "answered")))
    # Signed or replied since the last dispatch began the current cycle.
    signed = and_(dispatched, T.signed_at.is_not(None), T.signed_at >= T.dispatched_at)
    replied = and_(dispatched, T.replied_at.is_not(None))
    reached = and_(counted, T.callback_reached.is_(True))
    overdue = or_(
        and_(T.status.in_(("dispatched", "rework")), T.sign_due_at < now),
        and_(T.status == "signed", T.reply_due_at < now),
    )
    return {
        "received": _count(counted),
        "merged": _count(merged),
        "dispatched": _count(dispatched),
        "answered_directly": _count(answered),
        "closed": _count(closed),
        "completed": _count(and_(closed, or_(dispatched, answered))),
        "redirected": _count(and_(closed, reason == "redirected")),
        "terminated": _count(and_(closed, reason == "terminated")),
        "backlog": _count(T.status != "closed"),
        "overdue_now": _count(overdue),
        "signed": _count(signed),
        "signed_on_time": _count(
            and_(signed, T.sign_due_at.is_not(None), T.signed_at <= T.sign_due_at)
        ),
        "replied": _count(replied),
        "replied_on_time": _count(
            and_(
                replied,
                T.replied_at >= T.dispatched_at,
                T.reply_due_at.is_not(None),
                T.replied_at <= T.reply_due_at,
            )
        ),
        "callbacks_reached": _count(reached),
        "resolved": _count(and_(reached, T.callback_resolution == "resolved")),
        "satisfied": _count(and_(reached, T.callback_satisfaction.in_(("satisfied", "basic")))),
        "returned": _count(and_(dispatched, T.return_count > 0)),
        "reworked": _count(and_(replied, T.rework_count > 0)),
        "escalated": _count(and_(counted, T.escalation_peak.is_not(None))),
        "ruled": _count(and_(counted, T.designated.is_(True))),
        "supervised": _count(and_(counted, T.supervised_at.is_not(None))),
        "staged": _count(and_(counted, T.staged_at.is_not(None))),
        **{f"escalated_{rung}": _count(and_(counted, T.escalation_peak == rung)) for rung in RUNGS},
    }


@dataclass(frozen=True)
class Rate:
    name: str
    zh: str
    numerator: str
    denominator: tuple[str, ...]  # summed
    formula: str


RATES = (
    Rate(
        "completion",
        "办结率",
        "completed",
        ("dispatched", "answered_directly"),
        "completed (closed and dispatched or answered directly) ÷ (dispatched + answered directly)",
    ),
    Rate(
        "on_time_completion",
        "按时办结率",
        "replied_on_time",
        ("replied",),
        "replied in the current cycle by the (extended) reply deadline ÷ replied",
    ),
    Rate(
        "on_time_signing",
        "按时签收率",
        "signed_on_time",
        ("dispatched",),
        "signed in the current cycle by the sign deadline ÷ dispatched",
    ),
    Rate(
        "response", "响应率", "signed", ("dispatched",), "signed in the current cycle ÷ dispatched"
    ),
    Rate(
        "resolution",
        "解决率",
        "resolved",
        ("callbacks_reached",),
        "resolved ÷ callbacks that reached the caller",
    ),
    Rate(
        "satisfaction",
        "满意率",
        "satisfied",
        ("callbacks_reached",),
        "(satisfied + basically satisfied) ÷ callbacks that reached the caller",
    ),
    Rate(
        "direct_answer",
        "直接答复率",
        "answered_directly",
        ("received",),
        "answered directly ÷ received",
    ),
    Rate(
        "return",
        "回退率",
        "returned",
        ("dispatched",),
        "dispatched tickets whose owner asked to return them ÷ dispatched",
    ),
    Rate(
        "rework",
        "重办率",
        "reworked",
        ("replied",),
        "replied tickets reworked at least once ÷ replied",
    ),
)


def rates(counted: dict[str, int]) -> dict[str, dict[str, Any]]:
    """Each rate with its numerator and denominator; null when the denominator is 0."""
    out: dict[str, dict[str, Any]] = {}
    for rate in RATES:
        numerator = int(counted.get(rate.numerator, 0))
        denominator = sum(int(counted.get(d, 0)) for d in rate.denominator)
        out[rate.name] = {
            "name_zh": rate.zh,
            "value": round(numerator / denominator, 4) if denominator else None,
            "numerator": numerator,
            "denominator": denominator,
            "formula": rate.formula,
        }
    return out


def minutes(seconds: Any) -> float | None:
    """A duration in seconds as the figures show it: minutes to one decimal."""
    return round(float(seconds) / 60, 1) if seconds is not None else None


def describe() -> str:
    """The formulas as Markdown lines, for the endpoints' descriptions."""
    return "\n".join(f"- `{r.name}` {r.zh} = {r.formula}" for r in RATES)
