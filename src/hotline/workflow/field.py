"""Actions of the people in the field and the units above them: sign, note, whistle, report in,
reply, ask to return or for more time, co-report. Who may take each is in workflow.actors;
each checks role and standing (403), state (409) and version (412)."""

from __future__ import annotations

from hotline.attachment import service as attachment_service
from hotline.auth.roles import Role
from hotline.errors import Conflict, Forbidden, Unprocessable
from hotline.kit.clock import local_iso
from hotline.org import repository as org_repository
from hotline.sla import deadlines, sweep_rules
from hotline.ticket import repository as ticket_repository
from hotline.ticket.models import Summons, Ticket, Whistle
from hotline.ticket.schemas import Status
from hotline.workflow import actors, common, repository, schemas
from hotline.workflow.common import Act
from hotline.workflow.states import Action


async def sign(act: Act, ticket: Ticket, data: schemas.SignIn) -> Ticket:
    """Sign (签收): the assignee, any worker of the grid for a queued ticket (a claim: of two
    claimers one wins, the other gets 409), a member or officer of the owning unit for its
    queued ticket, or an officer of the rung the ticket climbed to (who takes it over)."""
    p = act.principal
    common.require_role(p, Role.worker, Role.member, Role.officer)
    mine = actors.is_owner(p, ticket) or actors.in_queue_of(p, ticket)
    if not (mine or actors.officer_of(p, ticket)) and ticket.status in (
        Status.dispatched,
        Status.rework,
    ):
        raise Forbidden("此工单已派给其他人", en="This ticket is assigned to someone else")
    before = common.move(ticket, Action.sign)
    if p.staff_id is not None:
        ticket.assignee_id = p.staff_id
    await deadlines.on_sign(
        act.session, ticket, act.calendar, act.now, rework=before == Status.rework
    )
    await deadlines.acted(act.session, ticket, act.calendar, act.now)
    late = ticket.sign_due_at is not None and act.now > ticket.sign_due_at
    await act.record(ticket, "signed", before, {"late": late, "note": data.note})
    return ticket


async def note(act: Act, ticket: Ticket, data: schemas.NoteIn) -> Ticket:
    """A progress note from the owner or its unit's officers, a co-handler, a summoned member or
    the hotline centre's dispatcher."""
    p = act.principal
    summoned = p.role in (Role.member, Role.officer) and await common.summoned(
        act.session, ticket, p
    )
    allowed = (
        actors.handles(p, ticket)
        or actors.in_queue_of(p, ticket)
        or actors.co_handles(p, ticket)
        or summoned
        or p.role is Role.dispatcher
    )
    common.require(
        allowed,
        "只有办理此工单的人员或派单员可以添加备注",
        en="Only those who handle the ticket, or a dispatcher, add notes",
    )
    before = common.move(ticket, Action.note)
    if p.role is not Role.dispatcher:
        await deadlines.acted(act.session, ticket, act.calendar, act.now)
    await act.record(
        ticket, "noted", before, {"text": data.text, "photos": [str(x) for x in data.photos]}
    )
    return ticket


async def _check_members(act: Act, ticket: Ticket, members: list[int]) -> None:
    grid = ticket.grid_code or ticket.area_code
    attached = await org_repository.grid_members_among(act.session, grid, members)
    stray = [m for m in members if m not in attached]
    if stray:
        raise Unprocessable(
            f"以下人员不是此网格的专属网格员：{stray}",
            en=f"Not dedicated members of this grid: {stray}",
            field="members",
        )


async def _check_departments(act: Act, departments: list[str]) -> None:
    known = await org_repository.departments_among(act.session, departments)
    unknown = [d for d in departments if d not in known]
    if unknown:
        raise Unprocessable(
            f"以下编码不是部门：{unknown}", en=f"Not departments: {unknown}", field="departments"
        )


async def whistle(act: Act, ticket: Ticket, data: schemas.WhistleIn) -> Ticket:
    """Blow the whistle (吹哨): summon the grid's dedicated members and/or departments, each with
    its own report-in deadline. The grid worker who owns the ticket, or an officer of the unit
    that owns it or that it climbed to."""
    p = act.principal
    common.require_role(p, Role.worker, Role.officer)
    common.require(
        actors.handles(p, ticket),
        "只有工单的承办人可以吹哨",
        en="Only the ticket's owner may blow the whistle",
    )
    members = list(dict.fromkeys(data.members))
    if members:
        await _check_members(act, ticket, members)
    departments = list(dict.fromkeys(data.departments))
    if departments:
        await _check_departments(act, departments)
    before = common.move(ticket, Action.whistle)
    blown = Whistle(
        ticket_id=ticket.id,
        level=data.level.value,
        reason=data.reason,
        by_staff_id=p.staff_id,
        created_at=act.now,
    )
    act.session.add(blown)
    await act.session.flush()
    due = await deadlines.report_in_due(
        act.session, ticket, act.calendar, act.now, data.level.value
    )
    summoned = [Summons(whistle_id=blown.id, ticket_id=ticket.id, staff_id=m) for m in members]
    summoned += [
        Summons(whistle_id=blown.id, ticket_id=ticket.id, unit_code=d) for d in departments
    ]
    for one in summoned:
        one.started_at, one.due_at = act.now, due
        one.next_check_at = sweep_rules.next_check(
            [sweep_rules.clock_of_summons(one)], deadlines.remind_share(act.session)
        )
    act.session.add_all(summoned)
    await deadlines.acted(act.session, ticket, act.calendar, act.now)
    wake = {f"staff:{m}" for m in members} | {f"unit:{d}" for d in departments}
    await act.record(
        ticket,
        "whistled",
        before,
        {
            "whistle_id": blown.id,
            "level": data.level.value,
            "reason": data.reason,
            "members": members,
            "departments": departments,
            "due_at": local_iso(due),
        },
        wake=wake,
        summons=summoned,
    )
    return ticket


async def report_in(act: Act, ticket: Ticket, data: schemas.ReportIn) -> Ticket:
    """Report in (报到) to a whistle: a summoned member, or any member or officer of a summoned
    department. A report-in after the deadline is recorded as late."""
    p = act.principal
    common.require_role(p, Role.member, Role.officer)
    pending = list(
        await ticket_repository.waiting_summons(act.session, ticket.id, p.staff_id, p.unit_code)
    )
    if not pending:
        raise Conflict(
            "此工单没有等待你报到的吹哨",
            en="No whistle on this ticket is waiting for you to report in",
        )
    before = common.move(ticket, Action.report_in)
    for s in pending:
        s.reported_at = act.now
        s.reported_by_staff_id = p.staff_id
        s.late = act.now > s.due_at
        s.note = data.note
    late = any(s.late for s in pending)
    await deadlines.acted(act.session, ticket, act.calendar, act.now)
    await act.record(
        ticket,
        "reported_in",
        before,
        {"summons": [s.id for s in pending], "late": late, "note": data.note},
        wake={f"staff:{p.staff_id}"} if p.staff_id is not None else set(),
        summons=pending,
    )
    return ticket


async def reply(act: Act, ticket: Ticket, data: schemas.ReplyIn) -> Ticket:
    """The owner's reply (答复), or its unit's or rung's officer's; the lead replies for every
    co-handler (their reports travel with it). The ticket waits for the centre's callback."""
    p = act.principal
    common.require(
        actors.handles(p, ticket),
        "只有工单的承办人可以答复",
        en="Only the ticket's owner may reply",
    )
    before = common.move(ticket, Action.reply)
    await attachment_service.require_after_photo(act.session, ticket)
    ticket.replied_at = act.now
    late = ticket.reply_due_at is not None and act.now > ticket.reply_due_at
    co_reports = [
        {"unit_code": c.unit_code, "report": c.report, "at": local_iso(c.reported_at)}
        for c in await ticket_repository.co_reports(act.session, ticket.id)
    ]
    ticket.reply = {
        "text": data.text,
        "outcome": data.outcome.value,
        "at": local_iso(act.now),
        "by_staff_id": p.staff_id,
        "by": p.name,
        "late": late,
        **({"co_reports": co_reports} if co_reports else {}),
    }
    await deadlines.on_reply(act.session, ticket, act.calendar, act.now)
    await act.record(ticket, "replied", before, {"outcome": data.outcome.value, "late": late})
    return ticket


async def request_return(act: Act, ticket: Ticket, data: schemas.ReturnIn) -> Ticket:
    """Ask to return (退单): only within the return window, never for a designated ticket."""
    p = act.principal
    common.require_role(p, Role.worker, Role.member, Role.officer)
    mine = actors.is_owner(p, ticket) or actors.in_queue_of(p, ticket)
    mine = mine or (p.role is Role.officer and p.unit_code == ticket.unit_code)
    common.require(mine, "只有工单的承办人可以退单", en="Only the ticket's owner may return it")
    common.refuse_if_designated(ticket, "退单", en="returned")
    if ticket.return_until is not None and act.now > ticket.return_until:
        closed_at = local_iso(ticket.return_until)
        raise Conflict(
            f"退单期限已于 {closed_at} 截止，不能再退单",
            en=f"The return window closed at {closed_at}",
            state=ticket.status,
        )
    ticket.return_count += 1
    before = common.move(ticket, Action.return_)
    await common.open_request(
        act,
        ticket,
        "return",
        before,
        reason=data.reason,
        reason_code=data.reason_code.value,
        details={"unit_code": ticket.unit_code, "grid_code": ticket.grid_code},
    )
    return ticket


async def request_extension(act: Act, ticket: Ticket, data: schemas.ExtensionIn) -> Ticket:
    """Ask for more time (延期): at most 10 working days, once, decided by a dispatcher."""
    p = act.principal
    common.require(
        actors.handles(p, ticket),
        "只有工单的承办人可以申请延期",
        en="Only the ticket's owner may ask for more time",
    )
    earlier = await repository.request_in(
        act.session, ticket.id, "extension", ("pending", "approved")
    )
    if earlier is not None or ticket.extension_days:
        raise Conflict(
            "此工单已申请过延期，延期最多批准一次",
            en="An extension was already asked for; it is granted at most once",
            state=ticket.status,
        )
    before = common.move(ticket, Action.extension)
    await common.open_request(act, ticket, "extension", before, reason=data.reason, days=data.days)
    return ticket


async def co_report(act: Act, ticket: Ticket, data: schemas.CoReportIn) -> Ticket:
    """A co-handling unit (协办) reports its part to the lead (主办); a later report replaces
    its earlier one. The lead replies for all."""
    p = act.principal
    common.require(
        actors.co_handles(p, ticket),
        "只有确责认定的协办单位可以提交协办报告",
        en="Only a unit the ruling named co-handler reports its part",
    )
    row = await ticket_repository.co_handler(act.session, ticket.id, p.unit_code)
    if row is None:  # co_handlers and its rows are written together (escalation.rulings)
        raise Conflict(
            "你的单位不是此工单的协办单位",
            en="Your unit is not a co-handler of this ticket",
            state=ticket.status,
        )
    before = common.move(ticket, Action.co_report)
    row.reported_at, row.report, row.reported_by_name = act.now, data.text, p.name
    await deadlines.acted(act.session, ticket, act.calendar, act.now)
    await act.record(ticket, "co_reported", before, {"unit_code": p.unit_code, "text": data.text})
    return ticket
