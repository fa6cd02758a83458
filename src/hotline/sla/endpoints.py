"""HTTP for time-limit policies and the working-day calendar. A policy change applies to clocks
that start after it (each ticket records which policy set each of its deadlines); a calendar
year set here counts again the clocks that had to guess it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status

from hotline.auth.dependencies import Admin, CentreReader
from hotline.db.session import ReadSession, Session
from hotline.errors import Forbidden, NotFound, Unauthenticated, Unprocessable, responses
from hotline.kit.clock import Now
from hotline.kit.types import Id
from hotline.org import repository as org_repository
from hotline.sla import policies, years
from hotline.sla.schemas import (
    CalendarYearRead,
    CalendarYearUpdate,
    PolicyCreate,
    PolicyRead,
    PolicyUpdate,
)

router = APIRouter(prefix="/v1", tags=["clocks"])
WRITE = responses(Unauthenticated, Forbidden, NotFound, Unprocessable)


@router.get(
    "/policies",
    response_model=list[PolicyRead],
    summary="Time-limit policies",
    responses=responses(Unauthenticated, Forbidden),
)
async def list_policies(session: ReadSession, principal: CentreReader) -> list[PolicyRead]:
    """For each clock, the most specific active policy matching a ticket's urgency, kind, line
    and category (and a whistle's level) wins; a tie goes to the newer."""
    return [PolicyRead.model_validate(p) for p in await policies.all_policies(session)]


@router.post(
    "/policies",
    response_model=PolicyRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a policy (admin)",
    responses=WRITE,
)
async def create_policy(
    data: PolicyCreate, session: Session, principal: Admin, now: Now
) -> PolicyRead:
    category = data.category
    known = category is not None and await org_repository.category(session, category) is not None
    return PolicyRead.model_validate(
        await policies.create(session, data, category_known=known, now=now)
    )


@router.patch(
    "/policies/{policy_id}",
    response_model=PolicyRead,
    summary="Change a policy (admin)",
    responses=WRITE,
)
async def update_policy(
    policy_id: Id, data: PolicyUpdate, session: Session, principal: Admin, now: Now
) -> PolicyRead:
    return PolicyRead.model_validate(await policies.update(session, policy_id, data, now=now))


Year = Annotated[int, Path(ge=1900, le=2200, description="A calendar year, e.g. 2027")]


@router.get(
    "/calendar/{year}",
    response_model=CalendarYearRead,
    summary="A year of the working-day calendar",
    responses=responses(Unauthenticated, Forbidden, Unprocessable),
)
async def read_year(
    year: Year, request: Request, session: ReadSession, principal: CentreReader
) -> CalendarYearRead:
    """Whether the year is known and from where (the `chinesecalendar` package, the data
    directory's calendar file, or this API), its days off and make-up working days."""
    return CalendarYearRead(**await years.read(session, request.app.state.calendars, year))


@router.put(
    "/calendar/{year}",
    response_model=CalendarYearRead,
    summary="Set a year of the working-day calendar (admin)",
    responses=WRITE,
)
async def put_year(
    year: Year,
    data: CalendarYearUpdate,
    request: Request,
    session: Session,
    principal: Admin,
    now: Now,
) -> CalendarYearRead:
    """Replaces what the package and the calendar file say of the year, in every API process
    from its next request; `holidays` must include the fixed-date statutory holidays (1
    January, 1–2 May, 1–3 October). Open tickets whose deadlines were counted Monday to Friday
    because the year was unknown are counted again (`recounted`), each with a
    `deadlines_recounted` event."""
    found, counted = await years.store(
        session,
        request.app.state.calendars,
        year,
        holidays=data.holidays,
        workdays=data.workdays,
        note=data.note,
        principal=principal,
        now=now,
    )
    return CalendarYearRead(**found, recounted=counted)
