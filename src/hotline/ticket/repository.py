"""Ticket queries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    delete,
    func,
    literal_column,
    not_,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from hotline.kit.clock import utcnow
from hotline.ticket import search
from hotline.ticket.models import CoHandler, Summons, Ticket, TicketEvent
from hotline.ticket.schemas import TicketFilters


def co_handled_by(unit_code: str | None) -> ColumnElement[bool]:
    """The condition on ticket rows: the unit co-handles the ticket (协办, escalation.rulings)."""
    return Ticket.id.in_(select(CoHandler.ticket_id).where(CoHandler.unit_code == unit_code))


async def get(session: AsyncSession, ticket_id: int) -> Ticket | None:
    return await session.get(Ticket, ticket_id)


async def locked(session: AsyncSession, ticket_id: int) -> Ticket | None:
    """The ticket, row-locked until commit (FOR UPDATE; SQLite's writers hold the database)."""
    return await session.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())


def overdue(now: datetime) -> ColumnElement[bool]:
    """Past the sign-for or reply deadline now."""
    return or_(
        and_(Ticket.status.in_(("dispatched", "rework")), Ticket.sign_due_at < now),
        and_(Ticket.status == "signed", Ticket.reply_due_at < now),
    )


def _filtered(filters: TicketFilters, now: datetime, dialect: str) -> Select[Ticket]:
    query = select(Ticket)
    if filters.q is not None and dialect != "postgresql":
        query = query.where(_fts5_match(search.query_words(filters.q)))
    exact = {
        Ticket.kind: filters.kind,
        Ticket.category_code: filters.category,
        Ticket.line: filters.line,
        Ticket.urgency: filters.urgency,
        Ticket.unit_code: filters.unit,
        Ticket.township_code: filters.township,
        Ticket.village_code: filters.village,
        Ticket.grid_code: filters.grid,
    }
    for column, value in exact.items():
        if value is not None:
            query = query.where(column == value)
    if filters.status:
        query = query.where(Ticket.status.in_([s.value for s in filters.status]))
    flags = {
        "overdue": overdue(now),
        "escalated": Ticket.escalation_level > 0,
        "supervised": Ticket.supervised_at.is_not(None),
        "designated": Ticket.designated.is_(True),
        "repeat": Ticket.possible_repeat_of_id.is_not(None),
        "imported": Ticket.imported.is_(True),
    }
    for name, condition in flags.items():
        wanted = getattr(filters, name)
        if wanted is not None:
            query = query.where(condition if wanted else not_(condition))
    ranges: tuple[tuple[Any, datetime | None, datetime | None], ...] = (
        (Ticket.created_at, filters.created_after, filters.created_before),
        (Ticket.closed_at, filters.closed_after, filters.closed_before),
    )
    for column, after, before in ranges:
        if after is not None:
            query = query.where(column >= after)
        if before is not None:
            query = query.where(column < before)
    return query


async def page(
    session: AsyncSession,
    filters: TicketFilters,
    *,
    limit: int,
    after: tuple[datetime, int] | None,
    visible: ColumnElement[bool] | None = None,
    now: datetime | None = None,
) -> list[Ticket]:
    """Newest first, keyset-paged on (created_at, id); ``limit + 1`` rows tell if more follow.
    ``visible`` narrows to what the caller may read (ticket.visibility.scope); ``now`` is when
    ``overdue`` is judged (default: the clock's now)."""
    query = _filtered(filters, now or utcnow(), session.get_bind().dialect.name)
    if visible is not None:
        query = query.where(visible)
    if after is not None:
        at, ticket_id = after
        query = query.where(
            or_(Ticket.created_at < at, and_(Ticket.created_at == at, Ticket.id < ticket_id))
        )
    if filters.q is not None and session.get_bind().dialect.name == "postgresql":
        return await _searched(session, query, search.query_words(filters.q), limit)
    ordered = query.order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit + 1)
    return list((await session.scalars(ordered)).all())


def _fts5_match(terms: Sequence[str]) -> ColumnElement[bool]:
    """SQLite: the tickets whose FTS5 row holds every term; each a quoted phrase (a quote
    doubled), phrases side by side are ANDed: no query syntax reaches FTS5."""
    phrase = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
    found: Any = (
        select(literal_column("rowid"))
        .select_from(text("ticket_search"))
        .where(literal_column("ticket_search").op("MATCH")(phrase))
    )
    return Ticket.id.in_(found)


def _tsquery(terms: Sequence[str]) -> Any:
    # plainto_tsquery: the terms as data, ANDed; no query syntax reaches the parser.
    return func.plainto_tsquery(text("'simple'"), " ".join(terms))


# How many of the newest tickets (after the other filters) a search reads before it asks the
# text index instead (docs/performance.md, "Search").
WINDOW = 5000
_BY_INDEX = ("SET LOCAL enable_seqscan = off", "SET LOCAL enable_indexscan = off")
_DEFAULTS = ("RESET enable_seqscan", "RESET enable_indexscan")


async def _searched(
    session: AsyncSession, query: Select[Ticket], terms: Sequence[str], limit: int
) -> list[Ticket]:
    """PostgreSQL: the newest ``limit + 1`` tickets of ``query`` whose words hold ``terms``.

    The planner estimates a text search from its statistics; for a word they do not hold, or
    two words that never meet, it guesses thousands of rows, walks the tickets newest first and
    filters the whole table (seconds on a million). So the plan is not left to it: first the
    newest WINDOW tickets are read in date order and filtered (a common word fills the page
    from the first few hundred), and only when they hold fewer than a page is the GIN index
    asked (a bitmap scan, whose cost grows with the matches, which are then few) and its
    matches sorted."""
    vector: Any = literal_column("ticket.search_vector")
    newest = (
        query.with_only_columns(Ticket.id, Ticket.created_at, vector.label("words"))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(WINDOW)
        .subquery()
    )
    ids = list(
        await session.scalars(
            select(newest.c.id)
            .where(newest.c.words.op("@@")(_tsquery(terms)))
            .order_by(newest.c.created_at.desc(), newest.c.id.desc())
            .limit(limit + 1)
        )
    )
    if len(ids) <= limit:
        connection = await session.connection()
        try:
            for statement in _BY_INDEX:
                await connection.exec_driver_sql(statement)
            ids = list(
                await session.scalars(
                    query.with_only_columns(Ticket.id)
                    .where(vector.op("@@")(_tsquery(terms)))
                    .order_by(Ticket.created_at.desc(), Ticket.id.desc())
                    .limit(limit + 1)
                )
            )
        finally:
            for statement in _DEFAULTS:
                await connection.exec_driver_sql(statement)
    if not ids:
        return []
    rows = await session.scalars(
        select(Ticket)
        .where(Ticket.id.in_(ids))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
    )
    return list(rows.all())


async def summoned(
    session: AsyncSession, ticket_id: int, staff_id: int | None, unit_code: str | None
) -> bool:
    """Whether a whistle on the ticket summoned this person or their department."""
    found = await session.scalar(
        select(Summons.id)
        .where(
            Summons.ticket_id == ticket_id,
            (Summons.staff_id == staff_id) | (Summons.unit_code == unit_code),
        )
        .limit(1)
    )
    return found is not None


async def waiting_summons(
    session: AsyncSession, ticket_id: int, staff_id: int | None, unit_code: str | None
) -> Sequence[Summons]:
    """The ticket's summons not yet reported in to, of this person or their unit, locked."""
    mine = Summons.unit_code == unit_code
    if staff_id is not None:
        mine = mine | (Summons.staff_id == staff_id)
    rows = await session.scalars(
        select(Summons)
        .where(Summons.ticket_id == ticket_id, Summons.reported_at.is_(None), mine)
        .order_by(Summons.id)
        .with_for_update()
    )
    return rows.all()


async def co_reports(session: AsyncSession, ticket_id: int) -> Sequence[CoHandler]:
    """The co-handlers that have reported their part, by unit code."""
    rows = await session.scalars(
        select(CoHandler)
        .where(CoHandler.ticket_id == ticket_id, CoHandler.reported_at.is_not(None))
        .order_by(CoHandler.unit_code)
    )
    return rows.all()


async def co_handler(
    session: AsyncSession, ticket_id: int, unit_code: str | None
) -> CoHandler | None:
    """The unit's co-handler row of the ticket, locked."""
    return await session.scalar(
        select(CoHandler)
        .where(CoHandler.ticket_id == ticket_id, CoHandler.unit_code == unit_code)
        .with_for_update()
    )


async def triage(session: AsyncSession, limit: int) -> Sequence[Ticket]:
    """Tickets waiting for a dispatcher, oldest first."""
    rows = await session.scalars(
        select(Ticket).where(Ticket.status == "triage").order_by(Ticket.id).limit(limit)
    )
    return rows.all()


async def events(session: AsyncSession, ticket_id: int) -> Sequence[TicketEvent]:
    rows = await session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    )
    return rows.all()


async def open_repeat(
    session: AsyncSession, phone_hash: str, category: str, grids: Sequence[str]
) -> int | None:
    """The oldest open ticket of the same caller, category and place, if any."""
    return await session.scalar(
        select(Ticket.id)
        .where(
            Ticket.caller_phone_hash == phone_hash,
            Ticket.category_code == category,
            Ticket.status != "closed",
            Ticket.area_code.in_(list(grids)),
        )
        .order_by(Ticket.id)
        .limit(1)
    )


async def locked_many(session: AsyncSession, ids: Iterable[int]) -> dict[int, Ticket]:
    """These tickets by id, locked in id order (so two lockers never wait on each other)."""
    rows = await session.scalars(
        select(Ticket).where(Ticket.id.in_(set(ids))).order_by(Ticket.id).with_for_update()
    )
    return {t.id: t for t in rows}


async def due_for_check(
    session: AsyncSession, model: type[Ticket] | type[Summons], now: datetime, limit: int
) -> list[Any]:
    """Rows of ``model`` (tickets or summons) whose next check is due, the longest due first,
    locked and skipping those another sweeper holds."""
    column = model.next_check_at
    rows: Any = await session.scalars(
        select(model)
        .where(column <= now)
        .order_by(column)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows.all())


async def count_by_status(session: AsyncSession) -> list[tuple[str, int]]:
    rows = await session.execute(select(Ticket.status, func.count()).group_by(Ticket.status))
    return [(str(s), int(n)) for s, n in rows]


async def count_overdue(session: AsyncSession, now: datetime) -> int:
    """Tickets past their sign-for or reply deadline now."""
    found = await session.scalar(select(func.count()).select_from(Ticket).where(overdue(now)))
    return int(found or 0)


async def drop_co_handlers(session: AsyncSession, ticket_id: int) -> None:
    """Forget the ticket's co-handlers (a new ruling names them again)."""
    await session.execute(delete(CoHandler).where(CoHandler.ticket_id == ticket_id))
