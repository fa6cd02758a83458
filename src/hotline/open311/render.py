"""JSON and XML for GeoReport v2, and the spec's error list for what fails under /open311.

The suffix of the path picks the format; ``Open311Format`` is an enum, so any other suffix is a
404 before a handler runs. Errors follow the spec, not RFC 9457: ``[{"code", "description"}]``
or ``<errors><error>…``, with 403 for a missing, unknown or unfit ``api_key``, 404 for what does
not exist, 429 (with ``Retry-After``) for an address that keeps sending bad keys and 400 for
everything else; ``code`` is the HTTP status. A database that cannot
answer is left to the app's handlers (503 problem+json, as everywhere).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine, Sequence
from enum import StrEnum
from typing import Any
from xml.etree.ElementTree import Element, tostring

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from hotline.errors import (
    CONTENT_LANGUAGE,
    EN,
    HTTP_TEXTS,
    ZH,
    HotlineError,
    explain,
    language,
)
from hotline.open311.schemas import Open311Error


class Open311Format(StrEnum):
    json = "json"
    xml = "xml"


MEDIA_TYPES = {
    Open311Format.json: "application/json; charset=utf-8",
    Open311Format.xml: "text/xml; charset=utf-8",
}
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'

# The element each list's items take in XML (the spec's ⇊/↴ pairs).
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}

# Our names for the fields the client knows by their Open311 names.
OPEN311_NAMES = {
    "category": "service_code",
    "content": "description",
    "caller.name": "first_name",
    "caller.phone": "phone",
    "location": "lat",
    "location.lat": "lat",
    "location.lon": "long",
    "location.address": "address_string",
    "urgency": "attribute[urgency]",
    "line": "attribute[line]",
}

# Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _element(tag: str, value: Any) -> Element:
    element = Element(tag)
    if isinstance(value, dict):
        element.extend(_element(key, item) for key, item in value.items())
    elif isinstance(value, list):
        element.extend(_element(ITEMS[tag], item) for item in value)
    else:
        element.text = _text(value)
    return element


def document(
    fmt: Open311Format, root: str, body: BaseModel | Sequence[BaseModel], status: int = 200
) -> Response:
    """``body`` as JSON, or as XML under ``root`` (a list's items named after ``ITEMS``)."""
    data: Any = (
        body.model_dump(mode="json")
        if isinstance(body, BaseModel)
        else [item.model_dump(mode="json") for item in body]
    )
    if fmt is Open311Format.json:
        content = json.dumps(data, ensure_ascii=False)
    else:
        content = XML_DECLARATION + tostring(_element(root, data), encoding="unicode")
    return Response(content.encode(), status_code=status, media_type=MEDIA_TYPES[fmt])


def errors(
    fmt: Open311Format, status: int, descriptions: Sequence[str], lang: str = ZH
) -> Response:
    listed = [Open311Error(code=status, description=d) for d in descriptions]
    answer = document(fmt, "errors", listed, status)
    answer.headers["Content-Language"] = CONTENT_LANGUAGE[lang]
    answer.headers["Vary"] = "Accept-Language"
    return answer


def field_name(loc: Sequence[Any]) -> str:
    """A validation error's location as the client's parameter name."""
    if loc and loc[0] == "query":
        return ".".join(str(p) for p in loc[1:])  # already the client's own name
    parts = [str(p) for p in loc if p not in ("body", "path", "header")]
    name = ".".join(parts) or "request"
    return OPEN311_NAMES.get(name, name)


def _status(exc: HotlineError) -> int:
    if exc.status in (401, 403):
        return 403
    return exc.status if exc.status in (404, 429, 503) else 400


def _describe(exc: HotlineError, lang: str) -> str:
    _, detail = exc.text(lang)
    field = exc.extra.get("field")
    return f"{field_name([field])}: {detail}" if field else detail


def _invalid(exc: RequestValidationError, lang: str) -> tuple[int, list[str]]:
    problems = exc.errors()
    if any(tuple(p["loc"]) == ("path", "fmt") for p in problems):
        if lang == EN:
            return 404, ["Unknown format: end the path in .json or .xml"]
        return 404, ["格式未知：地址应以 .json 或 .xml 结尾"]
    return 400, [
        (
            f"{field_name(p['loc'])} was not provided"
            if lang == EN
            else f"{field_name(p['loc'])} 未提供"
        )
        if p["type"] == "missing"
        else f"{field_name(p['loc'])}: {explain(p, lang)}"
        for p in problems
    ]


def request_format(request: Request) -> Open311Format:
    """JSON when the path asks for it; XML, the spec's required format, otherwise."""
    return Open311Format.json if request.url.path.endswith(".json") else Open311Format.xml


class Open311Route(APIRoute):
    """A route whose failures answer in the spec's error format instead of problem+json."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            fmt = request_format(request)
            lang = language(request)
            try:
                return await handler(request)
            except HotlineError as exc:
                answer = errors(fmt, _status(exc), [_describe(exc, lang)], lang)
                if "retry_after" in exc.extra:
                    answer.headers["Retry-After"] = str(exc.extra["retry_after"])
                return answer
            except RequestValidationError as exc:
                return errors(fmt, *_invalid(exc, lang), lang)
            except HTTPException as exc:
                _, zh, en = HTTP_TEXTS.get(exc.status_code, ("", "", ""))
                given = str(exc.detail)
                said = zh if zh and given == en and lang == ZH else given
                return errors(fmt, 404 if exc.status_code == 404 else 400, [said], lang)

        return guarded
