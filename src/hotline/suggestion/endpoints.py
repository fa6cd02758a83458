"""HTTP for suggestions: POST /v1/suggestions (agents and dispatchers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from hotline.auth.dependencies import require
from hotline.auth.roles import Role
from hotline.auth.service import Principal
from hotline.db.session import ReadSession
from hotline.errors import Forbidden, Unauthenticated, Unprocessable, responses
from hotline.suggestion import service
from hotline.suggestion.schemas import SuggestionCreate, SuggestionRead

router = APIRouter(prefix="/v1", tags=["suggestions"])

CallTaker = Annotated[Principal, Depends(require(Role.agent, Role.dispatcher))]


@router.post(
    "/suggestions",
    response_model=SuggestionRead,
    summary="Suggest category, owner, urgency and similar tickets for a text (agent, dispatcher)",
    responses=responses(Unauthenticated, Forbidden, Unprocessable),
)
async def suggest(
    data: SuggestionCreate, request: Request, session: ReadSession, _: CallTaker
) -> SuggestionRead:
    """What the service would suggest for this appeal, from the active model (trained on the
    county's closed tickets; `model` says which): the top 5 categories with scores, the units
    such tickets ended with, an urgency when the text names danger or an outage (with the
    words), and up to 5 similar closed tickets with a masked excerpt of their reply. Nothing
    is written; no caller's name or phone is in the answer."""
    loaded = await request.app.state.suggestions.current(session)
    return SuggestionRead.model_validate(await service.suggest(session, loaded, data.content))
