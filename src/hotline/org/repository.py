"""Organisation queries."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, column, delete, func, insert, or_, select, table, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.org.models import CatalogueRule, Category, GridMember, Staff, Unit
from hotline.org.tree import Node


async def unit(session: AsyncSession, code: str) -> Unit | None:
    return await session.get(Unit, code)


async def unit_tree(session: AsyncSession) -> dict[str, Node]:
    """Every stored unit's kind, parent and default grid, by code."""
    rows = await session.execute(
        select(Unit.code, Unit.kind, Unit.parent_code, Unit.default_grid_code)
    )
    return {code: Node(kind, parent, default) for code, kind, parent, default in rows}


async def staff_of_units(session: AsyncSession, codes: Sequence[str]) -> list[tuple[str, str, int]]:
    """(unit, role, id) of every staff member, active or not, of the units ``codes``."""
    rows = await session.execute(
        select(Staff.unit_code, Staff.role, Staff.id)
        .where(Staff.unit_code.in_(codes))
        .order_by(Staff.id)
    )
    return [(str(unit), str(role), int(i)) for unit, role, i in rows]


async def members_attached(session: AsyncSession, codes: Sequence[str]) -> dict[str, int]:
    """How many dedicated members are attached to each of the grids ``codes`` that has any."""
    rows = await session.execute(
        select(GridMember.grid_code, func.count())
        .where(GridMember.grid_code.in_(codes))
        .group_by(GridMember.grid_code)
    )
    return {str(code): int(n) for code, n in rows}


# The ticket sits above the organisation in the house: which units open tickets name is read
# from its table by name, as auth reads a unit's kind. "closed" is its one final state.
_ticket = table(
    "ticket",
    column("status"),
    column("unit_code"),
    column("grid_code"),
    column("area_code"),
    column("escalation_unit_code"),
)


async def open_tickets_naming(session: AsyncSession, codes: Sequence[str]) -> dict[str, int]:
    """How many open tickets name each of the units ``codes`` (as their handling unit, grid,
    area or escalation unit), for those that any names."""
    c = _ticket.c
    named = (c.unit_code, c.grid_code, c.area_code, c.escalation_unit_code)
    rows = await session.execute(
        select(*named).where(c.status != "closed", or_(*(n.in_(codes) for n in named)))
    )
    wanted = set(codes)
    counts: dict[str, int] = {}
    for row in rows:
        for code in wanted.intersection(row):
            counts[code] = counts.get(code, 0) + 1
    return counts


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


async def categories(session: AsyncSession, *, everything: bool = False) -> Sequence[Category]:
    """The active categories (``everything``: deactivated ones too), by group and code."""
    query = select(Category).order_by(Category.group_name, Category.code)
    if not everything:
        query = query.where(Category.active)
    return (await session.scalars(query)).all()


async def duty_rule(session: AsyncSession, category_code: str, source: str) -> CatalogueRule | None:
    """The catalogue rule that keeps a category's duty unit (org.category_admin)."""
    return await session.scalar(
        select(CatalogueRule)
        .where(CatalogueRule.category_code == category_code, CatalogueRule.source == source)
        .order_by(CatalogueRule.id)
        .limit(1)
    )


async def grid_members_among(
    session: AsyncSession, grid_code: str | None, staff_ids: Sequence[int]
) -> set[int]:
    """Those of ``staff_ids`` who are dedicated members of the grid."""
    rows = await session.scalars(
        select(GridMember.staff_id).where(
            GridMember.grid_code == grid_code, GridMember.staff_id.in_(staff_ids)
        )
    )
    return set(rows)


async def departments_among(session: AsyncSession, codes: Sequence[str]) -> set[str]:
    """Those of ``codes`` that are departments."""
    rows = await session.scalars(
        select(Unit.code).where(Unit.code.in_(codes), Unit.kind == "department")
    )
    return set(rows)


async def stand_down_others(session: AsyncSession, staff: Staff) -> None:
    """Every other worker of the staff's grid goes off duty."""
    await session.execute(
        update(Staff)
        .where(Staff.unit_code == staff.unit_code, Staff.role == "worker", Staff.id != staff.id)
        .values(on_duty=False)
    )


async def grid_member(session: AsyncSession, grid_code: str, staff_id: int) -> GridMember | None:
    return await session.scalar(
        select(GridMember).where(GridMember.grid_code == grid_code, GridMember.staff_id == staff_id)
    )


async def drop_grid_member(session: AsyncSession, grid_code: str, staff_id: int) -> bool:
    """Detach the member from the grid; False if they were not attached."""
    result = await session.execute(
        delete(GridMember).where(GridMember.grid_code == grid_code, GridMember.staff_id == staff_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def insert_units(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(Unit), rows)


async def update_units(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk update by primary key (each row holds ``code``)."""
    if rows:
        await session.execute(update(Unit), rows)


async def all_units(session: AsyncSession) -> Sequence[Unit]:
    return (await session.scalars(select(Unit))).all()


async def on_duty_worker(session: AsyncSession, grid_code: str) -> Staff | None:
    """The grid's active worker on duty (the lowest id, should there be two)."""
    return await session.scalar(
        select(Staff)
        .where(
            Staff.unit_code == grid_code,
            Staff.role == "worker",
            Staff.active,
            Staff.on_duty,
        )
        .order_by(Staff.id)
        .limit(1)
    )


async def on_duty_workers(session: AsyncSession) -> list[tuple[int, str, str]]:
    """(id, name, grid) of every active worker on duty."""
    rows = await session.execute(
        select(Staff.id, Staff.name, Staff.unit_code)
        .where(Staff.role == "worker", Staff.active, Staff.on_duty)
        .order_by(Staff.id)
    )
    return [(int(i), str(n), str(u)) for i, n, u in rows]


async def all_categories(session: AsyncSession) -> Sequence[Category]:
    """Every category, retired ones too."""
    return (await session.scalars(select(Category))).all()


async def field_staff(session: AsyncSession) -> Sequence[Staff]:
    """Every worker, member and officer, by id."""
    rows = await session.scalars(
        select(Staff).where(Staff.role.in_(("worker", "member", "officer"))).order_by(Staff.id)
    )
    return rows.all()


async def unit_rows(session: AsyncSession) -> Sequence[Any]:
    """(code, name, kind, parent_code) of every unit, active or not (reports roll units up)."""
    rows = await session.execute(select(Unit.code, Unit.name, Unit.kind, Unit.parent_code))
    return rows.all()


async def category_names(session: AsyncSession, codes: Sequence[str]) -> dict[str, str]:
    """code → name of these categories, active or not."""
    rows = await session.execute(
        select(Category.code, Category.name).where(Category.code.in_(codes))
    )
    return {code: name for code, name in rows}
