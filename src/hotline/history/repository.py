"""The import's statements: what rows are checked against, the external ids already seen, and
a batch of tickets with their events in two executemany INSERTs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.history.rows import Category, Place
from hotline.intake.make import ticket_number
from hotline.org.models import Category as CategoryRow
from hotline.org.models import Unit
from hotline.ticket.models import Ticket, TicketEvent

_TICKET: Any = Ticket.__table__
_EVENT: Any = TicketEvent.__table__
# Ids are taken first and given: a plain executemany INSERT, without RETURNING, is the driver's
# fastest path (asyncpg pipelines one prepared statement), and the events need no answer.
_IDS_POSTGRES = text(
    "SELECT nextval(pg_get_serial_sequence('ticket', 'id')) FROM generate_series(1, :n)"
)
_LAST_ID_SQLITE = text("SELECT COALESCE(MAX(id), 0) FROM ticket")


async def _new_ids(session: AsyncSession, n: int) -> list[int]:
    """``n`` ticket ids no other writer takes: PostgreSQL's sequence, or on SQLite, whose one
    writer holds the database until commit, the next after the largest."""
    if session.get_bind().dialect.name == "postgresql":
        return [int(i) for i in (await session.scalars(_IDS_POSTGRES, {"n": n})).all()]
    last = int(await session.scalar(_LAST_ID_SQLITE) or 0)
    return list(range(last + 1, last + 1 + n))


async def categories(session: AsyncSession) -> dict[str, Category]:
    """Every category, retired ones too: history may name a category no longer offered."""
    rows = await session.execute(select(CategoryRow.code, CategoryRow.default_urgency))
    return {code: Category(urgency) for code, urgency in rows}


async def places(session: AsyncSession) -> dict[str, Place]:
    """Every unit with the grid, village and township it lies in (itself included)."""
    units = {
        code: (kind, parent)
        for code, kind, parent in await session.execute(
            select(Unit.code, Unit.kind, Unit.parent_code)
        )
    }
    out = {}
    for code, (kind, _) in units.items():
        found: dict[str, str] = {}
        at: str | None = code
        for _depth in range(16):  # the tree is shallow; a cycle would not stop otherwise
            if at is None or at not in units:
                break
            found.setdefault(units[at][0], at)
            at = units[at][1]
        out[code] = Place(kind, found.get("grid"), found.get("village"), found.get("township"))
    return out


async def seen(session: AsyncSession, external_ids: Sequence[str]) -> set[str]:
    """Those of ``external_ids`` some ticket already carries."""
    if not external_ids:
        return set()
    rows = await session.scalars(
        select(Ticket.external_id).where(Ticket.external_id.in_(list(external_ids)))
    )
    return {str(r) for r in rows}


async def insert_batch(
    session: AsyncSession, tickets: Sequence[dict[str, Any]], *, now: datetime, source: str
) -> None:
    """The tickets (with their ``search_words``, history.service) and one ``imported`` event
    each, numbered as intake numbers (the county day of creation and the id)."""
    ids = await _new_ids(session, len(tickets))
    params = [
        {
            **t,
            "id": ticket_id,
            "number": ticket_number(ticket_id, t["created_at"]),
            "change_seq": 0,
        }
        for ticket_id, t in zip(ids, tickets, strict=True)
    ]
    await session.execute(insert(_TICKET), params)
    events = [
        {
            "ticket_id": ticket_id,
            "at": now,
            "actor_key_id": None,
            "actor_role": "system",
            "actor_name": "import",
            "action": "imported",
            "from_status": None,
            "to_status": t["status"],
            "details": {
                "source": source,
                "external_id": t["external_id"],
                "created_at": t["created_at"].isoformat(),
                "closed_at": t["closed_at"].isoformat() if t["closed_at"] else None,
            },
        }
        for ticket_id, t in zip(ids, tickets, strict=True)
    ]
    await session.execute(insert(_EVENT), events)
