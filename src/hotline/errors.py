"""Domain errors and their one rendering: RFC 9457 ``application/problem+json``.

    HotlineError            base; carries a stable ``code`` and an HTTP status
    ├── Unauthenticated     401 no or unknown key
    ├── Forbidden           403 known caller, not allowed
    ├── NotFound            404
    ├── Conflict            409 (InvalidTransition names the current state; Designated the
    │                           ruling that holds the ticket; PhotoRequired the missing photo;
    │                           AttachmentLimit a ticket's photos are full)
    ├── PreconditionFailed  412 stale If-Match version
    ├── PayloadTooLarge     413
    ├── UnsupportedMediaType 415 a file whose bytes are not of an accepted type
    ├── Unprocessable       422 well-formed but unacceptable (e.g. idempotency key reuse)
    │   └── OutOfRange      422 a number the database cannot hold
    ├── TooManyRequests     429
    └── Unavailable         503 database unreachable or timed out

Domain code raises these by meaning; only this module knows status numbers.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
Found = TypeVar("Found")


class HotlineError(Exception):
    status = 500
    code = "internal_error"
    title = "Internal error"

    def __init__(self, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class Unauthenticated(HotlineError):
    status, code, title = 401, "unauthenticated", "Missing or unknown API key"


class Forbidden(HotlineError):
    status, code, title = 403, "forbidden", "Not allowed for this caller"


class NotFound(HotlineError):
    status, code, title = 404, "not_found", "Not found"


def found(thing: Found | None, missing: str) -> Found:
    """``thing``, or a 404 saying ``missing`` ("No unit 210224") when there is none."""
    if thing is None:
        raise NotFound(missing)
    return thing


class Conflict(HotlineError):
    status, code, title = 409, "conflict", "Conflict"


class InvalidTransition(Conflict):
    code, title = "invalid_transition", "Not allowed in the ticket's current state"


class Designated(Conflict):
    code, title = "designated", "Held by a ruling of the confirmation group"


class PhotoRequired(Conflict):
    code = "photo_required"
    title, title_en = "缺少所需的照片", "A required photo is missing"


class AttachmentLimit(Conflict):
    code = "attachment_limit"
    title, title_en = "工单照片已达上限", "The ticket holds as many photos as it may"


class PreconditionFailed(HotlineError):
    status, code, title = 412, "stale_version", "The ticket has changed since that version"


class PayloadTooLarge(HotlineError):
    status, code, title = 413, "payload_too_large", "Request body too large"


class UnsupportedMediaType(HotlineError):
    status, code = 415, "unsupported_media_type"
    title, title_en = "不支持的文件类型", "Unsupported media type"


class Unprocessable(HotlineError):
    status, code, title = 422, "unprocessable", "Unprocessable request"


class OutOfRange(Unprocessable):
    code, title = "out_of_range", "Invalid request"


class TooManyRequests(HotlineError):
    status, code, title = 429, "too_many_requests", "Too many requests"


class Unavailable(HotlineError):
    status, code, title = 503, "unavailable", "Service temporarily unavailable"


def problem(
    status: int, code: str, title: str, detail: str, instance: str, **extra: Any
) -> JSONResponse:
    body = {
        "type": f"https://hotline.example/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": instance,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(HotlineError)
    async def _domain(request: Request, exc: HotlineError) -> JSONResponse:
        return problem(exc.status, exc.code, exc.title, exc.detail, request.url.path, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field(e["loc"]), "message": e["msg"], "type": e["type"]}
            for e in exc.errors()
        ]
        fields = ", ".join(sorted({e["field"] for e in errors}))
        return problem(
            422,
            "validation_error",
            "Invalid request",
            f"Invalid: {fields}",
            request.url.path,
            errors=errors,
        )

    @app.exception_handler(OSError)
    async def _unreachable(request: Request, exc: OSError) -> JSONResponse:
        # A refused or reset connection to the database surfaces as a bare OSError.
        log.warning("database unreachable: %s", exc)
        return problem(
            503, "unavailable", Unavailable.title, "The database is unreachable", request.url.path
        )

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        return problem(
            422, "out_of_range", "Invalid request", "A number is out of range", request.url.path
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's answer to a body it cannot decode (not UTF-8, not JSON): a 422 like any
            # other malformed payload.
            return problem(
                422,
                "validation_error",
                "Invalid request",
                f"Malformed body: {exc.detail}",
                request.url.path,
                field="body",
            )
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status_code, "http_error"
        )
        response = problem(
            exc.status_code, code, str(exc.detail), str(exc.detail), request.url.path
        )
        # A 405's Allow is kit.methods's: it knows every route of the path.
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        text = str(exc.orig).lower()
        if isinstance(exc.orig, OverflowError) or "out of range" in text or "too large" in text:
            return problem(
                422, "out_of_range", "Invalid request", "A number is out of range", request.url.path
            )
        if "deadlock detected" in text or "could not serialize" in text:
            # Two requests crossed (e.g. two merges in opposite directions): nothing was
            # written; the client may simply retry.
            return problem(
                409,
                "conflict",
                Conflict.title,
                "A concurrent change got in the way; retry",
                request.url.path,
            )
        if not exc.connection_invalidated and not _is_unavailable(exc):
            raise exc
        log.warning("database unavailable: %s", exc.orig)
        return problem(
            503, "unavailable", Unavailable.title, "The database is unreachable", request.url.path
        )

    @app.exception_handler(PoolTimeout)
    async def _pool(request: Request, exc: PoolTimeout) -> JSONResponse:
        return problem(
            503, "unavailable", Unavailable.title, "No database connection free", request.url.path
        )

    @app.exception_handler(TimeoutError)
    async def _timeout(request: Request, exc: TimeoutError) -> JSONResponse:
        return problem(
            503,
            "unavailable",
            Unavailable.title,
            "The database did not answer in time",
            request.url.path,
        )


# SQLSTATEs of a PostgreSQL that is away or not (yet) serving: any connection exception (class
# 08), shut down by an administrator or a crash, and "cannot connect now" (starting up, shutting
# down, in recovery).
UNAVAILABLE_STATES = ("57P01", "57P02", "57P03")


def _is_unavailable(exc: DBAPIError) -> bool:
    state = str(getattr(exc.orig, "sqlstate", None) or "")
    if state.startswith("08") or state in UNAVAILABLE_STATES:
        return True
    text = str(exc.orig).lower()
    return any(
        s in text
        for s in ("connection", "database is locked", "timeout", "timed out", "shutting down")
    )


def responses(*errors: type[HotlineError]) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: each possible problem, so openapi.yaml shows them."""
    out: dict[int | str, dict[str, Any]] = {}
    for err in errors:
        entry = out.setdefault(
            err.status,
            {
                "description": err.title,
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
        )
        if entry["description"] != err.title:
            entry["description"] += f"; {err.title}"
    return out
