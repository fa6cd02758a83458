"""The columns of the unit table (单位考核表), each a figure {value, numerator, denominator} made
from the counts of metrics.formulas, so that a report and ``/v1/metrics`` agree to the ticket.

A count column's value is its numerator, and its denominator is what it is a part of (按时签收
of 派遣); a rate column's value is numerator ÷ denominator, rounded as metrics.formulas.rates
rounds, null when the denominator is 0. Every numerator is a subset of its denominator.

    派遣      dispatched                                   of received
    按时签收  signed in the current cycle on time           of dispatched    (按时签收率)
    按时办结  replied in the current cycle on time          of replied       (按时办结率)
    超时办结  replied, not on time                          of replied
    未办结    (dispatched + answered directly) − completed  of (dispatched + answered directly)
    办结率    completed ÷ (dispatched + answered directly)                   (办结率)
    按时办结率 replied on time ÷ replied                                      (按时办结率)
    不满意数  reached − (satisfied + basically satisfied)  of callbacks that reached
    不满意率  the same, as a rate                                            (1 − 满意率)
    满意率    (satisfied + basically satisfied) ÷ reached                    (满意率)
    重办      replied tickets reworked at least once        of replied       (重办率)
    回退      dispatched tickets asked to be returned       of dispatched    (回退率)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hotline.metrics import formulas

Counts = dict[str, int]


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    kind: str  # count | rate
    numerator: Callable[[Counts], int]
    denominator: Callable[[Counts], int]
    formula: str


def _c(name: str) -> Callable[[Counts], int]:
    return lambda c: int(c.get(name, 0))


def _base(c: Counts) -> int:
    return int(c.get("dispatched", 0)) + int(c.get("answered_directly", 0))


def _late(c: Counts) -> int:
    return int(c.get("replied", 0)) - int(c.get("replied_on_time", 0))


def _open(c: Counts) -> int:
    return _base(c) - int(c.get("completed", 0))


def _unsatisfied(c: Counts) -> int:
    return int(c.get("callbacks_reached", 0)) - int(c.get("satisfied", 0))


def _rate(name: str, key: str | None = None) -> Column:
    rate = next(r for r in formulas.RATES if r.name == name)

    def denominator(c: Counts) -> int:
        return sum(int(c.get(d, 0)) for d in rate.denominator)

    return Column(key or name, rate.zh, "rate", _c(rate.numerator), denominator, rate.formula)


COLUMNS: tuple[Column, ...] = (
    Column(
        "dispatched", "派遣", "count", _c("dispatched"), _c("received"), "dispatched, of received"
    ),
    Column(
        "signed_on_time",
        "按时签收",
        "count",
        _c("signed_on_time"),
        _c("dispatched"),
        "signed in the current cycle by the sign deadline, of dispatched",
    ),
    Column(
        "completed_on_time",
        "按时办结",
        "count",
        _c("replied_on_time"),
        _c("replied"),
        "replied in the current cycle by the (extended) reply deadline, of replied",
    ),
    Column(
        "completed_late",
        "超时办结",
        "count",
        _late,
        _c("replied"),
        "replied, not on time (replied − replied on time), of replied",
    ),
    Column(
        "open",
        "未办结",
        "count",
        _open,
        _base,
        "(dispatched + answered directly) − completed, of (dispatched + answered directly)",
    ),
    _rate("completion"),
    _rate("on_time_completion"),
    Column(
        "unsatisfied",
        "不满意数",
        "count",
        _unsatisfied,
        _c("callbacks_reached"),
        "callbacks that reached the caller − (satisfied + basically satisfied), of reached",
    ),
    Column(
        "unsatisfaction",
        "不满意率",
        "rate",
        _unsatisfied,
        _c("callbacks_reached"),
        "(reached − satisfied − basically satisfied) ÷ callbacks that reached the caller",
    ),
    _rate("satisfaction"),
    Column(
        "reworked",
        "重办",
        "count",
        _c("reworked"),
        _c("replied"),
        "replied tickets reworked at least once, of replied",
    ),
    Column(
        "returned",
        "回退",
        "count",
        _c("returned"),
        _c("dispatched"),
        "dispatched tickets whose owner asked to return them, of dispatched",
    ),
)


def figure(column: Column, counted: Counts) -> dict[str, Any]:
    numerator, denominator = column.numerator(counted), column.denominator(counted)
    if column.kind == "count":
        value: float | int | None = numerator
    else:
        value = round(numerator / denominator, 4) if denominator else None
    return {"value": value, "numerator": numerator, "denominator": denominator}


def figures(counted: Counts) -> dict[str, dict[str, Any]]:
    """Every column of the unit table over these counts."""
    return {column.key: figure(column, counted) for column in COLUMNS}


def added(groups: list[Counts]) -> Counts:
    """The counts of several groups together (every count is a number of tickets, so they add)."""
    total: Counts = {}
    for counted in groups:
        for name, n in counted.items():
            total[name] = total.get(name, 0) + int(n)
    return total
