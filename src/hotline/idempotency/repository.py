"""Statements on ``action_key``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.idempotency.models import ActionKey


async def find(session: AsyncSession, api_key_id: int, key: str) -> ActionKey | None:
    return await session.scalar(
        select(ActionKey).where(ActionKey.api_key_id == api_key_id, ActionKey.key == key)
    )


async def insert(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert the key unless the unique (api_key_id, key) is taken; False when it was. On
    PostgreSQL an insert racing an uncommitted one waits for it, then finds it taken."""
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        make(ActionKey)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["api_key_id", "key"])
        .returning(ActionKey.id)
    )
    return (await session.execute(statement)).first() is not None


async def purge(session: AsyncSession, before: datetime) -> int:
    """Forget the keys written before ``before``; how many."""
    result: Any = await session.execute(delete(ActionKey).where(ActionKey.created_at < before))
    return int(result.rowcount or 0)
