"""HTTP for webhooks (admin): subscriptions, a ping, deliveries and retries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from hotline.auth.dependencies import Admin
from hotline.db.session import ReadSession, Session
from hotline.errors import Forbidden, NotFound, Unauthenticated, Unprocessable, responses
from hotline.kit.clock import Now
from hotline.kit.types import Id
from hotline.webhook import repository, service
from hotline.webhook.models import Webhook
from hotline.webhook.schemas import DeliveryRead, WebhookCreate, WebhookRead, WebhookUpdate
from hotline.webhook.targets import RefusedTarget

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
PROBLEMS = responses(Unauthenticated, Forbidden, NotFound, Unprocessable)
# Subscribing or changing a URL: also refused when it reaches inside (webhook.targets).
TARGET_PROBLEMS = responses(Unauthenticated, Forbidden, NotFound, Unprocessable, RefusedTarget)


def _allow_private(request: Request) -> bool:
    return bool(request.app.state.settings.webhooks.allow_private_targets)


async def _checked_create(data: WebhookCreate, request: Request) -> WebhookCreate:
    await service.check_target(str(data.url), allow_private_targets=_allow_private(request))
    return data


async def _checked_update(data: WebhookUpdate, request: Request) -> WebhookUpdate:
    if data.url is not None:
        await service.check_target(str(data.url), allow_private_targets=_allow_private(request))
    return data


# The payload with its URL checked, its host resolved, before the Session that follows it in
# a signature is opened: a slow resolver must not hold a transaction (on SQLite, this
# process's turn to write). After Admin, so that no stranger makes us resolve anything.
CheckedCreate = Annotated[WebhookCreate, Depends(_checked_create)]
CheckedUpdate = Annotated[WebhookUpdate, Depends(_checked_update)]


def _read(w: Webhook, secret: str | None = None) -> WebhookRead:
    read = WebhookRead.model_validate(w)
    return read if secret is None else read.model_copy(update={"secret": secret})


@router.post(
    "",
    response_model=WebhookRead,
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe (the secret is shown once)",
    responses=TARGET_PROBLEMS,
)
async def create(principal: Admin, data: CheckedCreate, session: Session, now: Now) -> WebhookRead:
    """Deliveries are signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
    `webhook-signature`: HMAC-SHA256 with the secret), retried with backoff for a day.

    The URL's host must resolve, to public addresses only (`webhook_target_refused`
    otherwise, its `reason` saying which kind: `loopback`, `link-local`, `private`,
    `unresolvable` …), unless the server allows private targets."""
    return _read(*await service.create(session, data, now=now))


@router.get("", response_model=list[WebhookRead], summary="Subscriptions", responses=PROBLEMS)
async def list_(session: ReadSession, principal: Admin) -> list[WebhookRead]:
    return [_read(w) for w in await repository.webhooks(session)]


@router.get(
    "/{webhook_id}", response_model=WebhookRead, summary="One subscription", responses=PROBLEMS
)
async def read(webhook_id: Id, session: ReadSession, principal: Admin) -> WebhookRead:
    return _read(await service.get(session, webhook_id))


@router.patch(
    "/{webhook_id}",
    response_model=WebhookRead,
    summary="Change a subscription",
    responses=TARGET_PROBLEMS,
)
async def update(
    webhook_id: Id, principal: Admin, data: CheckedUpdate, session: Session, now: Now
) -> WebhookRead:
    """A new URL is checked as at subscription."""
    return _read(await service.update(session, webhook_id, data, now=now))


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unsubscribe (pending deliveries are dropped)",
    responses=PROBLEMS,
)
async def delete(webhook_id: Id, session: Session, principal: Admin) -> Response:
    await service.drop(session, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/ping",
    response_model=DeliveryRead,
    summary="Send a webhook.ping now and say how it went",
    responses=PROBLEMS,
)
async def ping(webhook_id: Id, request: Request, principal: Admin, now: Now) -> DeliveryRead:
    """A failure shows as `last_status_code` and a short `last_error` ("HTTP 500",
    "connection refused", "target resolves to a private address"), never the answer's body."""
    sent = await service.ping(
        request.app.state.sessionmaker,
        request.app.state.http,
        webhook_id,
        now=now,
        answer_within=request.app.state.settings.webhooks.timeout,
        allow_private_targets=_allow_private(request),
    )
    return DeliveryRead.model_validate(sent)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=list[DeliveryRead],
    summary="Deliveries, newest first",
    responses=PROBLEMS,
)
async def deliveries(
    webhook_id: Id,
    session: ReadSession,
    principal: Admin,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(pending|delivered|dead)$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryRead]:
    await service.get(session, webhook_id)
    return [
        DeliveryRead.model_validate(d)
        for d in await repository.deliveries(session, webhook_id, status_, limit)
    ]


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    response_model=DeliveryRead,
    summary="Retry a delivery now (also a dead one)",
    responses=PROBLEMS,
)
async def retry(
    webhook_id: Id, delivery_id: Id, session: Session, principal: Admin, now: Now
) -> DeliveryRead:
    return DeliveryRead.model_validate(
        await service.retry(session, webhook_id, delivery_id, now=now)
    )
