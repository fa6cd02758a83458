"""Tickets as Open311 service requests: the mapping (the queries: open311.repository).

What a public reader sees of a ticket: never the caller. Name, phone and email are not fields of
a service request, and the free texts shown (the description, the address, the reply) go out
through ``kit.scrub``: the ticket's own callers' names and phones, and anything shaped like a
phone or an ID-card number, become ``＊＊＊``. Tickets whose
caller asked for confidentiality (and reports 举报, confidential by default) are not shown at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.errors import NotFound
from hotline.kit.clock import county_zone
from hotline.kit.scrub import scrub
from hotline.kit.types import MAX_ID
from hotline.open311 import repository
from hotline.open311.schemas import Open311ServiceRequest
from hotline.ticket.models import Ticket

# The suffix intake appends to the text for a request's media_url (TicketCreate has no field).
MEDIA_MARK = "附件 media_url: "
_MEDIA = re.compile(r"(?:\A|\n\n)" + MEDIA_MARK + r"(https?://\S+)\Z")

CLOSE_REASONS = {
    "resolved": "已解决 Resolved",
    "answered": "已直接答复 Answered directly",
    "merged": "已并单 Merged into another request",
    "redirected": "已转其他渠道办理 Redirected to another channel",
    "terminated": "已终止 Terminated",
}


async def check_jurisdiction(session: AsyncSession, jurisdiction_id: str | None) -> None:
    """One endpoint, one county: its unit code (e.g. 210124) or nothing is accepted."""
    if jurisdiction_id is None:
        return
    if not await repository.is_county(session, jurisdiction_id):
        raise NotFound(
            "未找到此 jurisdiction_id：本接口只服务一个县",
            en="jurisdiction_id was not found: this endpoint serves one county",
        )


def ticket_id(raw: str) -> int | None:
    """The ticket id a service_request_id or token names, if it could name one."""
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or int(raw) > MAX_ID:
        return None
    return int(raw)


@dataclass(frozen=True)
class Filters:
    """GET requests, parsed. ``ids`` overrides the rest, as the spec says."""

    ids: list[int] | None = None
    codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    closed: bool | None = None
    updated_after: datetime | None = None
    offset: int = 0
    limit: int = 50


async def requests(session: AsyncSession, filters: Filters) -> list[Open311ServiceRequest]:
    """Newest first."""
    rows = await repository.requests(session, filters)
    return [present(ticket, name, unit) for ticket, name, unit in rows]


async def request(session: AsyncSession, raw_id: str) -> Open311ServiceRequest:
    return present(*await _one(session, raw_id))


async def token(session: AsyncSession, raw_token: str) -> int:
    """The service_request_id a token stands for: requests are realtime, so the ticket id."""
    ticket, _, _ = await _one(session, raw_token)
    return ticket.id


async def _one(session: AsyncSession, raw_id: str) -> tuple[Ticket, str, str | None]:
    number = ticket_id(raw_id)
    row = None
    if number is not None:
        row = await repository.request(session, number)
    if row is None:
        raise NotFound("没有这个诉求", en="No such service request")
    ticket, name, unit = row
    return ticket, name, unit


def split_media(content: str) -> tuple[str, str | None]:
    """The description and media_url intake folded into one text."""
    match = _MEDIA.search(content)
    if match is None:
        return content, None
    return content[: match.start()], match.group(1)


def _callers(ticket: Ticket) -> Iterator[tuple[str | None, str | None]]:
    yield ticket.caller_name, ticket.caller_phone
    for extra in ticket.extra_callers or []:
        yield extra.get("name"), extra.get("phone")


def redact(text: str, ticket: Ticket) -> str:
    """``text`` without the ticket's callers' names and phones, or any phone or ID number."""
    return scrub(text, [v for name, phone in _callers(ticket) for v in (name, phone) if v])


def _local(at: datetime) -> str:
    return f"{at.astimezone(county_zone()):%Y-%m-%d %H:%M}"


def notice(ticket: Ticket, unit: str | None) -> str:
    """What happens next, in Chinese and English: the owning unit and its next deadline."""
    if ticket.status == "closed":
        return "已办结。Closed."
    if ticket.status == "triage" or unit is None:
        return "已受理，等待派单。Received; awaiting dispatch."
    if ticket.status == "arbitration":
        return "正在确定责任单位。The responsible unit is being determined."
    if ticket.status == "replied":
        return f"{unit}已答复，等待回访。{unit} has replied; a callback follows."
    if ticket.reply_due_at is not None:
        due = _local(ticket.reply_due_at)
        return f"由{unit}办理，{due}前答复。Handled by {unit}; reply due by {due}."
    if ticket.sign_due_at is not None:
        due = _local(ticket.sign_due_at)
        return f"已派至{unit}，{due}前签收。Assigned to {unit}; to be accepted by {due}."
    return f"由{unit}办理。Handled by {unit}."


def status_notes(ticket: Ticket) -> str | None:
    """The close reason and the owner's reply; never anything the caller said about themself."""
    notes = []
    if ticket.status == "closed" and ticket.close_reason:
        notes.append(CLOSE_REASONS.get(ticket.close_reason, ticket.close_reason))
    reply = ticket.reply or {}
    if ticket.status in ("replied", "closed") and reply.get("text"):
        notes.append(redact(str(reply["text"]), ticket))
    return "；".join(notes) or None


def present(ticket: Ticket, service_name: str, unit: str | None) -> Open311ServiceRequest:
    description, media_url = split_media(ticket.content)
    closed = ticket.status == "closed"
    return Open311ServiceRequest(
        service_request_id=str(ticket.id),
        status="closed" if closed else "open",
        status_notes=status_notes(ticket),
        service_name=service_name,
        service_code=ticket.category_code,
        description=redact(description, ticket),
        agency_responsible=unit,
        service_notice=notice(ticket, unit),
        requested_datetime=ticket.created_at,
        updated_datetime=(ticket.closed_at or ticket.updated_at) if closed else ticket.updated_at,
        expected_datetime=ticket.reply_due_at or ticket.sign_due_at,
        address=redact(ticket.address, ticket) if ticket.address else None,
        address_id=(ticket.location or {}).get("address_id"),
        zipcode=None,
        lat=ticket.lat,
        long=ticket.lon,
        media_url=media_url,
    )
