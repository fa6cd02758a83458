"""The dispatch catalogue (派单目录): rules (category, line, area) → handling unit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.db import config_state
from hotline.errors import Unprocessable, found
from hotline.org import repository
from hotline.org.models import CatalogueRule
from hotline.org.schemas import RuleCreate, RuleUpdate

AREA_KINDS = {"county", "township", "village", "grid"}


async def _check(
    session: AsyncSession,
    *,
    category: str | None,
    line: str | None,
    area_code: str | None,
    unit_code: str,
) -> None:
    if category is None and line is None and area_code is None:
        raise Unprocessable(
            "规则至少需要一个类别、热线或区域",
            en="A rule needs a category, a line or an area",
            field="category",
        )
    if category is not None and await repository.category(session, category) is None:
        raise Unprocessable(
            f"没有编码为 {category} 的类别", en=f"Unknown category {category}", field="category"
        )
    if area_code is not None:
        area = await repository.unit(session, area_code)
        if area is None or area.kind not in AREA_KINDS:
            raise Unprocessable(
                f"{area_code} 不是县、乡镇（街道）、村（社区）或网格",
                en=f"{area_code} is not a county, township, village or grid",
                field="area_code",
            )
    if await repository.unit(session, unit_code) is None:
        raise Unprocessable(
            f"没有编码为 {unit_code} 的单位", en=f"Unknown unit {unit_code}", field="unit_code"
        )


async def create_rule(
    session: AsyncSession, data: RuleCreate, *, now: datetime, source: str = "manual"
) -> CatalogueRule:
    line = data.line.value if data.line else None
    await _check(
        session,
        category=data.category,
        line=line,
        area_code=data.area_code,
        unit_code=data.unit_code,
    )
    rule = CatalogueRule(
        category_code=data.category,
        line=line,
        area_code=data.area_code,
        unit_code=data.unit_code,
        priority=data.priority,
        note=data.note,
        source=source,
        active=True,
        created_at=now,
        updated_at=now,
    )
    return await config_state.added(session, rule, "org")


async def _rule(session: AsyncSession, rule_id: int) -> CatalogueRule:
    return found(
        await repository.rule(session, rule_id),
        f"没有编号为 {rule_id} 的派单规则",
        en=f"No catalogue rule {rule_id}",
    )


async def update_rule(
    session: AsyncSession, rule_id: int, data: RuleUpdate, *, now: datetime
) -> CatalogueRule:
    rule = await _rule(session, rule_id)
    changes = data.model_dump(exclude_unset=True, mode="json")
    if "category" in changes:
        changes["category_code"] = changes.pop("category")
    after = {
        "category": changes.get("category_code", rule.category_code),
        "line": changes.get("line", rule.line),
        "area_code": changes.get("area_code", rule.area_code),
        "unit_code": changes.get("unit_code", rule.unit_code),
    }
    # Checked before anything is assigned: a query would flush a half-changed rule.
    await _check(session, **after)
    return await config_state.changed(session, rule, changes, "org", now=now)


async def delete_rule(session: AsyncSession, rule_id: int) -> None:
    rule = await _rule(session, rule_id)
    await session.delete(rule)
    await session.flush()
    await config_state.bump(session, "org")
