"""The global change order, and waking whoever a change concerns.

Every change to a ticket (or to a summons) takes the next number from ``change_counter``. The
counter row stays locked until commit, so numbers are handed out in commit order: a poller that
has seen everything up to N can resume with ``since=N`` and miss nothing.

On PostgreSQL the database takes the numbers itself: ``stamp`` marks the row with ``PENDING``
and a deferred constraint trigger replaces the mark inside COMMIT (migration ``b7c41e2f9a10``).
The counter is locked for microseconds, never across a round trip to this process, so
concurrent requests do not queue behind each other's work. A ticket's ``change_seq`` in memory
is therefore not its committed number there. On SQLite, whose
one writer holds the database until commit anyway, ``stamp`` takes the number here.

Who to wake is a set of keys (``grid:CODE``, ``unit:CODE``, ``staff:ID``). They are published
in this process after the commit (``Hub``) and, on PostgreSQL, with ``pg_notify`` inside the
transaction, which PostgreSQL delivers to every listening process only if it commits.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.db.session import after_commit
from hotline.ticket.models import Ticket
from hotline.webhook import outbox
from hotline.workflow import notify
from hotline.workflow.models import ChangeCounter, Summons


def keys_for(ticket: Ticket) -> set[str]:
    """Who a ticket concerns: its grid, owning unit and assignee, the unit of the rung it
    climbed to, and the units co-handling it."""
    keys = set()
    if ticket.grid_code:
        keys.add(f"grid:{ticket.grid_code}")
    if ticket.unit_code:
        keys.add(f"unit:{ticket.unit_code}")
    if ticket.assignee_id:
        keys.add(f"staff:{ticket.assignee_id}")
    if ticket.escalation_unit_code:
        keys.add(f"unit:{ticket.escalation_unit_code}")
    keys.update(f"unit:{code}" for code in ticket.co_handlers or ())
    return keys


async def next_seq(session: AsyncSession) -> int:
    result = await session.execute(
        update(ChangeCounter)
        .where(ChangeCounter.id == 1)
        .values(value=ChangeCounter.value + 1)
        .returning(ChangeCounter.value)
    )
    return int(result.scalar_one())


# The mark that makes PostgreSQL's commit trigger number a row.
PENDING = -1


def _numbered_by_database(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def stamp(
    session: AsyncSession,
    ticket: Ticket,
    extra: Iterable[str] = (),
    summons: Iterable[Summons] = (),
) -> None:
    """Write the change's webhook deliveries, give the ticket (and the summons it touched) the
    next change number, and arrange to wake those it concerns.

    Call it after the change's other writes: see the module docstring.
    """
    await outbox.write(session)
    await wake(session, keys_for(ticket) | set(extra))
    if _numbered_by_database(session):
        ticket.change_seq = PENDING
        for one in summons:
            one.change_seq = PENDING
        return
    seq = ticket.change_seq = await next_seq(session)
    for one in summons:
        one.change_seq = seq
    after_commit(session, lambda: notify.hub.mark_local([seq]))


async def wake(session: AsyncSession, keys: set[str]) -> None:
    if not keys:
        return
    after_commit(session, lambda: notify.hub.publish(keys))
    if session.get_bind().dialect.name == "postgresql":
        payload = ",".join(sorted(keys))[:7900]
        await session.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": notify.CHANNEL, "payload": payload},
        )


async def stamp_many(
    session: AsyncSession, tickets: list[Ticket], summons: Iterable[Summons] = ()
) -> None:
    """``stamp`` for a batch (the sweeper): consecutive numbers, taken here in one statement on
    both databases. The numbers then travel in the rows' own UPDATEs at commit: PostgreSQL's
    trigger would write every row a second time, which a batch of hundreds cannot afford. The
    counter stays locked from here to the commit, as the trigger's lock does."""
    await outbox.write(session)
    if not tickets:
        return
    result = await session.execute(
        update(ChangeCounter)
        .where(ChangeCounter.id == 1)
        .values(value=ChangeCounter.value + len(tickets))
        .returning(ChangeCounter.value)
    )
    last = int(result.scalar_one())
    keys: set[str] = set()
    for offset, ticket in enumerate(tickets):
        ticket.change_seq = last - len(tickets) + 1 + offset
        keys |= keys_for(ticket)
    by_ticket = {t.id: t.change_seq for t in tickets}
    for one in summons:
        if one.ticket_id in by_ticket:
            one.change_seq = by_ticket[one.ticket_id]
    taken = range(last - len(tickets) + 1, last + 1)
    after_commit(session, lambda: notify.hub.mark_local(taken))
    await wake(session, keys)
