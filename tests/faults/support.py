"""What the fault tests share: fast loops for `hotline serve`, deadlines moved to the next
seconds, the sweeper's and the outbox's records read back, and polling with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select, update

from hotline.config import Settings
from hotline.db.engine import create_engine, create_sessionmaker
from hotline.db.session import unit_of_work
from hotline.ticket.models import Ticket, TicketEvent
from hotline.webhook.models import Delivery

T = TypeVar("T")

# The loops of `hotline serve`, ticking fast enough for a test; a delivery whose mark was lost
# goes out again after 5 s instead of a minute.
LOOPS = {
    "HOTLINE_SWEEPER__INTERVAL": "0.3",
    "HOTLINE_WEBHOOKS__INTERVAL": "0.2",
    "HOTLINE_WEBHOOKS__TIMEOUT": "3",
    "HOTLINE_WEBHOOKS__LEASE": "5",
}


def make_due(settings: Settings, ids: list[int], first: datetime, step: float) -> None:
    """Sign deadlines one ``step`` (seconds) apart from ``first``; their reminders count as
    sent, so the sweeper's only work on them is the breach."""

    async def run() -> None:
        engine = create_engine(settings)
        try:
            async with unit_of_work(create_sessionmaker(engine)) as session:
                for n, ticket_id in enumerate(ids):
                    due = first + timedelta(seconds=n * step)
                    await session.execute(
                        update(Ticket)
                        .where(Ticket.id == ticket_id)
                        .values(
                            sign_due_at=due,
                            next_check_at=due,
                            sign_reminded_at=Ticket.dispatched_at,
                        )
                    )
        finally:
            await engine.dispose()

    asyncio.run(run())


@dataclass
class Facts:
    # (ticket id, action) → how many events, for the sweeper's actions
    events: Counter[tuple[int, str]]
    outbox: list[Delivery]

    def per_ticket(self) -> Counter[tuple[str, int]]:
        """(event type, ticket id) → outbox rows."""
        return Counter((d.event_type, d.payload["data"]["ticket"]["id"]) for d in self.outbox)


def facts(settings: Settings) -> Facts:
    async def run() -> Facts:
        engine = create_engine(settings)
        try:
            async with unit_of_work(create_sessionmaker(engine), read_only=True) as session:
                rows = await session.execute(
                    select(TicketEvent.ticket_id, TicketEvent.action).where(
                        TicketEvent.action.in_(("overdue", "escalated", "reminded"))
                    )
                )
                events = Counter((ticket_id, action) for ticket_id, action in rows)
                outbox = (await session.scalars(select(Delivery).order_by(Delivery.id))).all()
            return Facts(events, list(outbox))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def until(what: str, check: Callable[[], T], seconds: float, every: float = 0.2) -> T:
    """Poll ``check()`` until its answer is truthy; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not (answer := check()):
        assert time.monotonic() < deadline, f"{what}: not within {seconds:g} s"
        time.sleep(every)
    return answer
