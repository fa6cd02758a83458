"""Problem answers: a database that is away answers 503, whatever words the driver chose for
it; every text is Chinese by default and English with ``Accept-Language: en``."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path
from typing import Any, Literal

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError

import hotline
from hotline import errors
from hotline.errors import install_handlers
from hotline.ticket.schemas import Status
from hotline.workflow import states
from hotline.workflow.states import Action


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.CannotConnectNowError("the database system is in recovery mode"),
        # PostgreSQL's own words, for the SQLSTATEs of a server going away (57P01, 57P02, 08006).
        asyncpg.exceptions.AdminShutdownError(
            "terminating connection due to administrator command"
        ),
        asyncpg.exceptions.CrashShutdownError(
            "terminating connection because of crash of another server process"
        ),
        asyncpg.exceptions.ConnectionFailureError("could not receive data from server"),
    ],
)
async def test_a_database_not_serving_is_503(error: Exception) -> None:
    app = FastAPI()
    install_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise DBAPIError("SELECT 1", None, error)

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        r = await http.get("/boom")
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "unavailable"


# --- two languages (issue 17): Chinese by default, English when asked ----------------------------

LANGUAGES = [
    (None, "zh"),
    ("zh-CN", "zh"),
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    ("*", "zh"),
    ("fr", "zh"),
    ("en", "en"),
    ("en-US;q=0.9", "en"),
    ("zh;q=0.1, en;q=0.9", "en"),
    ("en;q=0, zh;q=0.5", "zh"),
    ("fr, en-GB;q=0.3", "en"),
    ("en;q=oops", "zh"),
]


@pytest.mark.parametrize(("header", "lang"), LANGUAGES)
def test_accept_language_picks_by_q_value(header: str | None, lang: str) -> None:
    assert errors.language_of(header or "") == lang


class Caller(BaseModel):
    phone: str = Field(max_length=32)


class Body(BaseModel):
    content: str = Field(min_length=1)
    caller: Caller
    urgency: Literal["normal", "urgent"] = "normal"


def _tiny() -> FastAPI:
    app = FastAPI()
    install_handlers(app)

    @app.get("/ticket/{ticket_id}")
    async def ticket(ticket_id: int) -> None:
        raise errors.NotFound(f"没有编号为 {ticket_id} 的工单", en=f"No ticket {ticket_id}")

    @app.post("/tickets")
    async def create(body: Body) -> None:
        return None

    return app


async def _get(app: FastAPI, method: str, path: str, lang: str | None, **kw: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Accept-Language": lang} if lang else {}
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        return await http.request(method, path, headers=headers, **kw)


@pytest.mark.parametrize(("header", "lang"), [(h, lang) for h, lang in LANGUAGES if h])
async def test_a_domain_error_answers_in_the_language_asked(header: str, lang: str) -> None:
    r = await _get(_tiny(), "GET", "/ticket/12", header)
    body = r.json()
    assert r.status_code == 404
    assert body["code"] == "not_found"
    assert body["type"] == "https://hotline.example/problems/not_found"
    assert body["instance"] == "/ticket/12"
    assert "en" not in body and "detail_en" not in body
    assert r.headers["vary"] == "Accept-Language"
    if lang == "en":
        assert (body["title"], body["detail"]) == ("Not found", "No ticket 12")
        assert r.headers["content-language"] == "en"
    else:
        assert (body["title"], body["detail"]) == ("未找到", "没有编号为 12 的工单")
        assert r.headers["content-language"] == "zh-CN"


async def test_chinese_without_accept_language() -> None:
    body = (await _get(_tiny(), "GET", "/ticket/12", None)).json()
    assert body["detail"] == "没有编号为 12 的工单"


async def test_a_validation_error_names_each_field_and_rule_in_both_languages() -> None:
    sent = {"content": "", "caller": {"phone": "1" * 40}, "urgency": "soon"}
    zh = (await _get(_tiny(), "POST", "/tickets", None, json=sent)).json()
    en = (await _get(_tiny(), "POST", "/tickets", "en", json=sent)).json()
    assert zh["code"] == en["code"] == "validation_error"
    assert (zh["title"], en["title"]) == ("请求无效", "Invalid request")
    assert "content：不能为空" in zh["detail"]
    assert "caller.phone：最多 32 个字符" in zh["detail"]
    assert "urgency：应为以下之一：'normal' 或 'urgent'" in zh["detail"]
    assert "content: must not be empty" in en["detail"]
    assert "caller.phone: at most 32 characters" in en["detail"]
    assert "urgency: must be one of 'normal' or 'urgent'" in en["detail"]
    assert {e["field"]: e["message"] for e in zh["errors"]}["caller.phone"] == "最多 32 个字符"
    assert {e["field"]: e["type"] for e in en["errors"]}["caller.phone"] == "string_too_long"
    missing = (await _get(_tiny(), "POST", "/tickets", None, json={"caller": {}})).json()
    assert "content：不能为空" in missing["detail"]
    assert "caller.phone：不能为空" in missing["detail"]
    missing_en = (await _get(_tiny(), "POST", "/tickets", "en", json={"caller": {}})).json()
    assert "content: required" in missing_en["detail"]


async def test_an_unknown_route_and_method_in_both_languages() -> None:
    zh = await _get(_tiny(), "GET", "/nowhere", None)
    en = await _get(_tiny(), "GET", "/nowhere", "en")
    assert zh.json()["code"] == en.json()["code"] == "not_found"
    assert zh.json()["detail"] == "没有这个地址"
    assert en.json()["detail"] == "Not Found"
    wrong = await _get(_tiny(), "DELETE", "/tickets", None)
    assert wrong.status_code == 405
    assert wrong.json()["detail"] == "此地址不接受这个请求方法"


@pytest.mark.parametrize(
    ("action", "state", "zh", "en"),
    [
        (
            Action.sign,
            Status.closed,
            "工单当前为“已办结”，不能签收（仅“待签收”、“重办”的工单可以签收）",
            "A ticket that is closed cannot be signed for; only one that is dispatched or in "
            "rework can",
        ),
        (
            Action.extension,
            Status.dispatched,
            "工单当前为“待签收”，不能申请延期（仅“已签收”、“重办”的工单可以申请延期）",
            "A ticket that is dispatched cannot be extended; only one that is signed or in "
            "rework can",
        ),
        (
            Action.ruling,
            Status.triage,
            "工单当前为“待派单”，不能确责认定（仅“待签收”、“已签收”、“确责中”、“重办”的工单"
            "可以确责认定）",
            "A ticket that is in triage cannot be ruled on; only one that is dispatched, "
            "signed, with the confirmation group or in rework can",
        ),
    ],
)
def test_a_refused_transition_names_action_and_state(
    action: Action, state: Status, zh: str, en: str
) -> None:
    with pytest.raises(states.IllegalTransition) as caught:
        states.check(action, state)
    assert (caught.value.zh, caught.value.en) == (zh, en)


def test_every_action_and_state_has_a_name_in_both_languages() -> None:
    assert set(states.ACTION_NAMES) == set(Action)
    assert set(states.STATE_NAMES) == set(Status)
    for zh, en in [*states.ACTION_NAMES.values(), *states.STATE_NAMES.values()]:
        assert zh and en and zh != en


def _subclasses(cls: type[errors.HotlineError]) -> set[type[errors.HotlineError]]:
    found = set(cls.__subclasses__())
    return found.union(*(_subclasses(c) for c in found)) if found else found


def _error_names() -> set[str]:
    # Every package, so that every HotlineError subclass is defined.
    for module in pkgutil.walk_packages(hotline.__path__, "hotline."):
        if not module.name.startswith("hotline.cli") and not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    return {c.__name__ for c in _subclasses(errors.HotlineError)} | {"HotlineError"}


def test_every_error_class_has_a_chinese_and_an_english_title() -> None:
    for cls in [errors.HotlineError, *_subclasses(errors.HotlineError)]:
        if cls.__name__.startswith("_"):
            continue
        assert cls.title and cls.title_en, cls
        assert any("\u4e00" <= ch <= "\u9fff" for ch in cls.title), (cls, cls.title)
        assert cls.title_en.isascii(), (cls, cls.title_en)


def test_every_raise_site_passes_english() -> None:
    """An AST scan of src/hotline: each HotlineError, ``found`` or ``Invalid`` built with a text
    passes its English as ``en=`` (new code without English fails here)."""
    names = _error_names() | {"found", "Invalid"}
    root = Path(hotline.__file__).parent
    missing = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name not in names or not (node.args or node.keywords):
                continue
            if not any(k.arg == "en" or k.arg is None for k in node.keywords):
                missing.append(f"{path.relative_to(root)}:{node.lineno} {name}")
    assert not missing, "without en=: " + ", ".join(missing)
