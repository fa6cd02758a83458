"""The configuration generation: one row (``config_state``) whose columns count the changes of
each kind of configuration every process caches. A writer bumps its kind in the transaction of
its change; a reader compares the row with what its caches were built from in the transaction
that relies on them, so a change made through any process is seen by every other at its next
request, exactly.

    keys        API keys (auth.cache)
    org         units, grids, staff and members, the catalogue (routing.state)
    policies    time-limit policies (sla.policies)
    webhooks    subscriptions (webhook.outbox)
    calendar    years of the working-day calendar (sla.calendars)
    categories  the category catalogue (org.categories)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import BigInteger, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base


class ConfigState(Base):
    __tablename__ = "config_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    keys: Mapped[int] = mapped_column(BigInteger, default=0)
    org: Mapped[int] = mapped_column(BigInteger, default=0)
    policies: Mapped[int] = mapped_column(BigInteger, default=0)
    webhooks: Mapped[int] = mapped_column(BigInteger, default=0)
    calendar: Mapped[int] = mapped_column(BigInteger, default=0)
    categories: Mapped[int] = mapped_column(BigInteger, default=0)


@dataclass(frozen=True)
class Generation:
    keys: int = -1
    org: int = -1
    policies: int = -1
    webhooks: int = -1
    calendar: int = -1
    categories: int = -1


PARTS = tuple(f.name for f in fields(Generation))
COLUMNS = tuple(getattr(ConfigState, part) for part in PARTS)


async def bump(session: AsyncSession, part: str) -> None:
    """Mark one kind of configuration changed; call in the transaction that changes it."""
    column = getattr(ConfigState, part)
    await session.execute(
        update(ConfigState).where(ConfigState.id == 1).values({column: column + 1})
    )


Row = TypeVar("Row", bound=Base)


async def added(session: AsyncSession, row: Row, part: str) -> Row:
    """Store a new row of one kind of configuration and mark that kind changed."""
    session.add(row)
    await session.flush()
    await bump(session, part)
    return row


async def changed(
    session: AsyncSession, row: Row, changes: Mapping[str, Any], part: str, *, now: datetime
) -> Row:
    """Set ``changes`` on a row of one kind of configuration, updated ``now``, and mark that
    kind changed."""
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = now  # type: ignore[attr-defined]  # every configuration row has it
    await session.flush()
    await bump(session, part)
    return row


def scalars() -> list[Any]:
    """The row as scalar subqueries, to ride in another statement's RETURNING (intake)."""
    return [
        select(c).where(ConfigState.id == 1).scalar_subquery().label(f"config_{c.key}")
        for c in COLUMNS
    ]


async def read(session: AsyncSession) -> Generation:
    row = (await session.execute(select(*COLUMNS).where(ConfigState.id == 1))).one_or_none()
    return Generation(*(int(v) for v in row)) if row is not None else Generation(*(0,) * len(PARTS))


class Watch:
    """The last generation this process read: what its caches may trust until the next read."""

    def __init__(self) -> None:
        self.seen: Generation | None = None

    async def read(self, session: AsyncSession) -> Generation:
        self.seen = await read(session)
        return self.seen
