"""The GeoReport v2 documents, field for field as the spec names them.

These are the JSON shapes; ``render`` writes the same trees as XML. Times leave in the county's
zone with their offset, to the second (the spec's W3C profile of ISO 8601; some clients parse
no fractions).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from hotline.kit.clock import county_zone
from hotline.ticket.schemas import Line, Urgency

W3Time = Annotated[
    datetime,
    PlainSerializer(
        lambda t: t.astimezone(county_zone()).replace(microsecond=0).isoformat(), return_type=str
    ),
]


class Open311Error(BaseModel):
    code: int = Field(description="The HTTP status of the answer")
    description: str


class Open311Endpoint(BaseModel):
    specification: str
    url: str
    changeset: W3Time
    type: str = Field(description="production or test")
    formats: list[str]


class Open311Discovery(BaseModel):
    changeset: W3Time
    contact: str
    key_service: str
    jurisdiction_id: str | None = Field(
        description="Not in the spec: the one jurisdiction_id this endpoint accepts (optional "
        "on every call), the county's unit code; null before the county is imported"
    )
    endpoints: list[Open311Endpoint]


class Open311Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool = Field(description="Always true: urgency and line are attributes")
    type: str = Field(description="Always realtime: the request id is returned at once")
    keywords: str = Field(description="Comma-separated")
    group: str


class Open311Value(BaseModel):
    key: str
    name: str


class Open311Attribute(BaseModel):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str | None
    order: int
    description: str
    values: list[Open311Value]


class Open311ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[Open311Attribute]


class Open311ServiceRequest(BaseModel):
    service_request_id: str
    status: str = Field(description="open or closed")
    status_notes: str | None
    service_name: str
    service_code: str
    description: str
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: W3Time
    updated_datetime: W3Time
    expected_datetime: W3Time | None
    address: str | None
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class Open311Created(BaseModel):
    service_request_id: str
    service_notice: str | None
    account_id: str | None


class Open311TokenAnswer(BaseModel):
    service_request_id: str
    token: str


class RequestForm(BaseModel):
    """The form of POST requests. ``api_key`` is checked before this is read; ``email``,
    ``device_id`` and ``account_id`` are accepted and never stored. No contact field refuses a
    request: names are cut to fit, a phone that is not Chinese is kept as given."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    api_key: str = Field(description="An API key of role agent")
    jurisdiction_id: str | None = Field(default=None, max_length=64)
    service_code: str = Field(min_length=1, max_length=64, description="A category code")
    lat: float | None = Field(default=None, ge=-90, le=90, description="WGS-84")
    long: float | None = Field(default=None, ge=-180, le=180, description="WGS-84")
    address_string: str | None = Field(default=None, max_length=500)
    address_id: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, description="Accepted, not stored")
    device_id: str | None = Field(default=None, description="Accepted, not stored")
    account_id: str | None = Field(default=None, description="Accepted, not stored")
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = Field(default=None, description="Any number; a Chinese one normalised")
    description: str | None = Field(
        default=None, max_length=4000, description="Optional; without it, the service's name"
    )
    media_url: str | None = Field(
        default=None, max_length=1000, pattern=r"^https?://\S+$", description="Kept with the text"
    )
    urgency: Urgency = Field(default=Urgency.normal, alias="attribute[urgency]")
    line: Line = Field(default=Line.main, alias="attribute[line]")
    idempotency_key: str | None = Field(
        default=None, max_length=255, description="Or the Idempotency-Key header"
    )
