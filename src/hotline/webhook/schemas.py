"""Webhook payloads."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, UrlConstraints, field_validator

from hotline.errors import Invalid
from hotline.kit.patch import refuse_nulls
from hotline.kit.types import FromRow, LocalTime
from hotline.webhook.outbox import EVENT_TYPES

Url = Annotated[AnyHttpUrl, UrlConstraints(max_length=2000)]  # the column's length
EventTypes = Annotated[
    list[str],
    Field(
        min_length=1, max_length=len(EVENT_TYPES), description=f"Any of: {', '.join(EVENT_TYPES)}"
    ),
]


def _known(types: list[str]) -> list[str]:
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        raise Invalid(
            f"未知的事件类型 {unknown}；可用：{', '.join(EVENT_TYPES)}",
            en=f"unknown event types {unknown}; known: {', '.join(EVENT_TYPES)}",
        )
    return sorted(set(types))


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url
    event_types: EventTypes
    description: str = Field(default="", max_length=500)

    _types = field_validator("event_types")(classmethod(lambda cls, v: _known(v)))


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _nulls = refuse_nulls({"url", "event_types", "description", "active"})
    url: Url | None = None
    event_types: EventTypes | None = None
    description: str | None = Field(default=None, max_length=500)
    active: bool | None = Field(default=None, description="true re-enables a disabled endpoint")

    _types = field_validator("event_types")(
        classmethod(lambda cls, v: None if v is None else _known(v))
    )


class WebhookRead(FromRow):
    id: int
    url: str
    event_types: list[str]
    description: str
    active: bool
    disabled_reason: str | None
    failing_since: LocalTime | None
    created_at: LocalTime
    # Never read from the row: the answer that creates a subscription sets it (model_copy).
    secret: str | None = Field(
        default=None,
        validation_alias="secret_shown_once",
        description="Only in the answer that creates it",
    )


class DeliveryRead(FromRow):
    id: int
    msg_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: LocalTime
    last_status_code: int | None
    last_error: str | None
    created_at: LocalTime
    delivered_at: LocalTime | None
    payload: dict[str, Any]
