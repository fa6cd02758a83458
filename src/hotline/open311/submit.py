"""POST requests: a GeoReport form becomes a ``TicketCreate`` and goes through the intake of
POST /v1/tickets (routing, clocks, idempotency, repeat detection), as the agent whose
``api_key`` it carries.

Where the spec and our model differ:
- ``kind`` is ``help`` (求助): a 311 report asks for something to be put right.
- The caller is ``last_name`` + ``first_name`` (family name first without a space when either is
  not ASCII, "first last" otherwise; at most 50 characters) and ``phone``: a Chinese number is
  normalised, any other kept as given (``111-111-1111``), so a contact field never refuses a
  request. ``email``, ``device_id`` and ``account_id`` are accepted and dropped: personal data we
  do not need we do not keep.
- ``address_id`` is kept with the location and read back as it was sent.
- ``media_url`` is appended to the text as a last paragraph ``附件 media_url: URL``, which the
  read side splits off again (``service.split_media``).
- ``attribute[urgency]`` and ``attribute[line]`` are the ticket's urgency and line; any other
  attribute is ignored.
- Idempotency: the ``Idempotency-Key`` header, else the form field ``idempotency_key``.
- ``description`` is optional, as in the spec: without it the ticket's text is the service's
  name (what the client chose is all that is known), and reads answer it as the description.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hotline.auth.roles import Role
from hotline.auth.service import Principal, authenticate
from hotline.db.session import unit_of_work
from hotline.errors import Forbidden, Unprocessable
from hotline.intake.service import Caches, intake
from hotline.kit import phone as phones
from hotline.open311 import catalogue, service
from hotline.open311.schemas import Open311Created, RequestForm
from hotline.org import repository as org_repository
from hotline.ticket.schemas import Kind, TicketCreate

FORM = "application/x-www-form-urlencoded"
MAX_FIELDS = 100
MAX_NAME = 50  # TicketCreate's caller.name


async def read_form(request: Request) -> dict[str, str]:
    """The form's fields over the query string's; blank counts as absent, the first of repeated
    names wins."""
    fields: dict[str, str] = {}
    body = await request.body()
    if body:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != FORM:
            raise Unprocessable(
                f"请以 {FORM} 格式发送", en=f"Send the request as {FORM}", field="Content-Type"
            )
        try:
            pairs = parse_qsl(
                body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS
            )
        except (UnicodeDecodeError, ValueError):
            raise Unprocessable(
                f"请求体不是 UTF-8 编码的 {FORM} 表单", en=f"The body is not a UTF-8 {FORM} form"
            ) from None
        for name, value in pairs:
            fields.setdefault(name, value)
    for name, value in request.query_params.multi_items():
        fields.setdefault(name, value)
    return {name: value for name, value in fields.items() if value.strip()}


async def agent(maker: async_sessionmaker[AsyncSession], api_key: str | None) -> Principal:
    """The agent the key belongs to; anything else is the spec's 403."""
    if api_key is None:
        raise Forbidden("未提供 api_key", en="api_key was not provided")
    # Its own short read, as for a bearer key: the intake's transaction starts after it.
    async with unit_of_work(maker, read_only=True) as session:
        principal = await authenticate(session, api_key)
    if principal.role is not Role.agent:
        raise Forbidden(
            "此 api_key 不能提交诉求：需要话务员的密钥",
            en="This api_key may not create requests: that needs an agent's key",
        )
    return principal


def parse(fields: dict[str, str]) -> RequestForm:
    try:
        form = RequestForm.model_validate(fields)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    if (form.lat is None) != (form.long is None):
        raise Unprocessable(
            "纬度 lat 和经度 long 须同时填写",
            en="lat and long are sent together",
            field="long" if form.long is None else "lat",
        )
    if form.lat is None and form.address_string is None and form.address_id is None:
        raise Unprocessable(
            "未提供位置：请填写 lat 和 long、address_string 或 address_id",
            en="A location was not provided: lat and long, address_string or address_id",
        )
    return form


def caller_name(first: str | None, last: str | None) -> str | None:
    if first and last and not (first.isascii() and last.isascii()):
        name = last + first
    else:
        name = " ".join(part for part in (first, last) if part)
    return name[:MAX_NAME].strip() or None


def to_ticket(form: RequestForm, service_name: str) -> TicketCreate:
    content = form.description or service_name
    if form.media_url:
        content += f"\n\n{service.MEDIA_MARK}{form.media_url}"
    phone = phones.as_given(form.phone) if form.phone else None
    caller = {"name": caller_name(form.first_name, form.last_name), "phone": phone}
    location = {
        "lat": form.lat,
        "lon": form.long,
        "address": form.address_string,
        "address_id": form.address_id,
    }
    try:
        return TicketCreate.model_validate(
            {
                "kind": Kind.help,
                "category": form.service_code,
                "urgency": form.urgency,
                "line": form.line,
                "content": content,
                "caller": {k: v for k, v in caller.items() if v is not None},
                "location": {k: v for k, v in location.items() if v is not None},
            },
            context={"phone": "as_given"},
        )
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


async def submit(
    maker: async_sessionmaker[AsyncSession],
    caches: Caches,
    form: RequestForm,
    api_key: str,
    *,
    idempotency_key: str | None,
    phone_key: bytes,
    now: datetime,
) -> tuple[Open311Created, bool]:
    """The answer for the created (or, on a replay, the first) ticket, and whether replayed.
    The checks read first, then intake makes the ticket in its own unit of work."""
    async with unit_of_work(maker, read_only=True) as session:
        await service.check_jurisdiction(session, form.jurisdiction_id)
        service_name = await catalogue.service_name(session, form.service_code)
    result = await intake(
        maker,
        caches,
        to_ticket(form, service_name),
        api_key,
        idempotency_key=idempotency_key or form.idempotency_key,
        phone_key=phone_key,
        now=now,
    )
    ticket = result.ticket
    async with unit_of_work(maker, read_only=True) as session:
        unit = await org_repository.unit(session, ticket.unit_code) if ticket.unit_code else None
    created = Open311Created(
        service_request_id=str(ticket.id),
        service_notice=service.notice(ticket, unit.name if unit else None),
        account_id=None,
    )
    return created, result.replayed
