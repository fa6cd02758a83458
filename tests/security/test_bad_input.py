"""Bad input and attacks: deep JSON, absurd limits, forged cursors, SQL and script injection,
NUL characters. The service answers a clear 4xx (problem+json; Open311 its own error list) or
a correct answer, never a 500; a refusal stores nothing; text is kept as data and escaped
wherever it is rendered."""

from __future__ import annotations

import base64
import itertools
import json
import os
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

import httpx
import pytest
from sqlalchemy import func, select

from hotline.auth.roles import Role
from hotline.kit import cursor as cursors
from hotline.org.models import Unit
from hotline.ticket.models import Ticket, TicketEvent
from tests.conftest import Demo, Keys

GRID = "210124100002001"
ROAD = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "东湖公园北侧路面坑洼",
    "caller": {"name": "张三", "phone": "13812345678"},
    "location": {"address": "东湖公园北侧"},
}
INJECTIONS = ("' OR 1=1 --", "1; DROP TABLE ticket", "%", "_", "\x00")
SCRIPT = "<script>alert(1)</script>"
# A square far from the demo county's grids.
SQUARE = [[[100.0, 10.0], [100.001, 10.0], [100.001, 10.001], [100.0, 10.001], [100.0, 10.0]]]


def nested(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


async def count(app: Any, model: Any) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def stored(app: Any) -> tuple[int, int, int]:
    return await count(app, Ticket), await count(app, TicketEvent), await count(app, Unit)


def unsafe(app: Any) -> httpx.AsyncClient:
    """A client that gets a 500 as an answer instead of the app's exception."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def is_problem(r: httpx.Response) -> bool:
    return r.headers["content-type"] == "application/problem+json"


def is_open311_error(r: httpx.Response) -> bool:
    if r.headers["content-type"].startswith("text/xml"):
        return ElementTree.fromstring(r.content).tag == "errors"
    return isinstance(r.json(), list) and {"code", "description"} <= set(r.json()[0])


async def post_ticket(http: httpx.AsyncClient, demo: Demo, **fields: Any) -> httpx.Response:
    return await http.post("/v1/tickets", json={**ROAD, **fields}, headers=demo.headers("agent"))


async def post_raw(
    http: httpx.AsyncClient, path: str, headers: dict[str, str], body: str
) -> httpx.Response:
    """POST ``body`` as it is: JSON no encoder would write."""
    headers = {**headers, "content-type": "application/json"}
    return await http.post(path, content=body.encode(), headers=headers)


# --- deep JSON ----------------------------------------------------------------------------------


class TestDeepJson:
    async def test_deep_json_is_a_clear_422_or_dropped_and_stores_nothing(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        """Too deep to parse: 422 everywhere. Deep enough to parse in a boundary's foreign
        member: dropped (see below)."""
        deep_array, deep_object = nested(10_000), '{"a":' * 10_000 + "1" + "}" * 10_000
        ticket = json.dumps(ROAD, ensure_ascii=False)
        square = json.dumps(SQUARE)
        cases = [
            ("/v1/tickets", "agent", deep_array),
            ("/v1/tickets", "agent", deep_object),
            ("/v1/tickets", "agent", ticket[:-1] + f',"external_id":{deep_array}}}'),
            ("/v1/tickets", "agent", ticket.replace('"张三"', deep_object)),
            (
                "/v1/units",
                "admin",
                '{"code":"X1","name":"x","kind":"grid","parent_code":"210124100002",'
                f'"boundary":{{"type":"Polygon","coordinates":{deep_array}}}}}',
            ),
            (
                "/v1/units",
                "admin",
                '{"code":"X2","name":"x","kind":"grid","parent_code":"210124100002",'
                f'"boundary":{{"type":"Polygon","coordinates":{square},"bbox":{deep_object}}}}}',
            ),
            (
                "/v1/grids/import",
                "admin",
                '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
                f'{{"code":"X3","name":"x","parent_code":"210124100002","z":{deep_array}}},'
                f'"geometry":{{"type":"Polygon","coordinates":{square}}}}}]}}',
            ),
            ("/v1/webhooks", "admin", f'{{"url":"https://x.example","event_types":{deep_array}}}'),
        ]
        async with unsafe(app) as http:
            first = (await post_ticket(http, demo)).json()
            before = await stored(app)
            for path, role, body in cases:
                r = await post_raw(http, path, demo.headers(role), body)
                assert r.status_code == 422, (path, body[:80], r.status_code)
                assert is_problem(r)
                assert r.json()["code"] == "validation_error"
            path = f"/v1/tickets/{first['id']}/note"
            r = await post_raw(http, path, demo.headers("dispatcher"), f'{{"text":{deep_array}}}')
            assert (r.status_code, is_problem(r)) == (422, True)
        assert await stored(app) == before
        await self._boundary_keeps_no_foreign_member_and_takes_no_nested_point(client, demo)

    async def _boundary_keeps_no_foreign_member_and_takes_no_nested_point(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        """A foreign member deep enough to parse, and to break every later read of the grids
        had it been kept, is dropped; a point nested in a point is refused."""
        admin = demo.headers("admin")
        deep = nested(600)
        square = json.dumps(SQUARE)
        r = await post_raw(
            client,
            "/v1/units",
            admin,
            '{"code":"X1","name":"x","kind":"grid","parent_code":"210124100002",'
            f'"boundary":{{"type":"Polygon","coordinates":{square},"x":{deep}}}}}',
        )
        assert r.status_code == 201, r.text
        moved = json.dumps([[[x + 0.01, y] for x, y in SQUARE[0]]])
        r = await post_raw(
            client,
            "/v1/grids/import",
            admin,
            '{"type":"FeatureCollection","features":[{"type":"Feature","properties":'
            '{"code":"X2","name":"y","parent_code":"210124100002"},'
            f'"geometry":{{"type":"Polygon","coordinates":{moved},"x":{deep}}}}}]}}',
        )
        assert r.status_code == 200, r.text
        for headers in (admin, demo.headers("viewer")):
            r = await client.get(
                "/v1/grids", params={"parent_code": "210124100002"}, headers=headers
            )
            assert r.status_code == 200
            mine = [f["geometry"] for f in r.json()["features"] if f["id"] in ("X1", "X2")]
            assert [sorted(g) for g in mine] == [["coordinates", "type"]] * 2
        ring = [[x, y, [[[1]]]] for x, y in SQUARE[0]]
        body = {
            "code": "X3",
            "name": "x",
            "kind": "grid",
            "parent_code": "210124100002",
            "boundary": {"type": "Polygon", "coordinates": [ring]},
        }
        r = await client.post("/v1/units", json=body, headers=demo.headers("admin"))
        assert (r.status_code, is_problem(r)) == (422, True)
        assert r.json()["field"] == "boundary"


# --- limits and cursors -------------------------------------------------------------------------


def listing_routes(app: Any, param: str) -> list[str]:
    """Every GET path of the API that takes ``param`` in its query."""
    paths = []
    for path, ops in app.openapi()["paths"].items():
        get = ops.get("get")
        if get and any(
            p["name"] == param and p["in"] == "query" for p in get.get("parameters", [])
        ):
            paths.append(path)
    return sorted(paths)


class TestLimits:
    async def test_every_list_refuses_an_absurd_limit(
        self, app: Any, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        r = await client.post(
            "/v1/webhooks",
            json={"url": "https://x.example/h", "event_types": ["ticket.created"]},
            headers=keys[Role.admin],
        )
        paths = [
            p.replace("{webhook_id}", str(r.json()["id"])) for p in listing_routes(app, "limit")
        ]
        assert len(paths) >= 12
        # Who may call each list, and what else it needs.
        headers = {"/v1/assignments": keys[Role.worker], "/v1/callers/history": keys[Role.agent]}
        needs = {"/v1/callers/history": {"phone": "13812345678"}}
        for path in paths:
            for limit in (10**12, 10**30, -1, 0, "abc", "1e3", ""):
                r = await client.get(
                    path,
                    params={**needs.get(path, {}), "limit": limit},
                    headers=headers.get(path, keys[Role.admin]),
                )
                assert (r.status_code, is_problem(r)) == (422, True), (path, limit)
        # Open311's paging (not in the spec) answers in the spec's error format.
        for fmt, name in itertools.product(("json", "xml"), ("page", "page_size")):
            for value in (10**12, -1, 0, "abc"):
                r = await client.get(f"/open311/v2/requests.{fmt}", params={name: value})
                assert r.status_code == 400, (name, value)
                assert is_open311_error(r)


def forge(doc: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")


class TestCursors:
    async def test_forged_cursors_are_422_on_every_paged_list(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        for _ in range(2):
            assert (await post_ticket(client, demo)).status_code == 201
        admin, worker = demo.headers("admin"), demo.headers("worker", GRID)
        agent, phone = demo.headers("agent"), ROAD["caller"]["phone"]
        history = await client.get(
            "/v1/callers/history", params={"phone": phone, "limit": 1}, headers=agent
        )
        real = {
            "/v1/callers/history": history.json()["next_cursor"],
            "/v1/tickets": (await client.get("/v1/tickets?limit=1", headers=admin)).json()[
                "next_cursor"
            ],
            "/v1/units": (await client.get("/v1/units?limit=1", headers=admin)).json()[
                "next_cursor"
            ],
            "/v1/grids": (await client.get("/v1/grids?limit=1", headers=admin)).json()[
                "next_cursor"
            ],
            "/v1/assignments": (await client.get("/v1/assignments", headers=worker)).json()[
                "cursor"
            ],
        }
        assert all(real.values())
        assert sorted(real) == sorted([*listing_routes(app, "cursor"), "/v1/assignments"])
        common = [
            base64.urlsafe_b64encode(os.urandom(48)).decode(),
            "not base64 at all!",
            "x" * 513,
            forge([1]),  # the old untagged shape
            forge({"k": "tickets", "v": ["\x00", 1]}),
            forge({"k": "units", "v": ["\ud800"]}),
            forge({"k": "units", "v": [{"a": 1}]}),
            forge({"k": "assignments", "v": [True]}),
            '{"k":"units"}',
        ]
        async with unsafe(app) as http:
            for path, cursor in real.items():
                param = "since" if path == "/v1/assignments" else "cursor"
                mid = len(cursor) // 2
                tampered = cursor[:mid] + ("A" if cursor[mid] != "A" else "B") + cursor[mid + 1 :]
                others = [c for p, c in real.items() if p != path]
                for bad in [cursor[: len(cursor) // 2], tampered, *others, *common]:
                    headers = {"/v1/assignments": worker, "/v1/callers/history": agent}.get(
                        path, admin
                    )
                    needs = {"phone": phone} if path == "/v1/callers/history" else {}
                    r = await http.get(path, params={**needs, param: bad}, headers=headers)
                    assert r.status_code == 422, (path, bad, r.status_code, r.text[:200])
                    assert is_problem(r)
                    assert r.json().get("field", param) in (param, f"query.{param}")
            # Well-formed but impossible: a naive time, an id beyond int64.
            for path, param, headers, bad in (
                ("/v1/tickets", "cursor", admin, ["2026-01-01T00:00:00", 1]),
                ("/v1/tickets", "cursor", admin, ["2026-01-01T00:00:00+08:00", 10**30]),
                ("/v1/assignments", "since", worker, [10**30]),
            ):
                forged = cursors.encode(bad, kind=path.rsplit("/", 1)[1])
                r = await http.get(path, params={param: forged}, headers=headers)
                assert (r.status_code, is_problem(r)) == (422, True), (path, bad, r.text[:200])


# --- SQL injection ------------------------------------------------------------------------------


def matched(path: str, body: Any) -> int | None:
    """How many tickets (or units, staff) a 200 answer of ``path`` matched; None: not a list."""
    if path == "/v1/metrics/summary":
        return int(body["counts"]["received"])
    if path in ("/v1/metrics/breakdown", "/v1/metrics/timeseries"):
        return sum(int(i["counts"]["received"]) for i in body["items"])
    if isinstance(body, list):
        return len(body)
    for key in ("items", "features"):
        if isinstance(body, dict) and key in body:
            return len(body[key])
    return None


class TestSqlInjection:
    async def test_every_query_and_path_parameter_of_every_read(
        self, app: Any, demo: Demo, backend: str
    ) -> None:
        """A filter that is not a valid value is a 4xx; one that is matches nothing; an id or
        code in the path is a 4xx. Nothing is changed and every table is still there."""
        async with unsafe(app) as http:
            for _ in range(2):
                assert (await post_ticket(http, demo)).status_code == 201
            r = await http.post(
                "/v1/webhooks",
                json={"url": "https://x.example/h", "event_types": ["ticket.created"]},
                headers=demo.headers("admin"),
            )
            hook = r.json()["id"]
            before = await stored(app)
            surprises = []
            for path, ops in sorted(app.openapi()["paths"].items()):
                params = [
                    p["name"]
                    for p in ops.get("get", {}).get("parameters", [])
                    if p["in"] == "query"
                ]
                if not params or not path.startswith(("/v1", "/open311")):
                    continue
                concrete = path.replace("{webhook_id}", str(hook)).replace("{fmt}", "json")
                headers = (
                    demo.headers("worker", GRID)
                    if concrete == "/v1/assignments"
                    else demo.headers("admin")
                )
                for param in params:
                    for value in INJECTIONS:
                        r = await http.get(concrete, params={param: value}, headers=headers)
                        # 429: an address sending bad api_keys again and again (auth.throttle).
                        ok = (
                            r.status_code in (400, 403, 404, 422, 429)
                            and (
                                is_open311_error(r)
                                if concrete.startswith("/open311")
                                else is_problem(r)
                            )
                        ) or (r.status_code == 200 and matched(path, r.json()) in (0, None))
                        if not ok:
                            surprises.append((concrete, param, value, r.status_code, r.text[:120]))
            assert surprises == []
            assert await stored(app) == before
            r = await http.get("/v1/tickets", headers=demo.headers("admin"))
            assert len(r.json()["items"]) == 2
            for value in (*INJECTIONS, str(10**30), "-1"):
                quoted = quote(value, safe="")
                for template in (
                    "/v1/tickets/{}",
                    "/v1/tickets/{}/events",
                    "/v1/units/{}",
                    "/v1/grids/{}",
                    "/v1/staff/{}",
                    "/v1/webhooks/{}",
                    "/open311/v2/requests/{}.json",
                    "/open311/v2/services/{}.xml",
                    "/open311/v2/tokens/{}.json",
                ):
                    r = await http.get(template.format(quoted), headers=demo.headers("admin"))
                    assert r.status_code in (400, 404, 422), (template, value, r.status_code)
            assert await stored(app) == before

    async def test_text_fields_keep_them_as_data_and_code_fields_refuse_them(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        for value in INJECTIONS[:4]:
            caller = {"name": value, "phone": "13812345678"}
            location = {"address": f"东湖公园北侧{value}"}
            r = await post_ticket(client, demo, content=value, caller=caller, location=location)
            assert r.status_code == 201, r.text
            ticket = r.json()
            got = (
                await client.get(f"/v1/tickets/{ticket['id']}", headers=demo.headers("agent"))
            ).json()
            assert (got["content"], got["caller"]["name"], got["location"]["address"]) == (
                value,
                value,
                f"东湖公园北侧{value}",
            )
            await _every_text_action(client, demo, ticket, value)
        # Codes are refused, with nothing stored ("_" is a valid code character).
        first = (await post_ticket(client, demo)).json()
        before = await stored(app)
        for value in (v for v in INJECTIONS if v != "_"):
            for fields in (
                {"category": value},
                {"kind": value},
                {"line": value},
                {"urgency": value},
                {"location": {"grid_code": value}},
                {"caller": {"phone": value}},
            ):
                r = await post_ticket(client, demo, **fields)
                assert (r.status_code, is_problem(r)) == (422, True), (fields, r.text)
            dispatcher = demo.headers("dispatcher")
            for action, body, headers in (
                ("dispatch", {"unit_code": value}, dispatcher),
                ("merge", {"into": value}, demo.headers("agent")),
                ("whistle", {"reason": "x", "departments": [value]}, demo.headers("worker", GRID)),
                ("whistle", {"reason": "x", "members": [value]}, demo.headers("worker", GRID)),
                ("return", {"reason_code": value, "reason": "x"}, demo.headers("worker", GRID)),
            ):
                r = await client.post(
                    f"/v1/tickets/{first['id']}/{action}", json=body, headers=headers
                )
                assert (r.status_code, is_problem(r)) == (422, True), (action, body, r.text)
        assert await stored(app) == before


async def _every_text_action(
    client: httpx.AsyncClient, demo: Demo, ticket: dict[str, Any], value: str
) -> None:
    """Takes the ticket through every action with free text; each text comes back verbatim."""
    worker, agent = demo.headers("worker", GRID), demo.headers("agent")
    steps = [
        ("sign", {"note": value}, worker),
        ("note", {"text": value}, demo.headers("dispatcher")),
        ("whistle", {"reason": value, "departments": ["210124-D-WATER"]}, worker),
        ("extension", {"days": 1, "reason": value}, worker),
        ("extension-decision", {"approve": False, "note": value}, demo.headers("dispatcher")),
        ("reply", {"text": value}, worker),
        ("callback", {"reached": False, "note": value}, agent),
    ]
    for action, body, headers in steps:
        r = await client.post(f"/v1/tickets/{ticket['id']}/{action}", json=body, headers=headers)
        assert r.status_code == 200, (action, r.text)
    r = await client.get(f"/v1/tickets/{ticket['id']}/events", headers=agent)
    texts = json.dumps(r.json(), ensure_ascii=False)
    assert texts.count(json.dumps(value, ensure_ascii=False)) >= len(steps) - 1, texts


# --- script injection ---------------------------------------------------------------------------


class TestScript:
    async def test_script_is_data_in_json_escaped_in_xml_and_never_echoed_in_html(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        r = await post_ticket(
            client, demo, content=SCRIPT, location={"address": f"东湖公园北侧{SCRIPT}"}
        )
        assert r.status_code == 201
        assert r.headers["content-type"] == "application/json"
        assert r.json()["content"] == SCRIPT
        posted = await client.post(
            "/open311/v2/requests.xml",
            data={
                "api_key": demo.person("agent")["key"],
                "service_code": "urban.road",
                "description": f"{SCRIPT}&]]>",
                "address_string": "东湖公园北侧",
            },
        )
        assert posted.status_code == 200, posted.text
        for path in ("/open311/v2/requests.xml", f"/open311/v2/requests/{r.json()['id']}.xml"):
            answer = await client.get(path)
            assert answer.headers["content-type"].startswith("text/xml")
            assert "<script>" not in answer.text and "&lt;script&gt;" in answer.text
            descriptions = {
                e.text for e in ElementTree.fromstring(answer.content).iter("description")
            }
            assert SCRIPT in descriptions
        listed = ElementTree.fromstring((await client.get("/open311/v2/requests.xml")).content)
        assert f"{SCRIPT}&]]>" in {e.text for e in listed.iter("description")}
        # Errors may name what was asked for, in JSON or escaped XML; none of them is HTML.
        quoted = quote(SCRIPT, safe="")
        for path in (
            f"/dashboard/static/{quoted}",
            f"/v1/units/{quoted}",
            f"/{quoted}",
            f"/open311/v2/services/{quoted}.xml",
            f"/open311/v2/{quoted}.xml",
            f"/open311/v2/requests.xml?service_code={quoted}",
        ):
            r = await client.get(path, headers=demo.headers("admin"))
            kind = r.headers["content-type"]
            assert "html" not in kind, path
            if "xml" in kind:
                assert "<script>" not in r.text, path
                ElementTree.fromstring(r.content)
            else:
                assert kind in ("application/problem+json", "application/json"), path
        r = await client.get(f"/dashboard?next={quoted}")
        assert "alert(1)" not in r.text
        r = await client.get("/dashboard")
        assert r.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in r.headers["content-security-policy"]


# --- NUL and other characters that are not text -------------------------------------------------


class TestNul:
    async def test_nul_is_refused_on_both_databases_and_so_is_a_surrogate(
        self, app: Any, demo: Demo, backend: str
    ) -> None:
        """PostgreSQL cannot store U+0000 in text, so neither database does: the same clear 422
        (an Open311 400) with nothing stored, never a 500. A lone surrogate is not text on
        either."""
        async with unsafe(app) as http:
            first = (await post_ticket(http, demo)).json()
            before = await stored(app)
            for fields in (
                {"content": "a\x00b"},
                {"caller": {"name": "张\x00三", "phone": "13812345678"}},
                {"location": {"address": "东湖公园\x00北侧"}},
            ):
                r = await post_ticket(http, demo, **fields)
                assert (r.status_code, is_problem(r)) == (422, True), (backend, r.text)
                assert "NUL" in r.json()["detail"]
            r = await http.post(
                f"/v1/tickets/{first['id']}/note",
                json={"text": "已\x00催办"},
                headers=demo.headers("dispatcher"),
            )
            assert r.status_code == 422, r.text
            r = await http.post(
                "/open311/v2/requests.xml",
                data={
                    "api_key": demo.person("agent")["key"],
                    "service_code": "urban.road",
                    "description": "路灯\x00不亮",
                    "address_string": "东湖公园北侧",
                },
            )
            assert (r.status_code, is_open311_error(r)) == (400, True)
            assert await stored(app) == before
            # A lone surrogate is text nowhere: 422 on both.
            before = await stored(app)
            body = json.dumps({**ROAD, "content": "a"}).replace('"a"', '"a\\ud800b"')
            r = await http.post(
                "/v1/tickets",
                content=body.encode(),
                headers={**demo.headers("agent"), "content-type": "application/json"},
            )
            assert (r.status_code, is_problem(r)) == (422, True)
            assert await stored(app) == before


class TestDatabaseRefusals:
    async def test_values_postgresql_cannot_take_are_domain_errors(
        self, app: Any, backend: str
    ) -> None:
        """The net under every schema: whatever reaches the database unbounded is a 422 (an
        Open311 400) wherever it comes from; SQLite refuses the NUL too and takes the rest."""
        from sqlalchemy import text

        from hotline.errors import OutOfRange, Unprocessable

        cases = [
            ("INSERT INTO probe (word) VALUES (:v)", "a\x00b", Unprocessable),
            ("INSERT INTO probe (word) VALUES (:v)", "x" * 4, Unprocessable),
            ("INSERT INTO probe (n) VALUES (:v)", 10**30, OutOfRange),
        ]
        for statement, value, error in cases:
            async with app.state.engine.connect() as conn:
                await conn.execute(text("CREATE TEMPORARY TABLE probe (word VARCHAR(3), n BIGINT)"))
                if backend == "postgresql" or "\x00" in str(value):
                    with pytest.raises(error):
                        await conn.execute(text(statement), {"v": value})
                elif isinstance(value, str):
                    await conn.execute(text(statement), {"v": value})
                await conn.rollback()

    async def test_a_webhook_url_longer_than_its_column_is_422(
        self, client: httpx.AsyncClient, keys: Any
    ) -> None:
        body = {"url": f"https://{'a' * 2000}.example/", "event_types": ["ticket.created"]}
        r = await client.post("/v1/webhooks", json=body, headers=keys[Role.admin])
        assert (r.status_code, is_problem(r)) == (422, True)
        assert "url" in [e["field"] for e in r.json()["errors"]]
