"""The ticket row is the current projection; ``ticket_event`` is the append-only history; the
parties to a ticket beside its owner: co-handlers a ruling names, whistles and their summons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base, JSONType


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_created_at_id", "created_at", "id"),
        Index("ix_ticket_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(16))
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"), index=True)
    urgency: Mapped[str] = mapped_column(String(16))
    line: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    # jieba's words of the content and the reply's text, for GET /v1/tickets?q= (ticket.search).
    search_words: Mapped[str | None] = mapped_column(Text)

    caller_name: Mapped[str | None] = mapped_column(String(100))
    caller_phone: Mapped[str | None] = mapped_column(String(32))
    # Keyed hash of the normalised phone, for repeat detection without reading the phone.
    caller_phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    caller_confidential: Mapped[bool] = mapped_column(default=False)

    # The location as given and, for coordinates, normalised to WGS-84 for routing.
    location: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    address: Mapped[str | None] = mapped_column(Text)

    # Ownership, as routing or a dispatcher decided it; `route` keeps the explanation.
    route: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("unit.code"), index=True)
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("unit.code"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    # The grid the ticket lies in, also when a department owns it: metrics by area use it.
    area_code: Mapped[str | None] = mapped_column(ForeignKey("unit.code"), index=True)

    # Workflow (DESIGN.md §5).
    designated: Mapped[bool] = mapped_column(default=False)
    rework_count: Mapped[int] = mapped_column(default=0)
    transfer_count: Mapped[int] = mapped_column(default=0)
    close_reason: Mapped[str | None] = mapped_column(String(16))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    possible_repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    reply: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    last_callback: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Callers of tickets merged into this one (并单); personal data, shown like the caller.
    extra_callers: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    dispatched_at: Mapped[datetime | None]
    # When the reply clock last started: a sign, or a rework (which has its own reply deadline).
    reply_started_at: Mapped[datetime | None]
    signed_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Deadlines, stored when each clock starts (DESIGN.md §6).
    sign_due_at: Mapped[datetime | None] = mapped_column(index=True)
    reply_due_at: Mapped[datetime | None] = mapped_column(index=True)
    return_until: Mapped[datetime | None]
    extension_days: Mapped[int] = mapped_column(default=0)
    callback_due_at: Mapped[datetime | None]
    # Which policy set each deadline ({"sign": 3, "reply": 7, ...}).
    deadline_policies: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Years a deadline fell in that no calendar knows (computed Mon–Fri): never silent.
    calendar_unknown_years: Mapped[list[int]] = mapped_column(JSONType, default=list)
    # What the sweeper has done to each clock, and when it must look next.
    sign_reminded_at: Mapped[datetime | None]
    sign_overdue_at: Mapped[datetime | None]
    reply_reminded_at: Mapped[datetime | None]
    reply_overdue_at: Mapped[datetime | None]
    callback_overdue_at: Mapped[datetime | None]
    # The triage dispatch clock (即时派单) while nobody owns the ticket, and the confirmation
    # group's ruling clock while it is in arbitration.
    triage_started_at: Mapped[datetime | None]
    triage_due_at: Mapped[datetime | None]
    triage_reminded_at: Mapped[datetime | None]
    triage_overdue_at: Mapped[datetime | None]
    arbitration_at: Mapped[datetime | None]
    ruling_due_at: Mapped[datetime | None]
    ruling_reminded_at: Mapped[datetime | None]
    ruling_overdue_at: Mapped[datetime | None]
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    # Denormalised for the dashboard's figures (metrics.formulas): the place at every level,
    # the last callback's answers, returns asked, supervision.
    village_code: Mapped[str | None] = mapped_column(String(32), index=True)
    township_code: Mapped[str | None] = mapped_column(String(32), index=True)
    callback_reached: Mapped[bool | None]
    callback_resolution: Mapped[str | None] = mapped_column(String(16))
    callback_satisfaction: Mapped[str | None] = mapped_column(String(16))
    return_count: Mapped[int] = mapped_column(default=0)
    supervised_at: Mapped[datetime | None]
    # Escalation (提级) and supervision (督办), DESIGN.md §5: the rung the ticket stands on in
    # its ladder (escalation.ladder), its own clock, and the highest kind of rung ever reached.
    escalation_level: Mapped[int] = mapped_column(default=0)
    escalation_unit_code: Mapped[str | None] = mapped_column(ForeignKey("unit.code"), index=True)
    escalation_track: Mapped[str | None] = mapped_column(String(16))
    escalation_rung: Mapped[str | None] = mapped_column(String(16))
    escalation_peak: Mapped[str | None] = mapped_column(String(16))
    escalated_at: Mapped[datetime | None]
    escalation_started_at: Mapped[datetime | None]
    escalation_due_at: Mapped[datetime | None]
    escalation_reminded_at: Mapped[datetime | None]
    escalation_overdue_at: Mapped[datetime | None]
    # The ruling in force (确责): who, when, lead and co-handlers; the units it names are also
    # rows of ``co_handler``.
    ruling: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    co_handlers: Mapped[list[str]] = mapped_column(JSONType, default=list)
    supervision: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # An approved staged answer (阶段性答复): plan and next check date; the ticket stays open.
    staged: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    staged_at: Mapped[datetime | None]
    # Position in the global change order: polling clients resume from it (workflow.changes).
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, index=True)

    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Brought from the county's earlier system (hotline tickets import): history, with no
    # clocks, webhooks or wake-ups, left out of the metrics.
    imported: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)

    def change_keys(self) -> set[str]:
        """Who the ticket concerns, as wake-up keys (hotline.change): its grid, owning unit and
        assignee, the unit of the rung it climbed to, the units co-handling it."""
        return keys_of(
            self.grid_code,
            self.unit_code,
            self.assignee_id,
            self.escalation_unit_code,
            self.co_handlers,
        )

    def departures_of(self, keys: set[str]) -> set[str]:
        """The keys it no longer concerns, each a departure a poller hears once."""
        return keys


def keys_of(
    grid: str | None,
    unit: str | None,
    assignee: int | None,
    escalation_unit: str | None = None,
    co_handlers: list[str] | None = None,
) -> set[str]:
    keys = set()
    if grid:
        keys.add(f"grid:{grid}")
    if unit:
        keys.add(f"unit:{unit}")
    if assignee:
        keys.add(f"staff:{assignee}")
    if escalation_unit:
        keys.add(f"unit:{escalation_unit}")
    keys.update(f"unit:{code}" for code in co_handlers or ())
    return keys


class TicketEvent(Base):
    """One change to a ticket. Rows are only ever inserted."""

    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    at: Mapped[datetime]
    actor_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class CoHandler(Base):
    """A unit a ruling names to co-handle a ticket (协办): it reads the ticket, sees it in its
    poll, and reports its part to the lead (主办), who replies for all."""

    __tablename__ = "co_handler"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("unit.code"), primary_key=True, index=True)
    named_at: Mapped[datetime]
    reported_at: Mapped[datetime | None]
    report: Mapped[str] = mapped_column(Text, default="")
    reported_by_name: Mapped[str | None] = mapped_column(String(200))


class Whistle(Base):
    """A grid worker blowing the whistle (吹哨) on a ticket."""

    __tablename__ = "whistle"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]


class Summons(Base):
    """One party a whistle summons: a dedicated member, or a department (any of its members
    may report in, 报到). Each has its own deadline."""

    __tablename__ = "summons"
    __table_args__ = (Index("ix_summons_change_seq", "change_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    whistle_id: Mapped[int] = mapped_column(ForeignKey("whistle.id"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("unit.code"), index=True)
    started_at: Mapped[datetime | None]
    due_at: Mapped[datetime] = mapped_column(index=True)
    reminded_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    reported_at: Mapped[datetime | None]
    reported_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    late: Mapped[bool | None]
    note: Mapped[str] = mapped_column(Text, default="")
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)

    def change_keys(self) -> set[str]:
        """Who the summons concerns (hotline.change): the member, or the department."""
        keys = {f"staff:{self.staff_id}"} if self.staff_id else set()
        return keys | ({f"unit:{self.unit_code}"} if self.unit_code else set())


class IdempotencyRecord(Base):
    """An ``Idempotency-Key`` seen from one API key: in flight until its ticket commits."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    created_at: Mapped[datetime]
