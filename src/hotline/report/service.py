"""Building a report (通报) from the figures of metrics, and keeping its grading policy.

Every figure comes from ``metrics.service.breakdown`` over the tickets created in the period
(the scope ``/v1/metrics`` takes for ``from``..``to``), so a report and the dashboard agree:

- **units** (单位考核): the breakdown by the ticket's handling unit, each unit rolled up to the
  township it lies in (a grid's or a village's tickets are its township's) or kept as the
  department it is; the counts of a township's units added (every count is a number of tickets),
  then each column computed by report.figures and graded by report.grades;
- **below the floor** (满意度未达标): the units whose satisfaction rate is below the policy's floor;
- **hot spots** (热点): the clusters seen during the period, their keywords as outside readers see
  them (hotspot.service.shown);
- **categories** (类别排行): the breakdown by category, the most received first.

Reads only; expects one snapshot for all its statements (SnapshotSession), as metrics does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.errors import Unprocessable
from hotline.hotspot import service as hotspot_service
from hotline.kit.clock import county_zone
from hotline.metrics import formulas
from hotline.metrics import service as metrics_service
from hotline.org import repository as org_repository
from hotline.report import figures, grades, repository
from hotline.report.models import ReportGrade
from hotline.report.period import Period
from hotline.report.schemas import GradesIO

# The kinds a report ranks; any other unit holding tickets (the county, the group) stands alone.
RANKED = ("township", "department")
KIND_ZH = {
    "township": "乡镇",
    "department": "部门",
    "county": "县级",
    "group": "确责组",
    "village": "村/社区",
    "grid": "网格",
}
HOTSPOTS = 20
CATEGORIES = 10
STATUS_ZH = {"open": "待处置", "assigned": "已交办", "closed": "已关闭"}


def _policy(row: ReportGrade | None) -> grades.Policy:
    if row is None:
        return grades.DEFAULT
    return grades.Policy(
        a=grades.Threshold(row.a_on_time, row.a_satisfaction),
        b=grades.Threshold(row.b_on_time, row.b_satisfaction),
        c=grades.Threshold(row.c_on_time, row.c_satisfaction),
        satisfaction_floor=row.satisfaction_floor,
    )


async def policy(session: AsyncSession) -> tuple[grades.Policy, datetime | None]:
    """The grading policy and when it was last set (None: the defaults, never set)."""
    row = await repository.stored(session)
    return _policy(row), row.updated_at if row else None


async def set_policy(session: AsyncSession, new: grades.Policy, now: datetime) -> None:
    """Store the grading policy (every replica reads it per report). Unprocessable when its
    thresholds are out of order (A ≥ B ≥ C) or outside 0..1; the caller's unit commits."""
    problems = new.problems()
    if problems:
        raise Unprocessable(
            "；".join(problems),
            field="grades",
            en="Each threshold lies in 0..1, and A ≥ B ≥ C on both rates",
        )
    await repository.save(
        session,
        {
            "a_on_time": new.a.on_time,
            "a_satisfaction": new.a.satisfaction,
            "b_on_time": new.b.on_time,
            "b_satisfaction": new.b.satisfaction,
            "c_on_time": new.c.on_time,
            "c_satisfaction": new.c.satisfaction,
            "satisfaction_floor": new.satisfaction_floor,
            "updated_at": now,
        },
    )


def handling_units(tree: list[Any]) -> dict[str, str]:
    """unit code → the code of the unit a report counts it under: the nearest of itself and
    its ancestors that is a township or a department, else itself."""
    parent = {code: p for code, _, _, p in tree}
    kind = {code: k for code, _, k, _ in tree}
    out: dict[str, str] = {}
    for code in parent:
        at: str | None = code
        seen: set[str] = set()
        while at is not None and kind.get(at) not in RANKED and at not in seen:
            seen.add(at)
            at = parent.get(at)
        out[code] = at if at is not None and kind.get(at) in RANKED else code
    return out


def _unit_row(
    code: str | None, name: str, kind: str | None, counted: dict[str, int], rules: grades.Policy
) -> dict[str, Any]:
    shown = figures.figures(counted)
    on_time = shown["on_time_completion"]["value"]
    satisfaction = shown["satisfaction"]["value"]
    return {
        "code": code,
        "name": name,
        "kind": kind,
        "kind_zh": KIND_ZH.get(kind or "", ""),
        "figures": shown,
        "grade": grades.grade(rules, on_time, satisfaction) if code is not None else None,
    }


def _order(row: dict[str, Any]) -> tuple[str, float, str]:
    # Grade first (ungraded last), then the on-time completion rate, highest first.
    on_time = row["figures"]["on_time_completion"]["value"]
    return (row["grade"] or "Z", -(on_time if on_time is not None else -1.0), row["code"])


async def _units(
    session: AsyncSession, scope: metrics_service.Scope, now: datetime, rules: grades.Policy
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    groups = await metrics_service.breakdown(session, scope, now, "unit")
    tree = [tuple(row) for row in await org_repository.unit_rows(session)]
    under = handling_units(tree)
    about = {code: (name, kind) for code, name, kind, _ in tree}
    rolled: dict[str, list[dict[str, int]]] = {}
    for group in groups:
        if group["key"] is None:  # answered on the phone or closed in triage: no unit
            continue
        rolled.setdefault(under.get(group["key"], group["key"]), []).append(group["counts"])
    rows = []
    for code, parts in rolled.items():
        name, kind = about.get(code, (code, None))
        rows.append(_unit_row(code, name, kind, figures.added(parts), rules))
    rows.sort(key=_order)
    total = _unit_row(
        None, "合计", None, figures.added([c for p in rolled.values() for c in p]), rules
    )
    return rows, total


async def _hotspots(session: AsyncSession, period: Period, scope: Any) -> list[dict[str, Any]]:
    found = await hotspot_service.during(session, scope.start, scope.end, limit=HOTSPOTS)
    codes = {c.category_code for c, _ in found}
    categories = await org_repository.category_names(session, sorted(codes))
    places = await metrics_service.names(
        session,
        "unit",
        sorted({c.place_code for c, _ in found} | {c.lead_unit_code or "" for c, _ in found}),
    )
    zone = county_zone()
    out = []
    for cluster, members in found:
        keywords, _ = hotspot_service.shown(cluster, members, outside=True)
        out.append(
            {
                "id": cluster.id,
                "category": cluster.category_code,
                "category_name": categories.get(cluster.category_code, cluster.category_code),
                "place": cluster.place_code,
                "place_name": places.get(cluster.place_code, cluster.place_code),
                "size": cluster.size,
                "first_seen": cluster.first_seen.astimezone(zone).date(),
                "last_seen": cluster.last_seen.astimezone(zone).date(),
                "status": cluster.status,
                "status_zh": STATUS_ZH.get(cluster.status, cluster.status),
                "lead_unit": cluster.lead_unit_code,
                "lead_unit_name": places.get(cluster.lead_unit_code or ""),
                "keywords": keywords,
            }
        )
    return out


async def _categories(
    session: AsyncSession, scope: metrics_service.Scope, now: datetime
) -> list[dict[str, Any]]:
    groups = await metrics_service.breakdown(session, scope, now, "category")
    received = sum(g["counts"]["received"] for g in groups)
    groups.sort(key=lambda g: (-g["counts"]["received"], g["key"] or ""))
    top = [g for g in groups if g["counts"]["received"]][:CATEGORIES]
    names = await org_repository.category_names(session, [g["key"] for g in top if g["key"]])
    out = []
    for rank, g in enumerate(top, 1):
        n = g["counts"]["received"]
        rates = formulas.rates(g["counts"])
        out.append(
            {
                "rank": rank,
                "category": g["key"],
                "name": names.get(g["key"], g["key"]) if g["key"] else "未分类",
                "received": {"value": n, "numerator": n, "denominator": received},
                "share": {
                    "value": round(n / received, 4) if received else None,
                    "numerator": n,
                    "denominator": received,
                },
                **{
                    k: {f: rates[k][f] for f in ("value", "numerator", "denominator")}
                    for k in ("completion", "satisfaction")
                },
            }
        )
    return out


async def build(session: AsyncSession, period: Period, now: datetime) -> dict[str, Any]:
    """The report of ``period`` as plain data (schemas.Report), graded by the stored policy."""
    rules, _ = await policy(session)
    scope = metrics_service.Scope.of(period.start, period.last, {})
    units, total = await _units(session, scope, now, rules)
    below = [
        {
            "code": u["code"],
            "name": u["name"],
            "kind_zh": u["kind_zh"],
            "satisfaction": u["figures"]["satisfaction"],
            "unsatisfied": u["figures"]["unsatisfied"],
        }
        for u in units
        if grades.below_floor(rules, u["figures"]["satisfaction"]["value"])
    ]
    below.sort(key=lambda b: (b["satisfaction"]["value"], b["code"]))
    return {
        "period": {
            "kind": period.kind.value,
            "start": period.start,
            "end": period.end,
            "last": period.last,
            "label": period.label,
        },
        "title": f"12345热线{period.label}通报",
        "grades": GradesIO.of(rules).model_dump(),
        "columns": [
            {"key": c.key, "header": c.header, "kind": c.kind, "formula": c.formula}
            for c in figures.COLUMNS
        ],
        "units": units,
        "total": total,
        "below_floor": below,
        "hotspots": await _hotspots(session, period, scope),
        "categories": await _categories(session, scope, now),
    }
