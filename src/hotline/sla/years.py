"""Years of the working-day calendar managed through the API (``calendar_year``), and what a
newly known year changes: the clocks started while it was unknown (counted Monday to Friday)
are counted again on the real calendar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.service import Principal
from hotline.change import pipeline
from hotline.db import config_state
from hotline.errors import Unprocessable
from hotline.kit.clock import local_iso
from hotline.sla import deadlines, repository
from hotline.sla.calendar import FIXED_HOLIDAYS, WorkCalendar, year_days
from hotline.sla.calendars import CalendarCache
from hotline.sla.models import CalendarYear
from hotline.ticket import events


def unknown_years(calendar: WorkCalendar, now: datetime) -> list[int]:
    """This year and the next, and every year a deadline had to guess, that no calendar knows."""
    this = now.astimezone(calendar.zone).year
    years = {this, this + 1} | deadlines.GUESSED_YEARS
    return sorted(y for y in years if not calendar.is_known(y))


def describe(calendar: WorkCalendar, year: int, row: CalendarYear | None) -> dict[str, Any]:
    days = calendar.year(year)
    return {
        "year": year,
        "known": calendar.is_known(year),
        "source": calendar.source(year),
        "holidays": [d.isoformat() for d, label in days if label == "holiday"],
        "workdays": [d.isoformat() for d, label in days if label == "makeup-workday"],
        "working_days": sum(label in ("workday", "makeup-workday") for _, label in days),
        "note": row.note if row else "",
        "updated_at": row.updated_at if row else None,
        "updated_by": row.updated_by if row else None,
    }


async def read(session: AsyncSession, cache: CalendarCache, year: int) -> dict[str, Any]:
    calendar = await cache.current(session)
    return describe(calendar, year, await repository.year(session, year))


async def store(
    session: AsyncSession,
    cache: CalendarCache,
    year: int,
    *,
    holidays: list[date],
    workdays: list[date],
    note: str,
    principal: Principal,
    now: datetime,
) -> tuple[dict[str, Any], int]:
    """Set a year (it then replaces the package's and the file's data for it in every process)
    and count again every open ticket's clocks that guessed it. Returns the year as read back
    and how many tickets were recounted; the caller commits. 422 names a bad date."""
    try:
        year_days(year, [d.isoformat() for d in holidays], [d.isoformat() for d in workdays])
    except ValueError as exc:
        field = "workdays" if "workdays" in str(exc) else "holidays"
        raise Unprocessable(f"日期有误：{exc}", en=str(exc), field=field) from exc
    # A year replaces the package's wholesale: a statutory date left out is a slip, not a rule.
    missing = sorted(
        f"{year}-{m:02d}-{d:02d}" for m, d in FIXED_HOLIDAYS if date(year, m, d) not in holidays
    )
    if missing:
        raise Unprocessable(
            f"节假日须包含固定日期的法定节假日：{', '.join(missing)}",
            en=f"holidays must include the fixed-date statutory holidays: {', '.join(missing)}",
            field="holidays",
        )
    row = await repository.year(session, year, locked=True)
    if row is None:
        row = CalendarYear(year=year, revision=0)
        session.add(row)
    row.holidays = sorted({d.isoformat() for d in holidays})
    row.workdays = sorted({d.isoformat() for d in workdays})
    row.note = note
    row.revision = (row.revision or 0) + 1
    row.updated_by = principal.name
    row.updated_at = now
    await session.flush()
    await config_state.bump(session, "calendar")
    calendar = await cache.current(session)
    counted = await recount(session, calendar, year, now)
    return describe(calendar, year, row), counted


async def recount(session: AsyncSession, calendar: WorkCalendar, year: int, now: datetime) -> int:
    """Count again, on ``calendar``, the clocks of open tickets that guessed ``year``."""
    rows = await repository.guessing(session, year)
    touched = [t for t in rows if year in (t.calendar_unknown_years or [])]
    for ticket in touched:
        pipeline.touch(session, ticket)
        before = {k: local_iso(v) for k, v in deadlines.stored(ticket).items()}
        await deadlines.recompute(session, ticket, calendar, now)
        after = {k: local_iso(v) for k, v in deadlines.stored(ticket).items()}
        events.record(
            session,
            ticket,
            "deadlines_recounted",
            actor=None,
            at=now,
            from_status=ticket.status,
            details={
                "year": year,
                "changed": {
                    k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]
                },
            },
        )
        ticket.version += 1
        ticket.updated_at = now
    deadlines.GUESSED_YEARS.discard(year)
    return len(touched)
