"""Actions of the people in the field: sign, note, whistle, report in, reply, ask to return or
for more time. Each checks role and ownership (403), state (409) and version (412)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.roles import Role
from hotline.auth.service import Principal
from hotline.errors import Conflict, Forbidden, Unprocessable
from hotline.org.models import GridMember, Unit
from hotline.sla import deadlines, sweep_rules
from hotline.sla.calendar import WorkCalendar
from hotline.ticket.models import Ticket
from hotline.ticket.schemas import Status
from hotline.workflow import common, schemas
from hotline.workflow.models import Summons, TicketRequest, Whistle
from hotline.workflow.states import Action


async def sign(
    session: AsyncSession,
    ticket: Ticket,
    principal: Principal,
    data: schemas.SignIn,
    *,
    calendar: WorkCalendar,
    now: datetime,
) -> Ticket:
    """Sign (签收): the assignee, or any worker of the grid for a queued ticket (a claim: of
    two claimers one wins, the other gets 409); for a department's ticket, one of its members."""
    common.require_role(principal, Role.worker, Role.member)
    if not (common.is_owner(principal, ticket) or common.in_queue_of(principal, ticket)):
        if ticket.status in (Status.dispatched, Status.rework):
            raise Forbidden("This ticket is assigned to someone else")
    before = common.move(ticket, Action.sign)
    ticket.assignee_id = principal.staff_id
    await deadlines.on_sign(session, ticket, calendar, now)
    late = ticket.sign_due_at is not None and now > ticket.sign_due_at
    await common.record(
        session,
        ticket,
        "signed",
        principal,
        now=now,
        from_status=before,
        details={"late": late, "note": data.note},
    )
    return ticket


async def note(
    session: AsyncSession,
    ticket: Ticket,
    principal: Principal,
    data: schemas.NoteIn,
    *,
    now: datetime,
) -> Ticket:
    """A progress note from the owner, a summoned member or the hotline centre."""
    summoned = principal.role is Role.member and await common.summoned(session, ticket, principal)
    if not (common.is_owner(principal, ticket) or summoned or principal.role is Role.dispatcher):
        raise Forbidden("Only the owner, a summoned member or a dispatcher adds notes")
    before = common.move(ticket, Action.note)
    await common.record(
        session,
        ticket,
        "noted",
        principal,
        now=now,
        from_status=before,
        details={"text": data.text, "photos": [str(p) for p in data.photos]},
    )
    return ticket


async def whistle(
    session: AsyncSession,
    ticket: Ticket,
    principal: Principal,
    data: schemas.WhistleIn,
    *,
    calendar: WorkCalendar,
    now: datetime,
) -> Ticket:
    """Blow the whistle (吹哨): summon the grid's dedicated members and/or departments, each with
    its own report-in deadline. Only the grid worker who owns the ticket."""
    common.require_role(principal, Role.worker)
    common.require_owner(principal, ticket)
    members = list(dict.fromkeys(data.members))
    if members:
        attached = set(
            (
                await session.scalars(
                    select(GridMember.staff_id).where(
                        GridMember.grid_code == ticket.grid_code, GridMember.staff_id.in_(members)
                    )
                )
            ).all()
        )
        stray = [m for m in members if m not in attached]
        if stray:
            raise Unprocessable(f"Not dedicated members of this grid: {stray}", field="members")
    departments = list(dict.fromkeys(data.departments))
    if departments:
        known = set(
            (
                await session.scalars(
                    select(Unit.code).where(Unit.code.in_(departments), Unit.kind == "department")
                )
            ).all()
        )
        unknown = [d for d in departments if d not in known]
        if unknown:
            raise Unprocessable(f"Not departments: {unknown}", field="departments")
    before = common.move(ticket, Action.whistle)
    blown = Whistle(
        ticket_id=ticket.id,
        level=data.level.value,
        reason=data.reason,
        by_staff_id=principal.staff_id,
        created_at=now,
    )
    session.add(blown)
    await session.flush()
    due = await deadlines.report_in_due(session, ticket, calendar, now, data.level.value)
    summoned = [Summons(whistle_id=blown.id, ticket_id=ticket.id, staff_id=m) for m in members]
    summoned += [
        Summons(whistle_id=blown.id, ticket_id=ticket.id, unit_code=d) for d in departments
    ]
    for one in summoned:
        one.started_at, one.due_at = now, due
        one.next_check_at = sweep_rules.next_check([sweep_rules.clock_of_summons(one)])
    session.add_all(summoned)
    wake = {f"staff:{m}" for m in members} | {f"unit:{d}" for d in departments}
    await common.record(
        session,
        ticket,
        "whistled",
        principal,
        now=now,
        from_status=before,
        wake=wake,
        summons=summoned,
        details={
            "whistle_id": blown.id,
            "level": data.level.value,
            "reason": data.reason,
            "members": members,
            "departments": departments,
            "due_at": due.isoformat(),
        },
    )
    return ticket


async def report_in(
    session: AsyncSession,
    ticket: Ticket,
    principal: Principal,
    data: schemas.ReportIn,
    *,
    now: datetime,
) -> Ticket:
    """Report in (报到) to a whistle: a summoned member, or any member of a summoned
    department. A report-in after the deadline is recorded as late."""
    common.require_role(principal, Role.member)
    pending = (
        await session.scalars(
            select(Summons)
            .where(
                Summons.ticket_id == ticket.id,
                Summons.reported_at.is_(None),
                (Summons.staff_id == principal.staff_id)
                | (Summons.unit_code == principal.unit_code),
            )
            .order_by(Summons.id)
            .with_for_update()
        )
    ).all()
    if not pending:
        raise Conflict("No whistle on this ticket is waiting for you to report in")
    before = common.move(ticket, Action.report_in)
    for s in pending:
        s.reported_at = now
        s.reported_by_staff_id = principal.staff_id
        s.late = now > s.due_at
        s.note = data.note
    late = any(s.late for s in pending)
    await common.record(
        session,
        ticket,
        "reported_in",
        principal,
        now=now,
        from_status=before,
        details={"summons": [s.id for s in pending], "late": late, "note": data.note},
        wake={f"staff:{principal.staff_id}"},
        summons=pending,
    )
    return ticket


async def reply(
    session: AsyncSession,
    ticket: Ticket,
    principal: Principal,
    data: schemas.ReplyIn,
    *,
    calendar: WorkCalendar,
    now: datetime,
) -> Ticket:
    """The owner's reply (答复): the ticket waits for the call centre's callback."""
    common.require_owner(principal, ticket)
    before = common.move(ticket, Action.reply)
    ticket.replied_at = now
    late = ticket.reply_due_at is not None and now > ticket.reply_due_at
    ticket.reply = {
        "text": data.text,
        "outcome": data.outcome.value,
        "at": now.isoformat(),
        "by_staff_id": principal.staff_id,
        "late": late,
    }
    await deadlines.on_reply(session, ticket, calendar, now)
    await common.record(
        session,
        ticket,
        "replied",
        principal,
        now=now,
        from_status=before,
        details={"outcome": data.outcome.value, "late": late},
    )
    return ticket


async def request_return(
    session: AsyncSession,
    ticket: Ticket,
    principal: Principal,
    data: schemas.ReturnIn,
    *,
    now: datetime,
) -> Ticket:
    """Ask to return (退单): only within the return window, never for a designated ticket."""
    common.require_role(principal, Role.worker, Role.member)
    if not (common.is_owner(principal, ticket) or common.in_queue_of(principal, ticket)):
        raise Forbidden("Only the ticket's owner may return it")
    if ticket.designated:
        raise Conflict("A designated ticket (确责指定) cannot be returned", state=ticket.status)
    if ticket.return_until is not None and now > ticket.return_until:
        raise Conflict(
            f"The return window closed at {ticket.return_until.isoformat()}", state=ticket.status
        )
    ticket.return_count += 1
    before = common.move(ticket, Action.return_)
    request = TicketRequest(
        ticket_id=ticket.id,
        kind="return",
        status="pending",
        reason_code=data.reason_code.value,
        reason=data.reason,
        requested_by_key_id=principal.key_id,
        requested_by_staff_id=principal.staff_id,
        requested_at=now,
        details={"unit_code": ticket.unit_code, "grid_code": ticket.grid_code},
    )
    session.add(request)
    await session.flush()
    await common.record(
        session,
        ticket,
        "return_requested",
        principal,
        now=now,
        from_status=before,
        details={
            "request_id": request.id,
            "reason_code": data.reason_code.value,
            "reason": data.reason,
        },
    )
    return ticket


async def request_extension(
    session: AsyncSession,
    ticket: Ticket,
    principal: Principal,
    data: schemas.ExtensionIn,
    *,
    now: datetime,
) -> Ticket:
    """Ask for more time (延期): at most 10 working days, once, decided by a dispatcher."""
    common.require_owner(principal, ticket)
    earlier = await session.scalar(
        select(TicketRequest.id)
        .where(
            TicketRequest.ticket_id == ticket.id,
            TicketRequest.kind == "extension",
            TicketRequest.status.in_(("pending", "approved")),
        )
        .limit(1)
    )
    if earlier is not None or ticket.extension_days:
        raise Conflict(
            "An extension was already asked for; it is granted at most once", state=ticket.status
        )
    before = common.move(ticket, Action.extension)
    request = TicketRequest(
        ticket_id=ticket.id,
        kind="extension",
        status="pending",
        reason=data.reason,
        days=data.days,
        requested_by_key_id=principal.key_id,
        requested_by_staff_id=principal.staff_id,
        requested_at=now,
    )
    session.add(request)
    await session.flush()
    await common.record(
        session,
        ticket,
        "extension_requested",
        principal,
        now=now,
        from_status=before,
        details={"request_id": request.id, "days": data.days, "reason": data.reason},
    )
    return ticket
