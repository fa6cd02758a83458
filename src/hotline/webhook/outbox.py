"""Turning ticket events into outbox rows, in the transaction that made them: a rolled-back
change sends nothing, a committed one is delivered at least once.

Payloads name the ticket, its number, state, unit, grid, assignee id and deadlines; never a
caller's name or phone (DESIGN.md §8), and of a photo only its id and stage.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.kit.clock import local_iso, utcnow
from hotline.webhook import repository
from hotline.webhook.models import Delivery

# ticket event action → webhook event type
TYPES = {
    "created": "ticket.created",
    "dispatched": "ticket.dispatched",
    "return_approved": "ticket.dispatched",
    "ruled": "ticket.ruled",
    "signed": "ticket.signed",
    "whistled": "ticket.whistled",
    "reported_in": "ticket.reported_in",
    "replied": "ticket.replied",
    "overdue": "ticket.overdue",
    "escalated": "ticket.escalated",
    "arbitration": "ticket.arbitration",
    "reworked": "ticket.reworked",
    "closed": "ticket.closed",
    "answered": "ticket.closed",
    "merged": "ticket.closed",
    "terminated": "ticket.closed",
    "attachment_added": "ticket.attachment_added",
}
EVENT_TYPES = sorted({*TYPES.values(), "cluster.found", "webhook.ping"})


def ticket_payload(ticket: Any) -> dict[str, Any]:
    """A ticket row as subscribers see it (no personal data)."""
    at = local_iso
    return {
        "id": ticket.id,
        "number": ticket.number,
        "state": ticket.status,
        "unit_code": ticket.unit_code,
        "grid_code": ticket.grid_code,
        "assignee_id": ticket.assignee_id,
        "category": ticket.category_code,
        "urgency": ticket.urgency,
        "line": ticket.line,
        "escalation_level": ticket.escalation_level,
        "escalation_rung": ticket.escalation_rung,
        "escalation_unit_code": ticket.escalation_unit_code,
        "designated": ticket.designated,
        "co_handlers": list(ticket.co_handlers or []),
        "deadlines": {
            "sign_due_at": at(ticket.sign_due_at),
            "reply_due_at": at(ticket.reply_due_at),
            "callback_due_at": at(ticket.callback_due_at),
            "escalation_due_at": at(ticket.escalation_due_at),
        },
    }


# session.info key: the active subscriptions, as the unit of work uses them.
_SUBSCRIBERS = "hotline.webhooks"


def use(session: AsyncSession, subscribers: list[tuple[int, set[str]]]) -> None:
    """Let this unit of work use subscriptions already read (``Subscribers``)."""
    session.info[_SUBSCRIBERS] = subscribers


async def _subscribers(session: AsyncSession) -> list[tuple[int, set[str]]]:
    found: list[tuple[int, set[str]]] | None = session.info.get(_SUBSCRIBERS)
    if found is None:
        found = session.info[_SUBSCRIBERS] = await repository.subscribers(session)
    return found


class Subscribers:
    """The active subscriptions of this process, read again when the ``webhooks`` generation
    moves (db.config_state)."""

    def __init__(self) -> None:
        self._generation: int | None = None
        self._rows: list[tuple[int, set[str]]] = []

    async def current(self, session: AsyncSession, generation: int) -> list[tuple[int, set[str]]]:
        if generation != self._generation:
            self._rows = await repository.subscribers(session)
            self._generation = generation
        return self._rows


def message(event_type: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"type": event_type, "timestamp": local_iso(now), "data": data}


def add(
    session: AsyncSession, webhook_id: int, event_type: str, payload: dict[str, Any], now: datetime
) -> Delivery:
    delivery = Delivery(
        webhook_id=webhook_id,
        msg_id=f"msg_{uuid.uuid4().hex}",
        event_type=event_type,
        payload=payload,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    return delivery


async def write(session: AsyncSession, events: list[tuple[Any, Any]]) -> None:
    """Outbox rows for the events of this transaction (the change pipeline calls it before the
    commit), for every active subscriber of each event's type."""
    now = utcnow()
    pending = [(t, e) for t, e in events if e.action in TYPES]
    if not pending:
        return
    subscribers = await _subscribers(session)
    for ticket, event in pending:
        event_type = TYPES[event.action]
        for webhook_id, types in subscribers:
            if event_type in types:
                data = {
                    "ticket": ticket_payload(ticket),
                    "event": {
                        "action": event.action,
                        "at": local_iso(event.at),
                        "from_state": event.from_status,
                        "to_state": event.to_status,
                    },
                }
                if event.action == "attachment_added":
                    # A photo travels by id only: subscribers fetch it with a key that may.
                    shown = event.details or {}
                    data["attachment"] = {"id": shown["attachment_id"], "stage": shown["stage"]}
                add(session, webhook_id, event_type, message(event_type, data, now), now)
