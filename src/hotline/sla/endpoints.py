"""HTTP for time-limit policies. A change applies to clocks that start after it; each ticket
records which policy set each of its deadlines."""

from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from hotline.auth.dependencies import Admin, CentreReader
from hotline.db.session import ReadSession, Session
from hotline.errors import Forbidden, NotFound, Unauthenticated, Unprocessable, responses
from hotline.kit.clock import utcnow
from hotline.sla.models import Policy
from hotline.sla.policy import Clock
from hotline.sla.schemas import PolicyCreate, PolicyRead, PolicyUpdate
from hotline.ticket import repository as ticket_repository

router = APIRouter(prefix="/v1", tags=["clocks"])
WRITE = responses(Unauthenticated, Forbidden, NotFound, Unprocessable)


def _read(p: Policy) -> PolicyRead:
    return PolicyRead(
        id=p.id,
        clock=Clock(p.clock),
        amount=p.amount,
        unit=p.unit,
        urgency=p.urgency,
        kind=p.kind,
        line=p.line,
        category=p.category_code,
        level=p.level,
        note=p.note,
        active=p.active,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


@router.get(
    "/policies",
    response_model=list[PolicyRead],
    summary="Time-limit policies",
    responses=responses(Unauthenticated, Forbidden),
)
async def list_policies(session: ReadSession, principal: CentreReader) -> list[PolicyRead]:
    """For each clock, the most specific active policy matching a ticket's urgency, kind, line
    and category (and a whistle's level) wins; a tie goes to the newer."""
    rows = await session.scalars(select(Policy).order_by(Policy.clock, Policy.id))
    return [_read(p) for p in rows]


@router.post(
    "/policies",
    response_model=PolicyRead,
    status_code=status.HTTP_201_CREATED,
    summary="Add a policy (admin)",
    responses=WRITE,
)
async def create_policy(data: PolicyCreate, session: Session, principal: Admin) -> PolicyRead:
    if data.category and await ticket_repository.category(session, data.category) is None:
        raise Unprocessable(f"Unknown category {data.category}", field="category")
    if data.level is not None and data.clock is not Clock.report_in:
        raise Unprocessable("level applies to the report_in clock only", field="level")
    now = utcnow()
    policy = Policy(
        clock=data.clock.value,
        amount=data.amount,
        unit=data.unit.value,
        urgency=data.urgency,
        kind=data.kind,
        line=data.line,
        category_code=data.category,
        level=data.level,
        note=data.note,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(policy)
    await session.flush()
    return _read(policy)


@router.patch(
    "/policies/{policy_id}",
    response_model=PolicyRead,
    summary="Change a policy (admin)",
    responses=WRITE,
)
async def update_policy(
    policy_id: int, data: PolicyUpdate, session: Session, principal: Admin
) -> PolicyRead:
    policy = await session.get(Policy, policy_id)
    if policy is None:
        raise NotFound(f"No policy {policy_id}")
    for name, value in data.model_dump(exclude_unset=True, mode="json").items():
        setattr(policy, name, value)
    policy.updated_at = utcnow()
    await session.flush()
    return _read(policy)
