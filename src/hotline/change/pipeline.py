"""The change pipeline. A service records *what* changed; the unit of work finishes the change
just before commit, in one place and in the same transaction:

    touch(session, row)           a ticket or summons row changes: it takes the next change
                                  number, and whoever it concerned when touched and concerns at
                                  commit is woken (``row.change_keys()``)
    wake(session, keys)           others to wake as well (the members a whistle summons)
    event(session, ticket, e)     an event to report to webhook subscribers
    added(session, keys, ...)     rows written without the ORM (intake's Core INSERT), already
                                  marked for numbering

At pre-commit (``finish``): the outbox rows (webhook.outbox), the change numbers, a departure
for every key a ticket no longer concerns (so that poller's ``since`` hears it left), the
wake-ups. A rolled-back unit of work sends and wakes nothing.

Change numbers are handed out in commit order, so a poller that has seen everything up to N can
resume with ``since=N`` and miss nothing. On PostgreSQL the database takes the numbers itself: a
row is marked ``PENDING`` and a deferred constraint trigger numbers it inside COMMIT (migration
``b7c41e2f9a10``), so the counter is locked for microseconds, never across a round trip; a batch
of more than ``FEW`` rows (the sweeper's) takes its numbers here in one statement instead, the
counter then staying locked to the commit, because the trigger would write every row twice. On
SQLite, whose one writer holds the database until commit anyway, the numbers are taken here.

Who to wake is a set of keys (``grid:CODE``, ``unit:CODE``, ``staff:ID``), published in this
process after the commit (``notify.hub``) and, on PostgreSQL, with ``pg_notify`` inside the
transaction, which PostgreSQL delivers to every listening process only if it commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.change import notify, repository
from hotline.db.session import after_commit, before_commit
from hotline.webhook import outbox

# The mark that makes PostgreSQL's commit trigger number a row.
PENDING = -1
# Up to this many rows, PostgreSQL's trigger numbers them at commit; more take numbers here.
FEW = 16
_KEY = "hotline.change"


class Changing(Protocol):
    """A row in the change order: a ticket or a summons."""

    change_seq: int

    def change_keys(self) -> set[str]: ...


@dataclass
class _Pending:
    rows: dict[int, Any] = field(default_factory=dict)
    before: dict[int, set[str]] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)
    # Keys another statement of this transaction already pg_notify-ed (intake's).
    notified: set[str] = field(default_factory=set)
    events: list[tuple[Any, Any]] = field(default_factory=list)
    numbered: int = 0  # rows written already marked (``added``)


def _pending(session: AsyncSession) -> _Pending:
    pending: _Pending | None = session.info.get(_KEY)
    if pending is None:
        pending = session.info[_KEY] = _Pending()
        before_commit(session, finish)
    return pending


def touch(session: AsyncSession, row: Changing) -> None:
    """``row`` changes in this unit of work. Call when it is locked or made, before changing
    who it concerns: the keys it has now are woken too, and any it loses become departures."""
    pending = _pending(session)
    if id(row) not in pending.rows:
        pending.rows[id(row)] = row
        pending.before[id(row)] = row.change_keys()


def wake(session: AsyncSession, keys: Iterable[str]) -> None:
    _pending(session).keys.update(keys)


def event(session: AsyncSession, ticket: Any, recorded: Any) -> None:
    """An event (``action``, ``at``, ``from_status``, ``to_status``) of ``ticket`` for the
    webhook subscribers; the ticket is read as it is at commit."""
    _pending(session).events.append((ticket, recorded))


def added(
    session: AsyncSession, keys: Iterable[str], rows: int = 1, *, notified: bool = False
) -> None:
    """Rows written outside the ORM with their change number already handled (PENDING on
    PostgreSQL, a number from ``take`` on SQLite): only wake their keys (``notified``: the
    statement that wrote them also sent their ``pg_notify``)."""
    pending = _pending(session)
    pending.keys.update(keys)
    if notified:
        pending.notified.update(keys)
    pending.numbered += rows


def postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def take(session: AsyncSession, count: int = 1) -> range:
    """The next ``count`` change numbers, in one statement; the counter row stays locked until
    commit, so numbers are handed out in commit order."""
    last = await repository.advance(session, count)
    taken = range(last - count + 1, last + 1)
    if not postgres(session):
        after_commit(session, lambda: notify.hub.mark_local(taken))
    return taken


async def number(session: AsyncSession, count: int) -> list[int]:
    """What ``count`` rows changed in this unit of work carry as their change number: the mark
    PostgreSQL's trigger numbers at commit, or numbers taken now for a batch or on SQLite."""
    if not count:
        return []
    if postgres(session) and count <= FEW:
        return [PENDING] * count
    return list(await take(session, count))


async def finish(session: AsyncSession) -> None:
    """Before commit: outbox rows, change numbers, departures, wake-ups (module docstring)."""
    pending: _Pending | None = session.info.pop(_KEY, None)
    if pending is None:
        return
    keys = set(pending.keys)
    gone: list[tuple[int, str]] = []
    rows = list(pending.rows.values())
    for row in rows:
        now = row.change_keys()
        before = pending.before[id(row)]
        keys |= before | now
        if hasattr(row, "departures_of"):
            gone += [(row.id, k) for k in row.departures_of(before - now)]
    await outbox.write(session, pending.events)
    numbers = await number(session, len(rows) + len(gone))
    for row, taken in zip(rows, numbers, strict=False):
        row.change_seq = taken
    if gone:
        # Ids first: a departure of a ticket made in this unit of work needs its id.
        await session.flush()
        await repository.add_departures(
            session,
            [
                {"ticket_id": ticket_id, "key": key, "change_seq": taken}
                for (ticket_id, key), taken in zip(gone, numbers[len(rows) :], strict=True)
            ],
        )
    await session.flush()
    if keys:
        after_commit(session, lambda: notify.hub.publish(keys))
        if postgres(session) and keys - pending.notified:
            await repository.notify(session, notify.CHANNEL, ",".join(sorted(keys))[:7900])
