"""HTTP for hot spots (类案)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from hotline.auth.dependencies import require
from hotline.auth.roles import CENTRE, Role
from hotline.auth.service import Principal
from hotline.db.session import ReadSession, Session
from hotline.errors import Conflict, Forbidden, NotFound, Unauthenticated, Unprocessable, responses
from hotline.hotspot import service
from hotline.hotspot.models import Cluster
from hotline.kit.clock import Now
from hotline.kit.types import FromRow, Id
from hotline.ticket.schemas import Code, LocalTime

router = APIRouter(prefix="/v1/clusters", tags=["hot spots"])
Reader = Annotated[Principal, Depends(require(Role.viewer, *CENTRE))]
Handler = Annotated[Principal, Depends(require(Role.dispatcher, Role.admin))]
PROBLEMS = responses(Unauthenticated, Forbidden, NotFound, Conflict, Unprocessable)


class ClusterRead(FromRow):
    id: int
    category: str = Field(validation_alias="category_code")
    place: str = Field(validation_alias="place_code")
    status: str
    size: int
    first_seen: LocalTime
    last_seen: LocalTime
    keywords: list[str]
    trend: list[int] = Field(description="Tickets per week over the window, oldest first")
    lead_unit: str | None = Field(validation_alias="lead_unit_code")
    standard: str
    rule_id: int | None
    members: list[dict[str, Any]] = Field(
        default=[], description="Ticket ids, numbers and states only"
    )


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lead_unit: Code
    standard: str = Field(min_length=1, max_length=2000, description="处置规范")
    add_rule: bool = False


class RuleIO(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_size: int = Field(ge=2, le=1000)
    window_days: int = Field(ge=1, le=365)
    threshold: float = Field(gt=0, le=1)


class DetectionOut(BaseModel):
    found: int
    created: int
    updated: int


def _read(c: Cluster, members: service.Members, principal: Principal) -> ClusterRead:
    """The cluster as ``principal`` may see it (service.shown: no caller in its texts)."""
    keywords, standard = service.shown(c, members, outside=principal.role not in CENTRE)
    update = {"members": members.listed, "keywords": keywords, "standard": standard}
    return ClusterRead.model_validate(c).model_copy(update=update)


async def _members(session: AsyncSession, found: Cluster) -> service.Members:
    return (await service.members(session, [found.id])).get(found.id, service.Members([], ()))


@router.get(
    "",
    responses=PROBLEMS,
    summary="Hot spots: the same category in the same place, again and again",
)
async def list_clusters(
    session: ReadSession,
    principal: Reader,
    status: Annotated[str | None, Query(pattern="^(open|assigned|closed)$")] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    place: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ClusterRead]:
    found = await service.clusters(
        session, status=status, category=category, place=place, limit=limit
    )
    return [_read(c, members, principal) for c, members in found]


@router.post(
    "/detect",
    response_model=DetectionOut,
    responses=PROBLEMS,
    summary="Run the detector now (the sweeper also runs it)",
)
async def detect(request: Request, principal: Handler, now: Now) -> DetectionOut:
    """Reads, clusters and writes in transactions of its own (hotspot.service.detect)."""
    state = request.app.state
    result = await service.detect(state.sessionmaker, now=now, finder=state.clustering.find)
    return DetectionOut(found=result.found, created=result.created, updated=result.updated)


@router.get(
    "/rule",
    response_model=RuleIO,
    responses=PROBLEMS,
    summary="The detector's rule: K similar tickets in W days",
)
async def get_rule(session: ReadSession, principal: Reader) -> RuleIO:
    r = await service.rule(session)
    return RuleIO(min_size=r.min_size, window_days=r.window_days, threshold=r.threshold)


@router.put("/rule", response_model=RuleIO, responses=PROBLEMS, summary="Change the rule (admin)")
async def put_rule(
    data: RuleIO,
    session: Session,
    principal: Annotated[Principal, Depends(require(Role.admin))],
    now: Now,
) -> RuleIO:
    await service.set_rule(
        session,
        min_size=data.min_size,
        window_days=data.window_days,
        threshold=data.threshold,
        now=now,
    )
    return data


@router.post(
    "/{cluster_id}/assign",
    response_model=ClusterRead,
    responses=PROBLEMS,
    summary="Give a hot spot a lead unit and a handling standard (处置规范)",
)
async def assign(
    cluster_id: Id, data: AssignIn, session: Session, principal: Handler, now: Now
) -> ClusterRead:
    found = await service.assign(
        session,
        await service.get(session, cluster_id),
        lead_unit=data.lead_unit,
        standard=data.standard,
        add_rule=data.add_rule,
        now=now,
    )
    return _read(found, await _members(session, found), principal)


@router.post(
    "/{cluster_id}/close",
    response_model=ClusterRead,
    responses=PROBLEMS,
    summary="Close a hot spot",
)
async def close(cluster_id: Id, session: Session, principal: Handler, now: Now) -> ClusterRead:
    found = await service.close(session, await service.get(session, cluster_id), now=now)
    return _read(found, await _members(session, found), principal)
