"""What every action shares: who acts and when (``Act``), the locked ticket, the version check,
the transition, the event, the change number. Domain errors only; the caller's unit of work
commits."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.roles import CENTRE, ROLE_NAMES, Role
from hotline.auth.service import Principal
from hotline.change import pipeline
from hotline.errors import (
    Designated,
    Forbidden,
    InvalidTransition,
    NotFound,
    PreconditionFailed,
    Unprocessable,
)
from hotline.org.models import Staff
from hotline.routing import service as routing_service
from hotline.routing.state import RoutingCache, RoutingState
from hotline.sla import deadlines
from hotline.sla.calendar import WorkCalendar
from hotline.ticket import events
from hotline.ticket import repository as ticket_repository
from hotline.ticket import service as ticket_service
from hotline.ticket.models import Summons, Ticket
from hotline.ticket.schemas import Status
from hotline.workflow import states
from hotline.workflow.models import TicketRequest
from hotline.workflow.states import Action


@dataclass(frozen=True)
class Act:
    """What every action needs besides its ticket and payload: the transaction, who acts, the
    one instant of the request, and the calendar and routing state as this transaction sees
    them."""

    session: AsyncSession
    principal: Principal
    now: datetime
    calendar: WorkCalendar
    routing: RoutingCache

    async def state(self) -> RoutingState:
        return await self.routing.current(self.session)

    async def record(
        self,
        ticket: Ticket,
        action: str,
        before: str,
        details: dict[str, Any] | None = None,
        *,
        wake: Iterable[str] = (),
        summons: Iterable[Summons] = (),
    ) -> None:
        """The event of this act's principal at its instant, then ``finish``. ``wake``: others
        to tell (the members a whistle summons); ``summons``: the summons rows this change
        wrote, numbered with it."""
        session = self.session
        events.record(
            session,
            ticket,
            action,
            actor=self.principal,
            at=self.now,
            from_status=before,
            details=details,
        )
        pipeline.wake(session, wake)
        for one in summons:
            pipeline.touch(session, one)
        finish(session, ticket, now=self.now)


async def locked(
    session: AsyncSession, ticket_id: int, principal: Principal, if_match: int | None
) -> Ticket:
    """The ticket, row-locked until commit (two actors cannot both win), visible to the caller
    and at the version they expect."""
    return await admit(session, await lock(session, ticket_id), principal, if_match)


async def lock(session: AsyncSession, ticket_id: int) -> Ticket:
    """The ticket row-locked until commit, for nobody in particular yet (404 if none)."""
    ticket = await ticket_repository.locked(session, ticket_id)
    if ticket is None:
        raise NotFound(f"没有编号为 {ticket_id} 的工单", en=f"No ticket {ticket_id}")
    return ticket


async def admit(
    session: AsyncSession, ticket: Ticket, principal: Principal, if_match: int | None
) -> Ticket:
    """The locked ticket for ``principal`` to change: 403 for the viewer, 404 when it is not
    theirs to see, 412 when ``if_match`` names another version."""
    ticket_id = ticket.id
    # Locked for a change: whoever it concerns now hears of it (hotline.change).
    pipeline.touch(session, ticket)
    if principal.role is Role.viewer:
        raise Forbidden(ticket_service.VIEWER_ZH, en=ticket_service.VIEWER_EN)
    if not await ticket_service.readable(session, principal, ticket):
        # Not 403: another grid's ticket ids are not to be probed.
        raise NotFound(f"没有编号为 {ticket_id} 的工单", en=f"No ticket {ticket_id}")
    if if_match is not None and if_match != ticket.version:
        raise PreconditionFailed(
            f"工单 {ticket_id} 已被他人修改：当前版本为 {ticket.version}，不是 {if_match}，"
            "请刷新后重试",
            en=f"Ticket {ticket_id} is at version {ticket.version}, not {if_match}",
            version=ticket.version,
        )
    return ticket


async def summoned(session: AsyncSession, ticket: Ticket, principal: Principal) -> bool:
    return await ticket_repository.summoned(
        session, ticket.id, principal.staff_id, principal.unit_code
    )


def ensure(ticket: Ticket, action: Action) -> None:
    """409 naming the current state unless ``action`` is allowed in it."""
    current = Status(ticket.status)
    if not states.allowed(action, current):
        refused = states.IllegalTransition(action, current)
        raise InvalidTransition(refused.zh, en=refused.en, state=current.value)


def move(ticket: Ticket, action: Action, target: Status | None = None) -> str:
    """Apply the state machine; returns the state before. 409 names the current state."""
    current = Status(ticket.status)
    try:
        after = states.check(action, current, target)
    except states.IllegalTransition as exc:
        raise InvalidTransition(exc.zh, en=exc.en, state=current.value) from exc
    ticket.status = after.value
    return current.value


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        names = ", ".join(r.value for r in roles)
        names_zh = "、".join(ROLE_NAMES[r] for r in roles)
        raise Forbidden(f"只有{names_zh}可以进行此操作", en=f"Only {names} may do this")


def require(allowed: bool, why: str, *, en: str) -> None:
    """403 with ``why`` (Chinese; ``en`` its English) unless ``allowed``."""
    if not allowed:
        raise Forbidden(why, en=en)


def refuse_if_designated(ticket: Ticket, what: str, *, en: str) -> None:
    """409 naming the ruling that holds a designated ticket (确责): only a new ruling moves it.
    ``what`` is the refused action in Chinese ("退单"), ``en`` as a participle ("returned")."""
    if not ticket.designated:
        return
    ruling = ticket.ruling or {}
    by = f" of {ruling['at']} by {ruling['by']}" if ruling.get("at") else ""
    at = str(ruling.get("at", ""))[:16].replace("T", " ")
    by_zh = f"（{ruling['by']}，{at}）" if ruling.get("at") else ""
    lead = ruling.get("lead_unit", ticket.unit_code)
    raise Designated(
        f"工单 {ticket.number} 已由确责小组认定{by_zh}，主办单位为 {lead}；"
        f"除非确责小组重新认定，不能{what}",
        en=f"Ticket {ticket.number} is designated by the confirmation group's ruling{by} "
        f"(lead unit {lead}); it cannot be {en} except by a new ruling",
        state=ticket.status,
        ruling=ruling,
    )


async def open_request(
    act: Act,
    ticket: Ticket,
    kind: str,
    before: str,
    *,
    reason: str,
    reason_code: str | None = None,
    days: int | None = None,
    details: dict[str, Any] | None = None,
    shown: dict[str, Any] | None = None,
) -> None:
    """A request for a dispatcher's decision (return, extension, staged answer, termination):
    the owner has acted, and the event ``<kind>_requested`` shows the request's id and
    ``shown``, by default the reason code and days given and the reason."""
    request = TicketRequest(
        ticket_id=ticket.id,
        kind=kind,
        status="pending",
        reason_code=reason_code,
        reason=reason,
        days=days,
        details=details or {},
        requested_by_key_id=act.principal.key_id,
        requested_by_staff_id=act.principal.staff_id,
        requested_at=act.now,
    )
    act.session.add(request)
    await act.session.flush()
    await deadlines.acted(act.session, ticket, act.calendar, act.now)
    if shown is None:
        asked = {"reason_code": reason_code, "days": days, "reason": reason}
        shown = {k: v for k, v in asked.items() if v is not None}
    await act.record(ticket, f"{kind}_requested", before, {"request_id": request.id, **shown})


def finish(session: AsyncSession, ticket: Ticket, *, now: datetime) -> None:
    """After a change whose event is written: the new version and the sweeper's next look. The
    unit of work numbers the change and wakes whoever it concerns (hotline.change)."""
    ticket.version += 1
    ticket.updated_at = now
    deadlines.reschedule(session, ticket)


async def assign_to_unit(
    act: Act,
    ticket: Ticket,
    unit_code: str,
    *,
    assignee_id: int | None = None,
    method: str,
    explanation: str,
) -> None:
    """Make a unit (and, in a grid, its on-duty worker) the owner and start the sign clock."""
    from hotline.org import repository as org_repository

    session = act.session
    unit = await org_repository.unit(session, unit_code)
    if unit is None:
        raise Unprocessable(
            f"没有编码为 {unit_code} 的单位", en=f"Unknown unit {unit_code}", field="unit_code"
        )
    assignee: Staff | None = None
    if assignee_id is not None:
        assignee = await org_repository.staff(session, assignee_id)
        if assignee is None or assignee.unit_code != unit_code or not assignee.active:
            raise Unprocessable(
                f"工作人员 {assignee_id} 不是 {unit_code} 的在岗人员",
                en=f"Staff {assignee_id} is not active in {unit_code}",
                field="assignee_id",
            )
    elif unit.kind == "grid":
        assignee = await routing_service.on_duty_worker(session, unit_code)
    deadlines.leave_ladder(ticket)
    ticket.unit_code = unit_code
    ticket.grid_code = unit_code if unit.kind == "grid" else None
    if ticket.area_code is None and unit.kind == "grid":
        await _locate_in(session, ticket, unit)
    ticket.assignee_id = assignee.id if assignee else None
    ticket.route = {
        "method": method,
        "unit_code": unit_code,
        "grid_code": ticket.grid_code,
        "assignee_id": ticket.assignee_id,
        "assignee_name": assignee.name if assignee else None,
        "rule_id": None,
        "explanation": explanation,
        "candidates": [],
    }
    await deadlines.on_dispatch(session, ticket, act.calendar, act.now)


def centre_or(principal: Principal, *roles: Role) -> bool:
    return principal.role in CENTRE or principal.role in roles


async def _locate_in(session: AsyncSession, ticket: Ticket, grid: Any) -> None:
    """A ticket dispatched by hand to a grid lies in that grid (and its village, township)."""
    from hotline.org import repository as org_repository

    ticket.area_code = grid.code
    unit = grid
    for _ in range(8):
        if unit.parent_code is None:
            break
        unit = await org_repository.unit(session, unit.parent_code)
        if unit is None:
            break
        if unit.kind == "village":
            ticket.village_code = unit.code
        elif unit.kind == "township":
            ticket.township_code = unit.code
