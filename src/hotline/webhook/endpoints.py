"""HTTP for webhooks (admin): subscriptions, a ping, deliveries and retries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import select

from hotline.auth.dependencies import Admin
from hotline.db.session import ReadSession, Session, unit_of_work
from hotline.errors import Conflict, Forbidden, NotFound, Unauthenticated, Unprocessable, responses
from hotline.kit.clock import utcnow
from hotline.webhook import delivery, outbox, signing
from hotline.webhook.models import Delivery, Webhook
from hotline.webhook.schemas import DeliveryRead, WebhookCreate, WebhookRead, WebhookUpdate

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
PROBLEMS = responses(Unauthenticated, Forbidden, NotFound, Unprocessable)


def _read(w: Webhook, secret: str | None = None) -> WebhookRead:
    return WebhookRead(
        id=w.id,
        url=w.url,
        event_types=w.event_types,
        description=w.description,
        active=w.active,
        disabled_reason=w.disabled_reason,
        failing_since=w.failing_since,
        created_at=w.created_at,
        secret=secret,
    )


def _delivery(d: Delivery) -> DeliveryRead:
    return DeliveryRead(
        id=d.id,
        msg_id=d.msg_id,
        event_type=d.event_type,
        status=d.status,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        created_at=d.created_at,
        delivered_at=d.delivered_at,
        payload=d.payload,
    )


async def _get(session: ReadSession | Session, webhook_id: int) -> Webhook:
    webhook = await session.get(Webhook, webhook_id)
    if webhook is None:
        raise NotFound(f"No webhook {webhook_id}")
    return webhook


@router.post(
    "",
    response_model=WebhookRead,
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe (the secret is shown once)",
    responses=PROBLEMS,
)
async def create(data: WebhookCreate, session: Session, principal: Admin) -> WebhookRead:
    """Deliveries are signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
    `webhook-signature`: HMAC-SHA256 with the secret), retried with backoff for a day."""
    now = utcnow()
    secret = signing.new_secret()
    webhook = Webhook(
        url=str(data.url),
        event_types=data.event_types,
        secret=secret,
        description=data.description,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(webhook)
    await session.flush()
    return _read(webhook, secret)


@router.get("", response_model=list[WebhookRead], summary="Subscriptions", responses=PROBLEMS)
async def list_(session: ReadSession, principal: Admin) -> list[WebhookRead]:
    return [_read(w) for w in await session.scalars(select(Webhook).order_by(Webhook.id))]


@router.get(
    "/{webhook_id}", response_model=WebhookRead, summary="One subscription", responses=PROBLEMS
)
async def read(webhook_id: int, session: ReadSession, principal: Admin) -> WebhookRead:
    return _read(await _get(session, webhook_id))


@router.patch(
    "/{webhook_id}", response_model=WebhookRead, summary="Change a subscription", responses=PROBLEMS
)
async def update(
    webhook_id: int, data: WebhookUpdate, session: Session, principal: Admin
) -> WebhookRead:
    webhook = await _get(session, webhook_id)
    changes = data.model_dump(exclude_unset=True, mode="json")
    for name, value in changes.items():
        setattr(webhook, name, value)
    if changes.get("active"):
        webhook.disabled_reason = None
        webhook.failing_since = None
    webhook.updated_at = utcnow()
    return _read(webhook)


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unsubscribe (pending deliveries are dropped)",
    responses=PROBLEMS,
)
async def delete(webhook_id: int, session: Session, principal: Admin) -> Response:
    webhook = await _get(session, webhook_id)
    for d in await session.scalars(select(Delivery).where(Delivery.webhook_id == webhook_id)):
        await session.delete(d)
    await session.delete(webhook)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/ping",
    response_model=DeliveryRead,
    summary="Send a webhook.ping now and say how it went",
    responses=PROBLEMS,
)
async def ping(webhook_id: int, request: Request, principal: Admin) -> DeliveryRead:
    maker = request.app.state.sessionmaker
    now = utcnow()
    async with unit_of_work(maker) as session:
        webhook = await _get(session, webhook_id)
        if not webhook.active:
            raise Conflict(f"Webhook {webhook_id} is disabled: {webhook.disabled_reason}")
        queued = outbox.add(
            session,
            webhook.id,
            "webhook.ping",
            outbox.message("webhook.ping", {"webhook_id": webhook.id}, now),
            now,
        )
        await session.flush()
        delivery_id = queued.id
    await delivery.deliver_due(
        maker,
        request.app.state.http,
        now=now,
        only=delivery_id,
        answer_within=request.app.state.settings.webhooks.timeout,
    )
    async with unit_of_work(maker, read_only=True) as session:
        return _delivery(await session.get_one(Delivery, delivery_id))


@router.get(
    "/{webhook_id}/deliveries",
    response_model=list[DeliveryRead],
    summary="Deliveries, newest first",
    responses=PROBLEMS,
)
async def deliveries(
    webhook_id: int,
    session: ReadSession,
    principal: Admin,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(pending|delivered|dead)$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryRead]:
    await _get(session, webhook_id)
    query = select(Delivery).where(Delivery.webhook_id == webhook_id)
    if status_:
        query = query.where(Delivery.status == status_)
    rows = await session.scalars(query.order_by(Delivery.id.desc()).limit(limit))
    return [_delivery(d) for d in rows]


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    response_model=DeliveryRead,
    summary="Retry a delivery now (also a dead one)",
    responses=PROBLEMS,
)
async def retry(
    webhook_id: int, delivery_id: int, session: Session, principal: Admin
) -> DeliveryRead:
    found = await session.get(Delivery, delivery_id, with_for_update=True)
    if found is None or found.webhook_id != webhook_id:
        raise NotFound(f"No delivery {delivery_id} of webhook {webhook_id}")
    if found.status == "delivered":
        raise Conflict("Already delivered")
    now = utcnow()
    found.status = "pending"
    found.next_attempt_at = now
    # A retried dead letter gets a new day of attempts.
    found.created_at = now
    return _delivery(found)
