"""The queries of the reports' grading policy (one row, id 1)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.report.models import ReportGrade


async def stored(session: AsyncSession) -> ReportGrade | None:
    return await session.get(ReportGrade, 1)


async def save(session: AsyncSession, values: dict[str, Any]) -> None:
    """Write the one row, inserted or updated in one statement: two admins setting the first
    policy at once both succeed (the later wins) instead of one hitting the primary key."""
    postgres = session.get_bind().dialect.name == "postgresql"
    statement = (pg_insert if postgres else sqlite_insert)(ReportGrade).values(id=1, **values)
    await session.execute(
        statement.on_conflict_do_update(index_elements=[ReportGrade.id], set_=values)
    )
