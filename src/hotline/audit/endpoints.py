"""HTTP for the audit trail of personal-data reads (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hotline.audit import service
from hotline.auth.dependencies import Admin
from hotline.db.session import ReadSession
from hotline.errors import Forbidden, Unauthenticated, responses
from hotline.kit.types import FromRow, LocalTime

router = APIRouter(prefix="/v1", tags=["audit"])


class PiiReadOut(FromRow):
    id: int
    at: LocalTime
    actor_role: str
    actor_name: str
    path: str
    ticket_ids: list[int]


@router.get(
    "/audit/pii-reads",
    response_model=list[PiiReadOut],
    responses=responses(Unauthenticated, Forbidden),
    summary="Who read callers' unmasked phones, newest first (admin)",
)
async def pii_reads(
    session: ReadSession, principal: Admin, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[PiiReadOut]:
    return [PiiReadOut.model_validate(r) for r in await service.latest(session, limit)]
