"""HTTP for the reports (通报) and their grading policy. Counts and rates only, no person."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import Response

from hotline.auth.dependencies import Admin, require
from hotline.auth.roles import Role
from hotline.auth.service import Principal
from hotline.db.session import ReadSession, Session, SnapshotSession
from hotline.errors import Forbidden, Unauthenticated, Unprocessable, responses
from hotline.kit.clock import Now
from hotline.report import excel, figures, service
from hotline.report.period import Period, PeriodKind
from hotline.report.schemas import GradesIO, GradesRead, Report

router = APIRouter(prefix="/v1/reports", tags=["reports"])
Reader = Annotated[Principal, Depends(require(Role.viewer, Role.dispatcher, Role.admin))]
PROBLEMS = responses(Unauthenticated, Forbidden, Unprocessable)
DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
COLUMNS = "\n".join(f"- `{c.key}` {c.header}: {c.formula}" for c in figures.COLUMNS)
FILES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            excel.XLSX: {"schema": {"type": "string", "format": "binary"}},
            "text/csv": {"schema": {"type": "string"}},
        },
        "description": "The report as JSON, an Excel workbook or the unit table as CSV",
    }
}


class ReportFormat(StrEnum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


def chosen(format_: ReportFormat | None, accept: str | None) -> ReportFormat:
    """``format=`` wins; else the Accept header naming the workbook or CSV; else JSON."""
    if format_ is not None:
        return format_
    accept = (accept or "").lower()
    if "spreadsheetml" in accept:
        return ReportFormat.xlsx
    if "text/csv" in accept:
        return ReportFormat.csv
    return ReportFormat.json


def attachment(filename: str) -> str:
    """Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 6266, RFC 5987)."""
    fallback = filename.replace("通报", "report")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


@router.get(
    "/grades",
    response_model=GradesRead,
    responses=PROBLEMS,
    summary="The grading policy of the reports (A–D thresholds, the satisfaction floor)",
)
async def get_grades(session: ReadSession, principal: Reader) -> GradesRead:
    policy, updated_at = await service.policy(session)
    return GradesRead(**GradesIO.of(policy).model_dump(), updated_at=updated_at)


@router.put(
    "/grades",
    response_model=GradesRead,
    responses=PROBLEMS,
    summary="Change the grading policy (admin)",
)
async def put_grades(data: GradesIO, session: Session, principal: Admin, now: Now) -> GradesRead:
    await service.set_policy(session, data.policy(), now)
    return GradesRead(**data.model_dump(), updated_at=now)


@router.get(
    "/{period}",
    response_model=Report,
    responses={**PROBLEMS, **FILES},
    summary="A report (通报): the standard tables of a week, month or quarter, graded",
    description="Over the tickets created in the period (county dates, `start` included, the "
    "next period's start not), by the formulas of `/v1/metrics`. Per handling unit (a ticket "
    "of a grid or village counts for its township; a department for itself):\n\n"
    + COLUMNS
    + "\n\nGrade A when the on-time completion rate and the satisfaction rate both reach A's "
    "thresholds (`GET /v1/reports/grades`), else B, else C, else D; none when either rate is "
    "0 ÷ 0. `format=` (json, csv, xlsx) wins over `Accept:`; the CSV is the unit table.",
)
async def report(
    period: PeriodKind,
    session: SnapshotSession,
    principal: Reader,
    now: Now,
    start: Annotated[
        str,
        Query(
            pattern=DAY,
            json_schema_extra={"format": "date"},
            description="The first day: a Monday (week), the 1st (month), 1 Jan/Apr/Jul/Oct "
            "(quarter)",
        ),
    ],
    format_: Annotated[ReportFormat | None, Query(alias="format")] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response | Report:
    try:
        first = date.fromisoformat(start)
    except ValueError as exc:
        raise Unprocessable(
            "开始日期不是有效日期（YYYY-MM-DD）", field="start", en="`start` is not a date"
        ) from exc
    chosen_period = Period.of(period, first)
    built = Report.model_validate(await service.build(session, chosen_period, now))
    wanted = chosen(format_, accept)
    if wanted is ReportFormat.json:
        return built
    data = built.model_dump(mode="json")
    name = f"通报-{chosen_period.stem}.{wanted.value}"
    if wanted is ReportFormat.xlsx:
        body, media = excel.xlsx(data), excel.XLSX
    else:
        body, media = excel.csv_text(data), excel.CSV
    return Response(body, media_type=media, headers={"Content-Disposition": attachment(name)})
