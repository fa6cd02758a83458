"""HTTP for Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at /open311/v2.

Every path ends in ``.json`` or ``.xml``; reads need no key (a key that is sent must be valid),
posting needs an agent's ``api_key`` as a form field. Failures answer in the spec's error list
(see ``render``), also for paths under /open311/v2 that do not exist.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from hotline.auth.dependencies import bad_key
from hotline.auth.service import authenticate
from hotline.db.session import ReadSession
from hotline.errors import NotFound, Unauthenticated
from hotline.intake.service import Caches
from hotline.kit.clock import Now
from hotline.open311 import catalogue, params, repository, service, submit
from hotline.open311.render import Open311Format, Open311Route, document
from hotline.open311.schemas import (
    Open311Created,
    Open311Discovery,
    Open311Error,
    Open311Service,
    Open311ServiceDefinition,
    Open311ServiceRequest,
    Open311TokenAnswer,
    RequestForm,
)

router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)

Fmt = Annotated[Open311Format, Path(description="`json` or `xml`; any other suffix is a 404")]
Jurisdiction = Annotated[
    str | None, Query(description="Optional: the county's unit code (210124 in the demo)")
]
ApiKey = Annotated[str | None, Query(description="Not needed to read; if sent, it must be valid")]


def answers(model: Any, *codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: the document in both formats and the spec's errors."""
    xml = {"text/xml": {"schema": {"type": "string", "description": "The same tree as XML"}}}
    meaning = {
        400: "Invalid parameters; each error names its field",
        403: "api_key missing, unknown or not an agent's",
        429: "Too many bad api_keys from this address: retry after `Retry-After` seconds",
        404: "No such resource, service_code, jurisdiction_id or format",
    }
    out: dict[int | str, dict[str, Any]] = {200: {"model": model, "content": xml}}
    for code in codes:
        out[code] = {"model": list[Open311Error], "content": xml, "description": meaning[code]}
    # Declaring "default" also keeps FastAPI from documenting a 422 these routes never send.
    out["default"] = {"model": list[Open311Error], "content": xml, "description": "Other errors"}
    return out


def form_schema() -> dict[str, Any]:
    """RequestForm's JSON schema with its enums inlined: ``$defs`` mean nothing in OpenAPI."""
    schema = RequestForm.model_json_schema(by_alias=True)
    defs = schema.pop("$defs", {})
    for prop in schema["properties"].values():
        ref = prop.pop("$ref", None)
        if ref is not None:
            prop.update(defs[ref.rsplit("/", 1)[-1]])
    return schema


async def readable(
    request: Request,
    session: ReadSession,
    jurisdiction_id: Jurisdiction = None,
    api_key: ApiKey = None,
) -> None:
    """Anyone reads; an ``api_key``, if sent, must be valid (a bad one counts toward its
    address's throttle, as a bearer key does), a ``jurisdiction_id``, if sent, the county's;
    no parameter may be given twice (params.once)."""
    params.once(request.query_params.multi_items())
    if api_key and api_key.strip():
        try:
            await authenticate(session, api_key.strip())
        except Unauthenticated as refused:
            raise bad_key(request, refused) from None
    await service.check_jurisdiction(session, (jurisdiction_id or "").strip() or None)


READABLE = [Depends(readable)]


@router.get(
    "/discovery.{fmt}",
    summary="Service discovery",
    response_class=Response,
    responses=answers(Open311Discovery, 404),
)
async def discovery(fmt: Fmt, request: Request, session: ReadSession) -> Response:
    """Where this endpoint is, what it speaks, whom to ask for a key and the
    `jurisdiction_id` it accepts."""
    county = await repository.county_code(session)
    return document(fmt, "discovery", catalogue.discovery(str(request.base_url), county))


@router.get(
    "/services.{fmt}",
    summary="Service list: the category catalogue",
    dependencies=READABLE,
    response_class=Response,
    responses=answers(list[Open311Service], 403, 404, 429),
)
async def list_services(fmt: Fmt, session: ReadSession) -> Response:
    """One service per active category: ``service_code`` is the category code."""
    return document(fmt, "services", await catalogue.services(session))


@router.get(
    "/services/{service_code}.{fmt}",
    summary="Service definition: the attributes a request may carry",
    dependencies=READABLE,
    response_class=Response,
    responses=answers(Open311ServiceDefinition, 403, 404, 429),
)
async def service_definition(service_code: str, fmt: Fmt, session: ReadSession) -> Response:
    """``urgency`` and ``line``, both optional single-value lists, the same for every service."""
    return document(fmt, "service_definition", await catalogue.definition(session, service_code))


@router.post(
    "/requests.{fmt}",
    summary="Post a service request (agent's api_key)",
    response_class=Response,
    responses=answers(list[Open311Created], 400, 403, 404, 429),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {submit.FORM: {"schema": form_schema()}},
        }
    },
)
async def create_request(
    fmt: Fmt,
    request: Request,
    now: Now,
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", max_length=255, description="As for POST /v1/tickets"),
    ] = None,
) -> Response:
    """Creates a ticket through the same intake as POST /v1/tickets: routed at once, clocks
    started, an `Idempotency-Key` replay answers with the first ticket. The caller's name and
    phone are kept with the ticket but never shown by Open311; `media_url` is kept in the text."""
    fields = await submit.read_form(request)
    maker = request.app.state.sessionmaker
    api_key = fields.get("api_key")
    try:
        await submit.agent(maker, api_key)
    except Unauthenticated as refused:
        raise bad_key(request, refused) from None
    assert api_key is not None  # agent() refuses a missing key
    created, replayed = await submit.submit(
        maker,
        Caches.of(request.app.state),
        submit.parse(fields),
        api_key,
        idempotency_key=idempotency_key,
        phone_key=request.app.state.phone_key,
        now=now,
    )
    answer = document(fmt, "service_requests", [created])
    if replayed:
        answer.headers["Idempotent-Replayed"] = "true"
    return answer


@router.get(
    "/requests.{fmt}",
    summary="Service requests: the last 90 days by default, newest first",
    dependencies=READABLE,
    response_class=Response,
    responses=answers(list[Open311ServiceRequest], 400, 403, 404, 429),
)
async def list_requests(
    fmt: Fmt,
    session: ReadSession,
    now: Now,
    service_request_id: Annotated[str | None, Query(description="Comma list; overrides")] = None,
    service_code: Annotated[str | None, Query(description="Comma list")] = None,
    start_date: Annotated[str | None, Query(description="ISO 8601 with zone")] = None,
    end_date: Annotated[str | None, Query(description="At most 90 days after start_date")] = None,
    status: Annotated[str | None, Query(description="open, closed or both")] = None,
    updated_after: Annotated[str | None, Query(description="Not in the spec")] = None,
    page: Annotated[str | None, Query(description="Not in the spec; from 1")] = None,
    page_size: Annotated[
        str | None, Query(description="Not in the spec; 1000 (the spec's first 1000), ≤ 1000")
    ] = None,
) -> Response:
    """No caller's name, phone or email ever appears; confidential tickets are not listed."""
    filters = params.filters(
        service_request_id=service_request_id,
        service_code=service_code,
        start_date=start_date,
        end_date=end_date,
        status=status,
        updated_after=updated_after,
        page=page,
        page_size=page_size,
        now=now,
    )
    return document(fmt, "service_requests", await service.requests(session, filters))


@router.get(
    "/requests/{service_request_id}.{fmt}",
    summary="One service request",
    dependencies=READABLE,
    response_class=Response,
    responses=answers(list[Open311ServiceRequest], 403, 404, 429),
)
async def read_request(service_request_id: str, fmt: Fmt, session: ReadSession) -> Response:
    found = await service.request(session, service_request_id)
    return document(fmt, "service_requests", [found])


@router.get(
    "/tokens/{token}.{fmt}",
    summary="The service_request_id of a token",
    dependencies=READABLE,
    response_class=Response,
    responses=answers(list[Open311TokenAnswer], 403, 404, 429),
)
async def read_token(token: str, fmt: Fmt, session: ReadSession) -> Response:
    """Requests are realtime: the id comes back at once, so a token is the request's id."""
    found = await service.token(session, token)
    answer = Open311TokenAnswer(service_request_id=str(found), token=token.strip())
    return document(fmt, "service_requests", [answer])


@router.get("/{rest:path}", include_in_schema=False)
async def unknown(rest: str) -> Response:
    raise NotFound("没有这个 Open311 资源", en="No such Open311 resource")
