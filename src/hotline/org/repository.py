"""Organisation queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.org.models import CatalogueRule, Category, GridMember, Staff, Unit


async def unit(session: AsyncSession, code: str) -> Unit | None:
    return await session.get(Unit, code)


async def existing_codes(session: AsyncSession, codes: Iterable[str]) -> dict[str, str]:
    """code → kind for those of ``codes`` that exist."""
    wanted = list(set(codes))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 5000):
        rows = await session.execute(
            select(Unit.code, Unit.kind).where(Unit.code.in_(wanted[start : start + 5000]))
        )
        found.update({code: kind for code, kind in rows})
    return found


async def grid_boundaries(session: AsyncSession) -> list[tuple[str, dict[str, object]]]:
    rows = await session.execute(
        select(Unit.code, Unit.boundary).where(Unit.kind == "grid", Unit.boundary.is_not(None))
    )
    return [(code, boundary) for code, boundary in rows if boundary]


def units_query(kind: str | None, parent_code: str | None) -> Select[Unit]:
    query = select(Unit)
    if kind is not None:
        query = query.where(Unit.kind == kind)
    if parent_code is not None:
        query = query.where(Unit.parent_code == parent_code)
    return query


async def units_page(
    session: AsyncSession,
    *,
    kind: str | None,
    parent_code: str | None,
    after: str | None,
    limit: int,
) -> Sequence[Unit]:
    query = units_query(kind, parent_code)
    if after is not None:
        query = query.where(Unit.code > after)
    rows = await session.scalars(query.order_by(Unit.code).limit(limit + 1))
    return rows.all()


async def staff_of_grid(session: AsyncSession, grid_code: str) -> tuple[list[Staff], list[Staff]]:
    """(workers of the grid, dedicated members attached to it)."""
    workers = await session.scalars(
        select(Staff).where(Staff.unit_code == grid_code, Staff.role == "worker").order_by(Staff.id)
    )
    members = await session.scalars(
        select(Staff)
        .join(GridMember, GridMember.staff_id == Staff.id)
        .where(GridMember.grid_code == grid_code)
        .order_by(Staff.id)
    )
    return list(workers.all()), list(members.all())


async def grids_of_member(session: AsyncSession, staff_ids: Sequence[int]) -> dict[int, list[str]]:
    rows = await session.execute(
        select(GridMember.staff_id, GridMember.grid_code)
        .where(GridMember.staff_id.in_(staff_ids))
        .order_by(GridMember.grid_code)
    )
    out: dict[int, list[str]] = {}
    for staff_id, grid in rows:
        out.setdefault(staff_id, []).append(grid)
    return out


async def staff(session: AsyncSession, staff_id: int) -> Staff | None:
    return await session.get(Staff, staff_id)


async def staff_page(
    session: AsyncSession, *, unit_code: str | None, role: str | None, after: int, limit: int
) -> Sequence[Staff]:
    query = select(Staff).where(Staff.id > after)
    if unit_code is not None:
        query = query.where(Staff.unit_code == unit_code)
    if role is not None:
        query = query.where(Staff.role == role)
    return (await session.scalars(query.order_by(Staff.id).limit(limit + 1))).all()


async def rule(session: AsyncSession, rule_id: int) -> CatalogueRule | None:
    return await session.get(CatalogueRule, rule_id)


async def rules(session: AsyncSession) -> Sequence[CatalogueRule]:
    return (await session.scalars(select(CatalogueRule).order_by(CatalogueRule.id))).all()


async def category(session: AsyncSession, code: str) -> Category | None:
    return await session.get(Category, code)


async def categories(session: AsyncSession) -> Sequence[Category]:
    rows = await session.scalars(
        select(Category).where(Category.active).order_by(Category.group_name, Category.code)
    )
    return rows.all()
