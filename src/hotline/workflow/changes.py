"""The global change order, and waking whoever a change concerns.

Every change to a ticket (or to a summons) takes the next number from ``change_counter`` as its
last write before commit. The counter row stays locked until commit, so numbers are handed out
in commit order: a poller that has seen everything up to N can resume with ``since=N`` and miss
nothing. The lock is held only from that last write to the commit.

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
from hotline.workflow.models import ChangeCounter


def keys_for(ticket: Ticket) -> set[str]:
    keys = set()
    if ticket.grid_code:
        keys.add(f"grid:{ticket.grid_code}")
    if ticket.unit_code:
        keys.add(f"unit:{ticket.unit_code}")
    if ticket.assignee_id:
        keys.add(f"staff:{ticket.assignee_id}")
    return keys


async def next_seq(session: AsyncSession) -> int:
    result = await session.execute(
        update(ChangeCounter)
        .where(ChangeCounter.id == 1)
        .values(value=ChangeCounter.value + 1)
        .returning(ChangeCounter.value)
    )
    return int(result.scalar_one())


async def stamp(session: AsyncSession, ticket: Ticket, extra: Iterable[str] = ()) -> int:
    """Give the ticket the next change number and arrange to wake those it concerns.

    Call it last in the transaction, after every other write: see the module docstring.
    """
    await outbox.write(session)
    ticket.change_seq = await next_seq(session)
    seq = ticket.change_seq
    after_commit(session, lambda: notify.hub.mark_local([seq]))
    await wake(session, keys_for(ticket) | set(extra))
    return ticket.change_seq


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


async def stamp_many(session: AsyncSession, tickets: list[Ticket]) -> None:
    """Consecutive change numbers for a batch, taken in one statement at its end (the sweeper:
    the counter stays locked only from here to the commit)."""
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
    taken = range(last - len(tickets) + 1, last + 1)
    after_commit(session, lambda: notify.hub.mark_local(taken))
    await wake(session, keys)
