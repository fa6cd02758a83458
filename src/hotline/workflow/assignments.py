"""What a field worker or member polls: their open tickets and the whistles addressed to them.

A full poll lists what is open now; ``since=CURSOR`` lists only what changed after the cursor
(in the commit order of ``workflow.changes``, so nothing is skipped), oldest change first in the
batch's selection and presented newest first; ``more`` says another batch waits. A long poll
registers its waiter before looking, then waits without holding a transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.auth.roles import FIELD, Role
from hotline.auth.service import Principal
from hotline.change import notify
from hotline.db.session import unit_of_work
from hotline.errors import Forbidden, Unprocessable
from hotline.kit import cursor as cursors
from hotline.kit.clock import local_iso
from hotline.ticket.models import Ticket
from hotline.ticket.visibility import present
from hotline.workflow import repository
from hotline.workflow.schemas import Assignment, AssignmentPage


@dataclass(frozen=True)
class Poll:
    page: AssignmentPage
    etag: str


def wake_keys(principal: Principal) -> set[str]:
    keys = {f"staff:{principal.staff_id}"} if principal.staff_id is not None else set()
    if principal.role is Role.worker:
        keys.add(f"grid:{principal.unit_code}")
    # A worker's grid is also a unit: co-handled tickets wake their units (workflow.changes).
    keys.add(f"unit:{principal.unit_code}")
    return keys


def _in_scope(principal: Principal, ticket: Ticket) -> bool:
    """``repository.ticket_scope`` for one loaded row."""
    unit = principal.unit_code
    if unit in (ticket.co_handlers or []):
        return True
    if principal.role is Role.worker:
        return ticket.grid_code == unit
    owned = ticket.unit_code == unit and ticket.grid_code is None
    if principal.role is Role.officer:
        return owned or ticket.escalation_unit_code == unit
    return owned


async def _look(
    session: AsyncSession, principal: Principal, since: int | None, limit: int
) -> tuple[list[Assignment], int, bool]:
    head = await repository.head(session)
    ticket_rows = await repository.assigned_tickets(session, principal, since, limit + 1)
    summons_rows = await repository.assigned_summons(session, principal, since, limit + 1)
    items = [
        Assignment(type="ticket", change=t.change_seq, ticket_id=t.id, ticket=present(principal, t))
        for t in ticket_rows
    ]
    items += [
        Assignment(
            type="whistle",
            change=s.change_seq,
            ticket_id=t.id,
            ticket=present(principal, t),
            summons={
                "id": s.id,
                "whistle_id": s.whistle_id,
                "due_at": local_iso(s.due_at),
                "reported_at": local_iso(s.reported_at),
                "late": s.late,
                "staff_id": s.staff_id,
                "unit_code": s.unit_code,
            },
        )
        for s, t in summons_rows
    ]
    if since is not None:
        items += await _departures(session, principal, since, limit)
    items.sort(key=lambda a: a.change)
    more = len(items) > limit
    if more:
        # A page must end between change numbers: items sharing the number at the cut all
        # go to the next page (or all stay, if they alone fill this one).
        edge = items[limit].change
        kept = [a for a in items[:limit] if a.change != edge]
        items = kept or [a for a in items if a.change == edge]
    cursor = items[-1].change if more else max(head, since or 0)
    return items, cursor, more


async def _departures(
    session: AsyncSession, principal: Principal, since: int, limit: int
) -> list[Assignment]:
    """Tickets that left the caller's scope since the cursor and are not back in it: listed
    once, by id only (type ``left``), so the caller's list can drop them."""
    rows = await repository.departures(session, wake_keys(principal), since, limit + 1)
    if not rows:
        return []
    now = {t.id: t for t in await repository.tickets(session, {r[0] for r in rows})}
    latest: dict[int, int] = {}
    for ticket_id, seq in rows:
        if not _in_scope(principal, now[ticket_id]):
            latest[ticket_id] = max(seq, latest.get(ticket_id, 0))
    return [
        Assignment(type="left", change=seq, ticket_id=ticket_id, ticket=None)
        for ticket_id, seq in latest.items()
    ]


def _etag(items: list[Assignment], cursor: int, since: int | None) -> str:
    if since is not None:
        return f'W/"s{since}-{cursor}-{len(items)}"'
    digest = hashlib.sha256(
        ",".join(f"{a.type}:{a.ticket_id}:{a.change}" for a in items).encode()
    ).hexdigest()[:20]
    return f'W/"{digest}"'


async def poll(
    maker: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    since: str | None,
    wait: float,
    limit: int,
    if_none_match: str | None,
) -> Poll:
    """One poll; with ``wait``, held until something changes for the caller or time runs out."""
    if principal.role not in FIELD or principal.unit_code is None:
        raise Forbidden(
            "待办工单只供网格员、专属网格员和单位负责人查看",
            en="Assignments are for grid workers, members and officers of a unit",
        )
    if principal.role is not Role.officer and principal.staff_id is None:
        raise Forbidden(
            "待办工单只供有工作人员编号的网格员和专属网格员查看",
            en="Assignments are for grid workers and members with a staff id",
        )
    try:
        after = (
            int(cursors.decode(since, kind="assignments", arity=1, field="since")[0])
            if since is not None
            else None
        )
    except (TypeError, ValueError) as exc:
        raise Unprocessable(cursors.MALFORMED, en=cursors.MALFORMED_EN, field="since") from exc
    keys = wake_keys(principal)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    # Registered before the first look, so a change landing in between still wakes us.
    ready = notify.hub.register(keys)
    try:
        while True:
            ready.clear()
            async with unit_of_work(maker, read_only=True) as session:
                items, cursor, more = await _look(session, principal, after, limit)
            etag = _etag(items, cursor, after)
            unchanged = (not items) if after is not None else (if_none_match == etag)
            remaining = deadline - loop.time()
            if not unchanged or remaining <= 0:
                break
            # A wake-up may be for someone else (or for all, on SQLite): look, then wait on.
            # Time running out unwoken needs no last look: the answer is the last look's, whose
            # cursor did not move, so a change not yet announced is the next poll's first item.
            if not await notify.hub.wait((), remaining, ready):
                break
    finally:
        notify.hub.unregister(keys, ready)
    items.reverse()  # newest change first
    page = AssignmentPage(
        items=items, cursor=cursors.encode([cursor], kind="assignments"), more=more
    )
    return Poll(page, etag)
