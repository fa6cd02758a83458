"""The queries of the reports' grading policy (one row, id 1)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.report.models import ReportGrade


async def stored(session: AsyncSession) -> ReportGrade | None:
    return await session.get(ReportGrade, 1)


async def locked(session: AsyncSession) -> ReportGrade | None:
    return await session.get(ReportGrade, 1, with_for_update=True)
