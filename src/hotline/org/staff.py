"""Staff (grid workers, departments' members, officers of the units above the grid) and
members attached to grids."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.db import config_state
from hotline.errors import Conflict, NotFound, Unprocessable, found
from hotline.org import repository
from hotline.org.models import GridMember, Staff
from hotline.org.schemas import StaffCreate, StaffRole, StaffUpdate
from hotline.org.tree import home_problem, home_problem_zh


async def _check_home(session: AsyncSession, role: StaffRole, unit_code: str) -> None:
    unit = await repository.unit(session, unit_code)
    if unit is None:
        raise Unprocessable(
            f"没有编码为 {unit_code} 的单位", en=f"Unknown unit {unit_code}", field="unit_code"
        )
    problem = home_problem(role.value, unit.kind)
    if problem is not None:
        zh = home_problem_zh(role.value, unit.kind) or problem
        raise Unprocessable(zh, en=problem, field="unit_code")


async def _only_one_on_duty(session: AsyncSession, staff: Staff) -> None:
    # One full-time worker is on duty per grid (DESIGN.md §3): putting one on duty stands the
    # others down in the same transaction.
    if staff.role == StaffRole.worker and staff.on_duty:
        await repository.stand_down_others(session, staff)


async def create_staff(session: AsyncSession, data: StaffCreate, *, now: datetime) -> Staff:
    await _check_home(session, data.role, data.unit_code)
    staff = Staff(
        name=data.name,
        role=data.role.value,
        unit_code=data.unit_code,
        phone=data.phone,
        active=data.active,
        on_duty=data.on_duty and data.active,
        created_at=now,
        updated_at=now,
    )
    await config_state.added(session, staff, "org")
    await _only_one_on_duty(session, staff)
    return staff


async def update_staff(
    session: AsyncSession, staff_id: int, data: StaffUpdate, *, now: datetime
) -> Staff:
    staff = found(
        await repository.staff(session, staff_id),
        f"没有编号为 {staff_id} 的工作人员",
        en=f"No staff {staff_id}",
    )
    changes = data.model_dump(exclude_unset=True)
    if "unit_code" in changes:
        await _check_home(session, StaffRole(staff.role), changes["unit_code"])
    if not changes.get("active", staff.active):
        changes["on_duty"] = False
    await config_state.changed(session, staff, changes, "org", now=now)
    await _only_one_on_duty(session, staff)
    return staff


async def attach_member(
    session: AsyncSession, grid_code: str, staff_id: int, *, now: datetime
) -> Staff:
    """Attach a department's member to a grid (专属网格员); Conflict if already attached."""
    staff = await repository.staff(session, staff_id)
    if staff is None:
        raise Unprocessable(
            f"没有编号为 {staff_id} 的工作人员", en=f"No staff {staff_id}", field="staff_id"
        )
    if staff.role != StaffRole.member:
        raise Unprocessable(
            "只有部门人员可以作为专属网格员加入网格",
            en="Only a department's member can be attached",
            field="staff_id",
        )
    if await repository.grid_member(session, grid_code, staff_id) is not None:
        raise Conflict(
            f"工作人员 {staff_id} 已是网格 {grid_code} 的专属网格员",
            en=f"Staff {staff_id} is already attached to grid {grid_code}",
        )
    session.add(GridMember(grid_code=grid_code, staff_id=staff_id, created_at=now))
    await session.flush()
    await config_state.bump(session, "org")
    return staff


async def detach_member(session: AsyncSession, grid_code: str, staff_id: int) -> None:
    if not await repository.drop_grid_member(session, grid_code, staff_id):
        raise NotFound(
            f"工作人员 {staff_id} 不是网格 {grid_code} 的专属网格员",
            en=f"Staff {staff_id} is not attached to grid {grid_code}",
        )
    await config_state.bump(session, "org")
