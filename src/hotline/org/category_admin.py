"""Managing the category catalogue (诉求分类, issue 16): admins add and change categories.

A category's ``duty_unit`` is kept as a catalogue rule of source ``category`` (category → unit,
the least specific rule naming it), so routing needs nothing new and the rule shows in
``GET /v1/catalogue-rules``. A deactivated category is no longer offered for new tickets (intake
refuses it) and keeps its tickets and rules. Every change bumps the ``categories`` generation
(and ``org`` when the duty rule moves), so every process's caches see it at their next request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.db import config_state
from hotline.errors import Conflict, NotFound, Unprocessable
from hotline.org import repository
from hotline.org.models import CatalogueRule, Category
from hotline.org.schemas import CategoryCreate, CategoryUpdate

DUTY = "category"  # the source of a duty unit's catalogue rule
# Columns another change may add to the catalogue; PATCH sets them when the model has them.
OPTIONAL_COLUMNS = ("requires_after_photo",)


async def _parent(session: AsyncSession, code: str) -> Category:
    parent = await repository.category(session, code)
    if parent is None:
        raise Unprocessable(f"上级类别 {code} 不存在", en=f"Unknown parent {code}", field="parent")
    return parent


async def _duty_unit(session: AsyncSession, code: str) -> None:
    unit = await repository.unit(session, code)
    if unit is None or not unit.active:
        raise Unprocessable(
            f"责任单位 {code} 不存在或已停用", en=f"Unknown unit {code}", field="duty_unit"
        )


async def create(session: AsyncSession, data: CategoryCreate, *, now: datetime) -> Category:
    """A new category (and its duty rule). Conflict when the code exists; Unprocessable for an
    unknown parent or duty unit."""
    if await repository.category(session, data.code) is not None:
        raise Conflict(f"类别代码 {data.code} 已存在", en=f"Category {data.code} exists")
    parent = await _parent(session, data.parent) if data.parent else None
    if data.duty_unit:
        await _duty_unit(session, data.duty_unit)
    category = Category(
        code=data.code,
        name=data.name,
        name_en=data.name_en or data.code,
        group_name=data.group or (parent.group_name if parent else data.name),
        description=data.description,
        keywords=list(data.keywords),
        active=True,
        parent_code=data.parent,
        duty_unit_code=data.duty_unit,
        default_urgency=data.default_urgency,
        updated_at=now,
    )
    await config_state.added(session, category, "categories")
    if data.duty_unit:
        await _set_duty_rule(session, category, data.duty_unit, now=now)
    return category


async def update(
    session: AsyncSession, code: str, data: CategoryUpdate, *, now: datetime
) -> Category:
    """Change a category. Unprocessable for an unknown parent or duty unit, or a parent that
    lies below it (a cycle)."""
    category = await repository.category(session, code)
    if category is None:
        raise NotFound(f"类别 {code} 不存在", en=f"No category {code}")
    given = data.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    for name in ("name", "name_en", "description", "keywords", "default_urgency", "active"):
        if name in given:
            changes[name] = given[name]
    if "group" in given:
        changes["group_name"] = given["group"]
    for name in OPTIONAL_COLUMNS:
        if name in given:
            if not hasattr(Category, name):
                raise Unprocessable(
                    f"本版本不支持 {name}", en=f"{name} is not supported here", field=name
                )
            changes[name] = given[name]
    if "parent" in given:
        if given["parent"] is not None:
            await _no_cycle(session, code, given["parent"])
        changes["parent_code"] = given["parent"]
    duty_moves = "duty_unit" in given and given["duty_unit"] != category.duty_unit_code
    if duty_moves and given["duty_unit"] is not None:
        await _duty_unit(session, given["duty_unit"])
    if duty_moves:
        changes["duty_unit_code"] = given["duty_unit"]
    # Every check is done before anything is assigned: a query would flush a half-changed row.
    await config_state.changed(session, category, changes, "categories", now=now)
    if duty_moves:
        await _set_duty_rule(session, category, given["duty_unit"], now=now)
    return category


async def _no_cycle(session: AsyncSession, code: str, parent_code: str) -> None:
    at: str | None = parent_code
    while at is not None:
        if at == code:
            raise Unprocessable(
                f"类别 {parent_code} 在 {code} 之下，不能作其上级",
                en=f"{parent_code} lies below {code}: a parent cannot be its own descendant",
                field="parent",
            )
        at = (await _parent(session, at)).parent_code


async def _set_duty_rule(
    session: AsyncSession, category: Category, unit_code: str | None, *, now: datetime
) -> None:
    """The category's duty rule routes to ``unit_code`` (None: there is none)."""
    rule = await repository.duty_rule(session, category.code, DUTY)
    if unit_code is None:
        if rule is not None:
            await session.delete(rule)
            await session.flush()
    elif rule is None:
        session.add(
            CatalogueRule(
                category_code=category.code,
                line=None,
                area_code=None,
                unit_code=unit_code,
                priority=0,
                note=f"duty unit of category {category.code}",
                source=DUTY,
                active=True,
                created_at=now,
                updated_at=now,
            )
        )
        await session.flush()
    else:
        rule.unit_code, rule.updated_at = unit_code, now
        await session.flush()
    await config_state.bump(session, "org")
