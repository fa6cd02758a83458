"""A report's tables as rows of cells, one table per sheet, from the report's JSON (the
``Report`` model dumped in JSON mode), so the Excel file, the CSV and the JSON say the same.

    单位考核      units graded, and the total row (合计)         the CSV holds this table
    满意度未达标  units whose satisfaction rate is below the floor
    热点          the hot spots seen during the period
    类别排行      the categories most received
    考核标准      the grading policy the grades were given by
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Table:
    sheet: str
    title: str
    headers: list[str]
    kinds: list[str]  # per column: text | count | rate
    rows: list[list[Any]]
    frozen_columns: int = 0  # columns kept in view beside the frozen header rows


def _units(report: dict[str, Any]) -> Table:
    columns = report["columns"]
    headers = ["单位", "类型", *(c["header"] for c in columns), "等级"]
    kinds = ["text", "text", *(c["kind"] for c in columns), "text"]
    rows = []
    for unit in [*report["units"], report["total"]]:
        figures = unit["figures"]
        rows.append(
            [
                unit["name"],
                unit["kind_zh"] or None,  # the total row has none
                *(figures[c["key"]]["value"] for c in columns),
                unit["grade"],
            ]
        )
    title = f"{report['title']} · 单位考核"
    return Table("单位考核", title, headers, kinds, rows, frozen_columns=1)


def _below(report: dict[str, Any]) -> Table:
    floor = report["grades"]["satisfaction_floor"]
    rows = [
        [
            b["name"],
            b["kind_zh"],
            b["satisfaction"]["value"],
            b["satisfaction"]["denominator"],
            b["unsatisfied"]["value"],
        ]
        for b in report["below_floor"]
    ]
    return Table(
        "满意度未达标",
        f"{report['title']} · 满意率低于 {floor * 100:.1f}% 的单位",
        ["单位", "类型", "满意率", "回访接通", "不满意数"],
        ["text", "text", "rate", "count", "count"],
        rows,
        frozen_columns=1,
    )


def _hotspots(report: dict[str, Any]) -> Table:
    rows = [
        [
            h["id"],
            h["category_name"],
            h["place_name"],
            h["size"],
            h["first_seen"],
            h["last_seen"],
            h["status_zh"],
            h["lead_unit_name"],
            "、".join(h["keywords"]),
        ]
        for h in report["hotspots"]
    ]
    return Table(
        "热点",
        f"{report['title']} · 热点（类案）",
        ["编号", "分类", "地点", "工单数", "首次出现", "最近出现", "状态", "牵头单位", "关键词"],
        ["count", "text", "text", "count", "text", "text", "text", "text", "text"],
        rows,
    )


def _categories(report: dict[str, Any]) -> Table:
    rows = [
        [
            c["rank"],
            c["name"],
            c["received"]["value"],
            c["share"]["value"],
            c["completion"]["value"],
            c["satisfaction"]["value"],
        ]
        for c in report["categories"]
    ]
    return Table(
        "类别排行",
        f"{report['title']} · 诉求类别排行",
        ["排名", "分类", "受理量", "占比", "办结率", "满意率"],
        ["count", "text", "count", "rate", "rate", "rate"],
        rows,
    )


def _policy(report: dict[str, Any]) -> Table:
    g = report["grades"]
    rows: list[list[Any]] = [
        [name, g[key]["on_time_completion"], g[key]["satisfaction"]]
        for name, key in (("A", "a"), ("B", "b"), ("C", "c"))
    ]
    rows += [["D（其余）", None, None], ["满意度底线", None, g["satisfaction_floor"]]]
    return Table(
        "考核标准",
        f"{report['title']} · 考核标准（按时办结率与满意率均达到）",
        ["等级", "按时办结率不低于", "满意率不低于"],
        ["text", "rate", "rate"],
        rows,
    )


def tables(report: dict[str, Any]) -> list[Table]:
    """Every table of the report, the unit table first."""
    return [_units(report), _below(report), _hotspots(report), _categories(report), _policy(report)]
