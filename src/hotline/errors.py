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

Every text is in two languages: a class has a Chinese ``title`` and an English ``title_en``, a
raise site passes the Chinese detail first and the English as ``en=``
(``raise NotFound("没有编号为 12 的工单", en="No ticket 12")``). The answer is Chinese unless
``Accept-Language`` prefers English (``language``); ``code`` is the same in both. A pydantic
validator raises ``Invalid`` the same way; FastAPI's validation errors are put in words by
``explain``.
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
    """A refusal in two languages: ``detail`` is Chinese, ``en`` its English."""

    status = 500
    code = "internal_error"
    title, title_en = "内部错误", "Internal error"

    def __init__(self, detail: str | None = None, *, en: str | None = None, **extra: Any) -> None:
        self.detail = detail or self.title
        self.detail_en = en or (self.title_en if detail is None else detail)
        # str() is for logs and operators: English.
        super().__init__(self.detail_en)
        self.extra = extra

    def text(self, lang: str) -> tuple[str, str]:
        """(title, detail) in ``lang``."""
        if lang == EN:
            return self.title_en, self.detail_en
        return self.title, self.detail


class Unauthenticated(HotlineError):
    status, code = 401, "unauthenticated"
    title, title_en = "缺少或无效的 API 密钥", "Missing or unknown API key"


class Forbidden(HotlineError):
    status, code = 403, "forbidden"
    title, title_en = "无权进行此操作", "Not allowed for this caller"


class NotFound(HotlineError):
    status, code = 404, "not_found"
    title, title_en = "未找到", "Not found"


def found(thing: Found | None, missing: str, *, en: str) -> Found:
    """``thing``, or a 404 saying ``missing`` ("没有编号为 210224 的单位", en="No unit 210224")
    when there is none."""
    if thing is None:
        raise NotFound(missing, en=en)
    return thing


class Conflict(HotlineError):
    status, code = 409, "conflict"
    title, title_en = "操作冲突", "Conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title, title_en = "工单当前状态不允许此操作", "Not allowed in the ticket's current state"


class Designated(Conflict):
    code = "designated"
    title, title_en = "工单已由确责小组认定", "Held by a ruling of the confirmation group"


class PhotoRequired(Conflict):
    code = "photo_required"
    title, title_en = "缺少所需的照片", "A required photo is missing"


class AttachmentLimit(Conflict):
    code = "attachment_limit"
    title, title_en = "工单照片已达上限", "The ticket holds as many photos as it may"


class PreconditionFailed(HotlineError):
    status, code = 412, "stale_version"
    title, title_en = "工单已被他人修改", "The ticket has changed since that version"


class PayloadTooLarge(HotlineError):
    status, code = 413, "payload_too_large"
    title, title_en = "请求内容过大", "Request body too large"


class UnsupportedMediaType(HotlineError):
    status, code = 415, "unsupported_media_type"
    title, title_en = "不支持的文件类型", "Unsupported media type"


class Unprocessable(HotlineError):
    status, code = 422, "unprocessable"
    title, title_en = "请求无法处理", "Unprocessable request"


class OutOfRange(Unprocessable):
    code = "out_of_range"
    title, title_en = "请求无效", "Invalid request"


class TooManyRequests(HotlineError):
    status, code = 429, "too_many_requests"
    title, title_en = "请求过于频繁", "Too many requests"


class Unavailable(HotlineError):
    status, code = 503, "unavailable"
    title, title_en = "服务暂时不可用", "Service temporarily unavailable"


class Invalid(ValueError):
    """A pydantic validator's refusal in two languages: ``raise Invalid("经纬度须同时给出",
    en="lat and lon come together")``; the validation handler shows the chosen one."""

    def __init__(self, zh: str, *, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


# Languages: Chinese for people by default, English when the client asks for it.
ZH, EN = "zh", "en"
CONTENT_LANGUAGE = {ZH: "zh-CN", EN: "en"}


def language(request: Request) -> str:
    """The language of an answer to ``request``: see ``language_of``."""
    return language_of(request.headers.get("accept-language", ""))


def language_of(accept_language: str) -> str:
    """``en`` when ``Accept-Language`` prefers English (RFC 9110 q-values) over Chinese;
    ``zh`` otherwise (absent, ``*``, ``zh-*``, or only languages this service does not speak)."""
    best, best_q = ZH, 0.0
    for item in accept_language.split(","):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in (ZH, EN, "*"):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = (EN if primary == EN else ZH), q
    return best


def problem(request: Request, exc: HotlineError, **extra: Any) -> JSONResponse:
    """``exc`` as problem+json in the language ``request`` asks for; ``extra`` adds members
    (after the error's own)."""
    lang = language(request)
    title, detail = exc.text(lang)
    extra = {**exc.extra, **extra}
    body = {
        "type": f"https://hotline.example/problems/{exc.code}",
        "title": title,
        "status": exc.status,
        "detail": detail,
        "code": exc.code,
        "instance": request.url.path,
        **extra,
    }
    headers = {"Content-Language": CONTENT_LANGUAGE[lang], "Vary": "Accept-Language"}
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    return JSONResponse(body, status_code=exc.status, media_type=PROBLEM_JSON, headers=headers)


class ValidationFailed(Unprocessable):
    """FastAPI's and pydantic's refusals of a request's shape (see ``explain``)."""

    code = "validation_error"
    title, title_en = "请求无效", "Invalid request"


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) or "body"


# pydantic's error types in people's words, each (Chinese, English); ``{name}`` comes from the
# error's ctx.
RULES: dict[str, tuple[str, str]] = {
    "missing": ("不能为空", "required"),
    "string_too_short": ("至少 {min_length} 个字符", "at least {min_length} characters"),
    "string_too_long": ("最多 {max_length} 个字符", "at most {max_length} characters"),
    "too_short": ("至少 {min_length} 项", "at least {min_length} items"),
    "too_long": ("最多 {max_length} 项", "at most {max_length} items"),
    "string_type": ("应为文字", "must be text"),
    "string_unicode": ("应为文字", "must be text"),
    "string_pattern_mismatch": ("格式不对（应符合 {pattern}）", "must match {pattern}"),
    "int_parsing": ("应为整数", "must be a whole number"),
    "int_type": ("应为整数", "must be a whole number"),
    "int_from_float": ("应为整数", "must be a whole number"),
    "int_parsing_size": ("数字太大", "is too large a number"),
    "float_parsing": ("应为数字", "must be a number"),
    "float_type": ("应为数字", "must be a number"),
    "finite_number": ("应为有限的数字", "must be a finite number"),
    "decimal_parsing": ("应为数字", "must be a number"),
    "bool_parsing": ("应为 true 或 false", "must be true or false"),
    "bool_type": ("应为 true 或 false", "must be true or false"),
    "greater_than": ("应大于 {gt}", "must be greater than {gt}"),
    "greater_than_equal": ("不能小于 {ge}", "must be at least {ge}"),
    "less_than": ("应小于 {lt}", "must be less than {lt}"),
    "less_than_equal": ("不能大于 {le}", "must be at most {le}"),
    "multiple_of": ("应为 {multiple_of} 的倍数", "must be a multiple of {multiple_of}"),
    "literal_error": ("应为以下之一：{expected}", "must be one of {expected}"),
    "enum": ("应为以下之一：{expected}", "must be one of {expected}"),
    "extra_forbidden": ("不是此请求的字段", "is not a field of this request"),
    "json_invalid": ("不是有效的 JSON", "is not valid JSON"),
    "json_type": ("应为 JSON", "must be JSON"),
    "model_type": ("应为对象", "must be an object"),
    "model_attributes_type": ("应为对象", "must be an object"),
    "dict_type": ("应为对象", "must be an object"),
    "list_type": ("应为列表", "must be a list"),
    "set_type": ("应为列表", "must be a list"),
    "date_parsing": ("应为日期（YYYY-MM-DD）", "must be a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": ("应为日期（YYYY-MM-DD）", "must be a date (YYYY-MM-DD)"),
    "date_from_datetime_inexact": ("应为日期（YYYY-MM-DD）", "must be a date (YYYY-MM-DD)"),
    "date_type": ("应为日期（YYYY-MM-DD）", "must be a date (YYYY-MM-DD)"),
    "datetime_parsing": (
        "应为带时区的时间，如 2026-11-26T08:00:00+08:00",
        "must be a time with an offset, e.g. 2026-11-26T08:00:00+08:00",
    ),
    "datetime_from_date_parsing": (
        "应为带时区的时间，如 2026-11-26T08:00:00+08:00",
        "must be a time with an offset, e.g. 2026-11-26T08:00:00+08:00",
    ),
    "datetime_type": (
        "应为带时区的时间，如 2026-11-26T08:00:00+08:00",
        "must be a time with an offset, e.g. 2026-11-26T08:00:00+08:00",
    ),
    "timezone_aware": ("时间需带时区，如 +08:00", "needs a time zone offset such as +08:00"),
    "time_parsing": ("应为时刻（HH:MM）", "must be a time of day (HH:MM)"),
    "url_parsing": ("不是有效的网址", "is not a valid URL"),
    "url_type": ("不是有效的网址", "is not a valid URL"),
    "url_scheme": ("网址应以 {expected_schemes} 开头", "must be a URL of {expected_schemes}"),
    "url_too_long": ("网址最长 {max_length} 个字符", "at most {max_length} characters"),
    "uuid_parsing": ("不是有效的编号", "is not a valid id"),
    "uuid_type": ("不是有效的编号", "is not a valid id"),
}


def explain(error: dict[str, Any], lang: str) -> str:
    """One pydantic error's rule, in ``lang``."""
    kind, ctx = error["type"], error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, Invalid):
        return cause.en if lang == EN else cause.zh
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "must not be empty" if lang == EN else "不能为空"
    if kind in RULES:
        template = RULES[kind][1 if lang == EN else 0]
        if lang == ZH and "expected" in ctx:
            ctx = {**ctx, "expected": str(ctx["expected"]).replace(" or ", " 或 ")}
        try:
            return template.format(**ctx)
        except (KeyError, IndexError):
            return template.split("{")[0].rstrip("：( （")
    message = str(error.get("msg", ""))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message if lang == EN else f"取值无效（{message}）"


def invalid(request: Request, problems: Any) -> JSONResponse:
    """A 422 naming each field and the rule it breaks."""
    lang = language(request)
    errors = [
        {"field": _field(e["loc"]), "message": explain(e, lang), "type": e["type"]}
        for e in problems
    ]
    zh = "；".join(f"{e['field']}：{explain(p, ZH)}" for e, p in zip(errors, problems, strict=True))
    en = "; ".join(f"{e['field']}: {explain(p, EN)}" for e, p in zip(errors, problems, strict=True))
    return problem(request, ValidationFailed(zh, en=en), errors=errors)


# Starlette's own refusals (no route, wrong method), each (code, Chinese, English).
HTTP_TEXTS: dict[int, tuple[str, str, str]] = {
    404: ("not_found", "没有这个地址", "Not Found"),
    405: ("method_not_allowed", "此地址不接受这个请求方法", "Method Not Allowed"),
    413: ("payload_too_large", "请求内容过大", "Request body too large"),
}


class _HTTPProblem(HotlineError):
    def __init__(self, status: int, code: str, zh: str, *, en: str) -> None:
        super().__init__(zh, en=en)
        self.status, self.code, self.title, self.title_en = status, code, zh, en


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(HotlineError)
    async def _domain(request: Request, exc: HotlineError) -> JSONResponse:
        return problem(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid(request, exc.errors())

    @app.exception_handler(OSError)
    async def _unreachable(request: Request, exc: OSError) -> JSONResponse:
        # A refused or reset connection to the database surfaces as a bare OSError.
        log.warning("database unreachable: %s", exc)
        return problem(request, UNREACHABLE)

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        return problem(request, OUT_OF_RANGE)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's answer to a body it cannot decode (not UTF-8, not JSON): a 422 like any
            # other malformed payload.
            return problem(
                request,
                ValidationFailed(
                    f"请求体无法解析：{exc.detail}", en=f"Malformed body: {exc.detail}"
                ),
                field="body",
            )
        code, zh, en = HTTP_TEXTS.get(exc.status_code, ("http_error", "", ""))
        given = str(exc.detail)
        if not zh or given != en:  # an exception's own words: no translation of them
            zh = en = given
        response = problem(request, _HTTPProblem(exc.status_code, code, zh, en=en))
        # A 405's Allow is kit.methods's: it knows every route of the path.
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        text = str(exc.orig).lower()
        if isinstance(exc.orig, OverflowError) or "out of range" in text or "too large" in text:
            return problem(request, OUT_OF_RANGE)
        if "deadlock detected" in text or "could not serialize" in text:
            # Two requests crossed (e.g. two merges in opposite directions): nothing was
            # written; the client may simply retry.
            return problem(
                request,
                Conflict(
                    "另一项同时进行的修改与此冲突，请重试",
                    en="A concurrent change got in the way; retry",
                ),
            )
        if not exc.connection_invalidated and not _is_unavailable(exc):
            raise exc
        log.warning("database unavailable: %s", exc.orig)
        return problem(request, UNREACHABLE)

    @app.exception_handler(PoolTimeout)
    async def _pool(request: Request, exc: PoolTimeout) -> JSONResponse:
        return problem(
            request, Unavailable("数据库连接已满，请稍后重试", en="No database connection free")
        )

    @app.exception_handler(TimeoutError)
    async def _timeout(request: Request, exc: TimeoutError) -> JSONResponse:
        return problem(
            request,
            Unavailable("数据库未能及时响应", en="The database did not answer in time"),
        )


UNREACHABLE = Unavailable("无法连接数据库", en="The database is unreachable")
OUT_OF_RANGE = OutOfRange("数字超出范围", en="A number is out of range")


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
                "description": err.title_en,
                "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            },
        )
        if entry["description"] != err.title_en:
            entry["description"] += f"; {err.title_en}"
    return out
