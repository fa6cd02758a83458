"""A query parameter the route does not declare is refused (kit.query), on every route: a 422
problem naming it, Open311's own 400 under /open311; the declared ones keep working."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from hotline.app import QUERY_BEYOND
from tests.conftest import Demo

GRID = "210124100002001"  # 东湖社区第一网格: where 东湖公园 routes
ROAD = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "东湖公园北侧路面坑洼，井盖缺失",
    "caller": {"name": "张三", "phone": "13812345678"},
    "location": {"address": "东湖公园北侧"},
}
OPEN311_ROAD = {"service_code": "urban.road", "address_string": "法库镇东湖公园北门"}
# The routes that take any query string (app.QUERY_BEYOND): the dashboard and Open311's 404.
FREE = {
    "GET /dashboard",
    "GET /dashboard/static/{name:path}",
    "GET /m",
    "GET /m/static/{name:path}",
    "GET /m/manifest.webmanifest",
    "GET /m/sw.js",
    "GET /open311/v2/{rest:path}",
}


def refused(r: httpx.Response, *names: str) -> list[dict[str, Any]]:
    """The problem's errors, after checking it is the unknown-parameter 422 naming ``names``."""
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "validation_error"
    # Each field and its rule, in Chinese (no Accept-Language).
    assert body["detail"] == "；".join(f"{e['field']}：{e['message']}" for e in body["errors"])
    assert all(e["message"].startswith("不接受此查询参数；") for e in body["errors"])
    assert [(e["field"], e["type"]) for e in body["errors"]] == [
        (f"query.{n}", "unknown_parameter") for n in sorted(names)
    ]
    return list(body["errors"])


async def post_ticket(client: httpx.AsyncClient, demo: Demo) -> dict[str, Any]:
    r = await client.post("/v1/tickets", json=ROAD, headers=demo.headers("agent"))
    assert r.status_code == 201, r.text
    return dict(r.json())


class TestV1:
    async def test_a_list_refuses_a_filter_it_does_not_have_and_names_what_it_takes(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        agent = demo.headers("agent")
        await post_ticket(client, demo)
        (error,) = refused(
            await client.get("/v1/tickets", params={"phone": "13812345678"}, headers=agent),
            "phone",
        )
        assert error["message"].startswith("不接受此查询参数；可用的参数：")
        assert "category" in error["message"] and "cursor" in error["message"]
        r = await client.get("/v1/tickets", params={"limit": 1, "kind": "complaint"}, headers=agent)
        assert r.status_code == 200, r.text
        assert len(r.json()["items"]) == 1

    async def test_every_unknown_name_is_listed_once(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        r = await client.get(
            "/v1/tickets?text=x&phone=138&text=y&limit=1", headers=demo.headers("agent")
        )
        refused(r, "phone", "text")

    async def test_one_ticket_takes_no_query(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await post_ticket(client, demo)
        path = f"/v1/tickets/{ticket['id']}"
        (error,) = refused(
            await client.get(path, params={"q": "x"}, headers=demo.headers("agent")), "q"
        )
        assert error["message"] == "不接受此查询参数；此地址不带查询参数"
        assert (await client.get(path, headers=demo.headers("agent"))).status_code == 200

    async def test_an_action_with_an_unknown_parameter_does_nothing(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        worker = demo.headers("worker", GRID)
        path = f"/v1/tickets/{ticket['id']}"
        refused(await client.post(f"{path}/sign?unit=1", json={}, headers=worker), "unit")
        r = await client.get(path, headers=demo.headers("agent"))
        assert r.json()["status"] == ticket["status"]
        r = await client.post(f"{path}/sign", json={}, headers=worker)
        assert r.status_code == 200, r.text

    async def test_metrics_take_from_and_to_by_their_aliases(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        viewer = demo.headers("viewer")
        days = {"from": "2026-05-01", "to": "2026-05-31"}
        r = await client.get("/v1/metrics/summary", params=days, headers=viewer)
        assert r.status_code == 200, r.text
        (error,) = refused(
            await client.get("/v1/metrics/summary", params={"from_": "2026-05-01"}, headers=viewer),
            "from_",
        )
        assert "from, " in error["message"] and ", to, " in error["message"]

    async def test_the_long_poll_refuses_before_it_waits(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        worker = demo.headers("worker", GRID)
        await post_ticket(client, demo)
        r = await client.get("/v1/assignments", params={"limit": 5, "wait": 0}, headers=worker)
        assert r.status_code == 200, r.text
        assert r.json()["items"]
        # ``timeout`` is not ``wait``: refused at once instead of answered after 30 s of nothing.
        refused(
            await client.get(
                "/v1/assignments", params={"timeout": 30, "since": "x"}, headers=worker
            ),
            "timeout",
        )


class TestHealth:
    @pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics"])
    async def test_probes_take_no_query(self, client: httpx.AsyncClient, path: str) -> None:
        assert (await client.get(path)).status_code == 200
        refused(await client.get(path, params={"verbose": "1"}), "verbose")

    async def test_head_is_refused_like_its_get_and_options_still_answers(
        self, client: httpx.AsyncClient
    ) -> None:
        r = await client.head("/healthz?verbose=1")
        assert r.status_code == 422 and r.content == b""
        r = await client.options("/healthz?verbose=1")
        assert r.status_code == 204 and "GET" in r.headers["allow"]


class TestOpen311:
    @pytest.mark.parametrize("fmt", ["json", "xml"])
    async def test_a_read_answers_unknown_parameters_in_the_spec_error_list(
        self, client: httpx.AsyncClient, fmt: str
    ) -> None:
        r = await client.get(f"/open311/v2/requests.{fmt}", params={"urgency": "high"})
        assert r.status_code == 400, r.text
        # Named as sent: not translated to the form's ``attribute[urgency]``.
        described = "urgency: 不接受此查询参数；可用的参数：api_key, end_date"
        if fmt == "json":
            assert r.json() == [{"code": 400, "description": r.json()[0]["description"]}]
            assert r.json()[0]["description"].startswith(described)
        else:
            assert "<code>400</code>" in r.text and f"<description>{described}" in r.text

    async def test_reads_keep_the_spec_parameters(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        spec = {"jurisdiction_id": "210124", "api_key": str(demo.person("agent")["key"])}
        for path in (
            "discovery.json",
            "services.json",
            "requests.json",
            "services/urban.road.json",
        ):
            r = await client.get(f"/open311/v2/{path}", params=spec)
            assert r.status_code == 200, (path, r.text)
        r = await client.get("/open311/v2/requests.json", params={**spec, "status": "open"})
        assert r.status_code == 200, r.text
        r = await client.get("/open311/v2/discovery.json", params={"format": "json"})
        assert r.status_code == 400, r.text

    async def test_a_post_takes_its_form_in_the_query_string_and_nothing_else(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        form = {"api_key": str(demo.person("agent")["key"]), **OPEN311_ROAD}
        r = await client.post("/open311/v2/requests.json", params=form)
        assert r.status_code == 200, r.text
        before = await client.get("/open311/v2/requests.json")
        r = await client.post(
            "/open311/v2/requests.json", params={"category": "urban.road"}, data=form
        )
        assert r.status_code == 400, r.text
        assert r.json()[0]["description"].startswith("category: 不接受此查询参数；")
        assert (await client.get("/open311/v2/requests.json")).json() == before.json()

    async def test_what_does_not_exist_stays_a_404_what_does_refuses(
        self, client: httpx.AsyncClient
    ) -> None:
        r = await client.get("/open311/v2/nothing.json", params={"x": "1"})
        assert r.status_code == 404, r.text
        r = await client.get("/open311/v2/services.json", params={"x": "1"})
        assert r.status_code == 400, r.text


class TestExempt:
    @pytest.mark.parametrize(
        "path", ["/dashboard", "/dashboard/static/app.js", "/docs", "/redoc", "/openapi.json"]
    )
    async def test_pages_and_files_take_a_cache_busting_query_the_api_does_not(
        self, client: httpx.AsyncClient, path: str
    ) -> None:
        r = await client.get(path, params={"v": "3"})
        assert r.status_code == 200, (path, r.text)
        refused(await client.get("/healthz", params={"v": "3"}), "v")

    def test_only_the_pages_and_open311s_404_take_any_query(self) -> None:
        assert {key for key, names in QUERY_BEYOND.items() if names is None} == FREE


def concrete(path: str) -> str:
    # Any value: the check runs before the path's parameters are read.
    return re.sub(r"\{fmt\}", "json", re.sub(r"\{(?!fmt\})[^}]+\}", "1", path))


async def test_every_route_refuses_a_parameter_it_does_not_declare(
    app: Any, client: httpx.AsyncClient, demo: Demo
) -> None:
    admin = demo.headers("admin")
    checked, wrong = 0, []
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        for method in sorted(context.methods or ()):
            if f"{method} {context.path}" in FREE:
                continue
            r = await client.request(
                method, concrete(context.path) + "?zzz_unknown=1", headers=admin
            )
            checked += 1
            if context.path.startswith("/open311/"):
                ok = r.status_code == 400 and "zzz_unknown: 不接受此查询参数" in r.text
            else:
                ok = r.status_code == 422 and r.json()["errors"][0]["field"] == "query.zzz_unknown"
            if not ok:
                wrong.append((method, context.path, r.status_code))
    assert wrong == []
    assert checked > 80
