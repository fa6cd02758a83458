"""Corrections of a ticket's category (the dispatcher's choice from triage, a
re-categorisation, a ruling): recorded as ``category_corrected`` events with what was suggested
at intake, so what the suggestions got wrong can be counted and learned from."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hotline.errors import Unprocessable
from hotline.org import repository as org_repository
from hotline.suggestion import repository
from hotline.ticket.models import Ticket


async def corrected(
    session: AsyncSession, ticket: Ticket, code: str, by: str
) -> dict[str, Any] | None:
    """Give ``ticket`` the category ``code`` (``by``: triage, dispatch, recategorise or
    ruling); the details of its ``category_corrected`` event, or None when it already has it.
    422 naming ``category`` for an unknown or retired category."""
    if code == ticket.category_code:
        return None
    known = await org_repository.category(session, code)
    if known is None or not known.active:
        raise Unprocessable(
            f"没有可用的类别 {code}；见 GET /v1/categories",
            en=f"No active category {code}; see GET /v1/categories",
            field="category",
        )
    suggested = await repository.of_ticket(session, ticket.id)
    details: dict[str, Any] = {
        "from": ticket.category_code,
        "to": code,
        "by": by,
        "suggested": suggested.category_code if suggested else None,
        "model_version": suggested.model_version if suggested else None,
    }
    ticket.category_code = code
    return details
