"""HTTP for the dashboard's figures. Never personal data: counts and rates only."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from hotline.auth.dependencies import require
from hotline.auth.roles import CENTRE, Role
from hotline.auth.service import Principal
from hotline.db.session import SnapshotSession
from hotline.errors import Forbidden, Unauthenticated, Unprocessable, responses
from hotline.kit.clock import Now, county_zone
from hotline.metrics import formulas, service

router = APIRouter(prefix="/v1/metrics", tags=["metrics"])
Reader = Annotated[Principal, Depends(require(Role.viewer, *CENTRE))]
PROBLEMS = responses(Unauthenticated, Forbidden, Unprocessable)
FORMULAS = (
    "Over tickets created in the period (`from`..`to`, county dates, both included). "
    "A rate with a zero denominator is null.\n\n" + formulas.describe()
)


class Rate(BaseModel):
    name_zh: str
    value: float | None = Field(description="numerator ÷ denominator; null when 0 ÷ 0")
    numerator: int
    denominator: int
    formula: str


class Group(BaseModel):
    key: Any = Field(description="The group's code (or staff id for `worker`)")
    name: str | None
    counts: dict[str, int]
    rates: dict[str, Rate]


class Summary(BaseModel):
    period: dict[str, date]
    filters: dict[str, str]
    counts: dict[str, int]
    rates: dict[str, Rate]
    time_to_sign: dict[str, float | None]
    time_to_close: dict[str, float | None]
    whistles: dict[str, Any]
    escalations_by_level: dict[str, int] = Field(
        description="Tickets by the highest kind of rung they reached: village, department "
        "(its head), township, line (the enterprise line's unit), county (督办), group (确责)"
    )
    clusters: dict[str, int]
    suggestions: dict[str, dict[str, Any]] = Field(
        default={},
        description="accuracy_on_intake, top3_on_intake (suggested vs final category of tickets "
        "posted without one), automatic_acceptance (routed on the suggestion ÷ posted without a "
        "category), first_dispatch_right (never returned, re-dispatched or ruled ÷ dispatched); "
        "each {value, numerator, denominator}",
    )


class Breakdown(BaseModel):
    by: str
    period: dict[str, date]
    items: list[Group]


class Point(BaseModel):
    period: str
    counts: dict[str, int]
    rates: dict[str, Rate]


class Series(BaseModel):
    interval: str
    items: list[Point]


class By(StrEnum):
    township = "township"
    village = "village"
    grid = "grid"
    unit = "unit"
    line = "line"
    category = "category"
    kind = "kind"
    worker = "worker"


class Interval(StrEnum):
    day = "day"
    week = "week"
    month = "month"


Code = Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


# ASCII digits: Python's \d also takes "２０２６", JSON Schema's pattern does not.
DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _day(value: str | None, field: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError as exc:
        raise Unprocessable(
            f"`{field}` 不是日期（YYYY-MM-DD）",
            en=f"`{field}` is not a date (YYYY-MM-DD)",
            field=field,
        ) from exc


def scope(
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            pattern=DAY,
            json_schema_extra={"format": "date"},
            description="First day, YYYY-MM-DD (default: the first of this month)",
        ),
    ] = None,
    to: Annotated[
        str | None,
        Query(
            pattern=DAY,
            json_schema_extra={"format": "date"},
            description="Last day, included (default: today)",
        ),
    ] = None,
    township: Code = None,
    village: Code = None,
    grid: Code = None,
    unit: Code = None,
    line: Code = None,
    category: Code = None,
    kind: Code = None,
    urgency: Code = None,
    *,
    now: Now,
) -> service.Scope:
    today = now.astimezone(county_zone()).date()
    last = _day(to, "to") or today
    first = _day(from_, "from") or last.replace(day=1)
    if first > last:
        raise Unprocessable(
            "开始日期 `from` 晚于结束日期 `to`", en="`from` is after `to`", field="from"
        )
    filters = {
        "township": township,
        "village": village,
        "grid": grid,
        "unit": unit,
        "line": line,
        "category": category,
        "kind": kind,
        "urgency": urgency,
    }
    return service.Scope.of(first, last, filters)


Scoped = Annotated[service.Scope, Depends(scope)]


def _period(s: service.Scope) -> dict[str, date]:
    zone = county_zone()
    return {
        "from": s.start.astimezone(zone).date(),
        "to": (s.end.astimezone(zone) - timedelta(days=1)).date(),
    }


@router.get(
    "/summary",
    response_model=Summary,
    responses=PROBLEMS,
    summary="The headline figures",
    description=FORMULAS,
)
async def summary(session: SnapshotSession, principal: Reader, s: Scoped, now: Now) -> Summary:
    figures = await service.summary(session, s, now)
    return Summary(period=_period(s), filters=s.filters, **figures)


@router.get(
    "/breakdown",
    response_model=Breakdown,
    responses=PROBLEMS,
    summary="The figures per township, village, grid, unit, line, category, kind or worker",
    description=FORMULAS
    + "\n\nBy `worker`, the viewer sees each worker's staff code (`S112`) as `name`; the centre "
    "sees their names.",
)
async def breakdown(
    session: SnapshotSession,
    principal: Reader,
    s: Scoped,
    by: By,
    now: Now,
    sort: Annotated[str, Query(max_length=40, description="A count or rate name")] = "received",
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
) -> Breakdown:
    names = set(formulas.counts(now)) | {r.name for r in formulas.RATES}
    if sort not in names:
        raise Unprocessable(
            f"排序字段 sort 应为以下之一：{', '.join(sorted(names))}",
            en=f"sort must be one of {', '.join(sorted(names))}",
            field="sort",
        )
    groups = await service.breakdown(session, s, now, by.value)
    if by is By.worker and principal.role is Role.viewer:
        # The dashboard's screens hang in halls: people by staff code, names for the centre.
        for g in groups:
            g["name"] = service.staff_code(g["key"]) if g["key"] is not None else None

    def value(g: dict[str, Any]) -> tuple[bool, float]:
        v = g["counts"].get(sort, g["rates"].get(sort, {}).get("value"))
        # Groups without a value (0 ÷ 0) sort last either way.
        return (v is not None, v if v is not None else 0.0)

    groups.sort(key=value, reverse=order == "desc")
    if order == "asc":
        groups.sort(key=lambda g: not value(g)[0])
    return Breakdown(by=by.value, period=_period(s), items=groups)


@router.get(
    "/timeseries",
    response_model=Series,
    responses=PROBLEMS,
    summary="The main figures per day, week or month",
    description=FORMULAS,
)
async def timeseries(
    session: SnapshotSession,
    principal: Reader,
    s: Scoped,
    now: Now,
    interval: Interval = Interval.day,
) -> Series:
    points = await service.timeseries(session, s, now, interval.value)
    return Series(interval=interval.value, items=points)
