"""Recording reads of unmasked callers' data (DESIGN.md §8): one row per request that handed
someone a full phone number, naming the tickets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.audit import repository
from hotline.audit.models import PiiRead
from hotline.auth.service import Principal
from hotline.db.session import unit_of_work


class Read(Protocol):
    """A ticket as presented to someone (ticket.schemas.TicketRead): its id and callers."""

    @property
    def id(self) -> int: ...
    @property
    def caller(self) -> Any: ...
    @property
    def extra_callers(self) -> Sequence[Any]: ...


def unmasked(reads: Iterable[Read]) -> list[int]:
    """Ids of the tickets whose presented caller (or merged caller) shows a full phone."""
    return sorted(
        {
            r.id
            for r in reads
            for c in (r.caller, *r.extra_callers)
            if c.phone is not None and not c.masked
        }
    )


async def record_reads(
    maker: async_sessionmaker[AsyncSession],
    principal: Principal,
    path: str,
    reads: Iterable[Read],
    *,
    now: datetime,
) -> None:
    """In its own short transaction, after the read: readers never take the write lock."""
    if row := _row(principal, path, reads, now):
        async with unit_of_work(maker) as session:
            session.add(row)


def note(
    session: AsyncSession, principal: Principal, path: str, reads: Iterable[Read], *, now: datetime
) -> None:
    """The same record, in the caller's (writing) transaction: an action's answer."""
    if row := _row(principal, path, reads, now):
        session.add(row)


def _row(principal: Principal, path: str, reads: Iterable[Read], now: datetime) -> PiiRead | None:
    """The record of these reads, or None when none of them showed a full phone."""
    ids = unmasked(reads)
    if not ids:
        return None
    return PiiRead(
        at=now,
        actor_key_id=principal.key_id,
        actor_role=principal.role.value,
        actor_name=principal.name,
        path=path[:200],
        ticket_ids=ids,
    )


async def latest(session: AsyncSession, limit: int) -> Sequence[PiiRead]:
    return await repository.latest(session, limit)
