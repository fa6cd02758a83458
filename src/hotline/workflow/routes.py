"""How a workflow action becomes an endpoint: ``POST /v1/tickets/{id}/<action>`` open to the
action's roles, on the ticket locked for it (``LockedTicket``), answered as the actor may see it.
The actions themselves are tables (workflow.endpoints, escalation.endpoints)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel

from hotline.audit import service as audit
from hotline.auth.dependencies import CurrentPrincipal, require
from hotline.auth.roles import Role
from hotline.auth.service import Principal
from hotline.db.session import Session
from hotline.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    Unauthenticated,
    Unprocessable,
    responses,
)
from hotline.idempotency import service as keys
from hotline.idempotency.headers import IdempotencyKey, answer
from hotline.kit.clock import Now
from hotline.kit.types import Id
from hotline.sla.calendars import Calendar
from hotline.ticket.models import Ticket
from hotline.ticket.schemas import TicketRead
from hotline.ticket.visibility import present
from hotline.workflow import common
from hotline.workflow.common import Act

ACTION_PROBLEMS = responses(
    Unauthenticated, Forbidden, NotFound, Conflict, PreconditionFailed, Unprocessable
)


# The ticket's version as an entity tag ("3", W/"3") or bare (3), as openapi.yaml states it.
IF_MATCH = r'^(W/)?"?[0-9]{1,18}"?$'


def _version(value: str | None) -> int | None:
    if value is None:
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not (raw.isascii() and raw.isdigit()):
        raise Unprocessable(
            'If-Match 应为工单的版本号，如 "3"',
            en='If-Match must be the ticket\'s version, e.g. "3"',
            field="If-Match",
        )
    return int(raw)


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=32,
        pattern=IF_MATCH,
        description="The version you acted on; a newer ticket answers 412",
    ),
]


async def locked_ticket(
    ticket_id: Id, session: Session, principal: CurrentPrincipal, if_match: IfMatch = None
) -> Ticket:
    """The ticket locked for an action in the request's transaction: 404 when it does not
    exist or is not the caller's to see, 412 when ``If-Match`` names another version."""
    return await common.locked(session, ticket_id, principal, _version(if_match))


# The ticket an action acts on; declare it after the role alias, so that a role that never
# takes the action is refused (403) before any lookup.
LockedTicket = Annotated[Ticket, Depends(locked_ticket)]
Handler = Callable[[Act, Ticket, Any], Awaitable[Ticket]]
DOC = (
    "State errors are 409 with the current `state` (a ticket a ruling holds: `designated`, "
    "naming the `ruling`); a stale `If-Match` is 412; a role that never takes this action is "
    "403, and so is acting on a ticket that is not yours. With an `Idempotency-Key`, a retry "
    "of an action that succeeded answers its first answer (`Idempotent-Replayed: true`) and "
    "does nothing again; the same key with another body is 422."
)


@dataclass(frozen=True)
class ActionRoute:
    """One action: ``POST /v1/tickets/{id}/<path>`` with ``schema`` as its body, run by
    ``handler`` on the locked ticket, open to ``roles`` (others get 403 before any lookup)."""

    path: str
    schema: type[BaseModel]
    handler: Handler
    summary: str
    roles: Collection[Role]
    # Other spellings of the path that also work (not in the schema).
    aliases: tuple[str, ...] = ()


def add_action(router: APIRouter, action: ActionRoute) -> None:
    """Register the action's endpoint: lock the ticket (404), answer a replayed
    ``Idempotency-Key`` as it was first answered, admit the actor (404, 412), run the handler
    in the request's transaction and answer the ticket as the actor may see it, keeping the
    answer with the key (hotline.idempotency)."""
    allowed = Annotated[Principal, Depends(require(*action.roles))]

    async def endpoint(
        principal: Principal,
        ticket_id: Id,
        data: BaseModel,
        request: Request,
        session: Session,
        calendar: Calendar,
        now: Now,
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        version = _version(if_match)
        claim = keys.claim(
            principal.key_id,
            idempotency_key,
            f"POST /v1/tickets/{{id}}/{action.path}",
            ticket_id,
            data.model_dump(mode="json"),
        )
        # The key is looked up holding the ticket's lock: an identical request racing this one
        # waits for it here, then finds its answer.
        ticket = await common.lock(session, ticket_id)
        where = f"/v1/tickets/{ticket_id} (action)"
        stored = await keys.replayed(session, claim)
        if stored is not None:
            audit.note(
                session, principal, where, [TicketRead.model_validate_json(stored.body)], now=now
            )
            return answer(stored, replayed=True)
        ticket = await common.admit(session, ticket, principal, version)
        act = Act(session, principal, now, calendar, request.app.state.routing)
        read = present(principal, await action.handler(act, ticket, data))
        # The answer hands the actor the ticket, caller included where they may see it.
        audit.note(session, principal, where, [read], now=act.now)
        body = read.model_dump_json()
        await keys.remember(session, claim, 200, body, now=act.now)
        return Response(body, media_type="application/json")

    # Set here, not written above: the module's annotations are strings (PEP 563) that FastAPI
    # would look up in the module, where neither the schema nor the role alias lives.
    endpoint.__annotations__ = {
        **endpoint.__annotations__,
        "data": action.schema,
        "principal": allowed,
    }
    endpoint.__name__ = action.path.replace("-", "_")
    names = ", ".join(sorted(r.value for r in action.roles))
    router.post(
        f"/tickets/{{ticket_id}}/{action.path}",
        response_model=TicketRead,
        responses=ACTION_PROBLEMS,
        summary=action.summary,
        description=f"Roles: {names}. {DOC}",
    )(endpoint)
    for alias in action.aliases:
        router.post(
            f"/tickets/{{ticket_id}}/{alias}", response_model=TicketRead, include_in_schema=False
        )(endpoint)


__all__ = ["ACTION_PROBLEMS", "DOC", "ActionRoute", "IfMatch", "LockedTicket", "add_action"]
