"""GET /v1/tickets?q= (issue 17): full-text search over the content and the reply, by jieba's
words, on both databases (PostgreSQL's text search, SQLite's FTS5), with the other filters and
the keyset pages, and never beyond what a field role may read."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hotline.ticket import search
from tests.conftest import Demo

GRID = "210124100002001"  # 东湖社区第一网格
ELSEWHERE = "210124100001001"


async def post(
    client: httpx.AsyncClient, demo: Demo, content: str, grid: str = GRID, **fields: Any
) -> dict[str, Any]:
    body = {
        "kind": "complaint",
        "category": "urban.road",
        "content": content,
        "location": {"grid_code": grid},
        **fields,
    }
    r = await client.post("/v1/tickets", json=body, headers=demo.headers("agent"))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def found(
    client: httpx.AsyncClient, headers: dict[str, str], q: str, **params: Any
) -> list[int]:
    r = await client.get("/v1/tickets", params={"q": q, "limit": 200, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return sorted(t["id"] for t in r.json()["items"])


@pytest.fixture
async def appeals(client: httpx.AsyncClient, demo: Demo) -> dict[str, int]:
    made = {
        "manhole": await post(client, demo, "东湖社区3号楼北侧井盖缺失，存在安全隐患"),
        "water": await post(client, demo, "小区停水两天无人处理", category="utility.water"),
        "noise": await post(client, demo, "夜间施工噪音扰民", ELSEWHERE),
        "road": await post(client, demo, "路面塌陷，车辆无法通行"),
    }
    return {name: ticket["id"] for name, ticket in made.items()}


async def test_a_word_of_the_content_finds_its_tickets(
    client: httpx.AsyncClient, demo: Demo, appeals: dict[str, int]
) -> None:
    agent = demo.headers("agent")
    assert await found(client, agent, "井盖") == [appeals["manhole"]]
    assert await found(client, agent, "噪音") == [appeals["noise"]]
    # A word inside a longer one (安全隐患 is cut as 安全, 隐患 too), and one character alone.
    assert await found(client, agent, "隐患") == [appeals["manhole"]]
    assert await found(client, agent, "水") == [appeals["water"]]
    # Every word is required; a sentence is cut into its words.
    assert await found(client, agent, "井盖 噪音") == []
    assert await found(client, agent, "井盖缺失") == [appeals["manhole"]]
    assert await found(client, agent, "3号楼 井盖") == [appeals["manhole"]]
    assert await found(client, agent, "暖气") == []


async def test_the_reply_is_searched_too(
    client: httpx.AsyncClient, demo: Demo, appeals: dict[str, int]
) -> None:
    ticket = appeals["road"]
    worker = {"Authorization": f"Bearer {demo.person('worker', GRID)['key']}"}
    assert (await client.post(f"/v1/tickets/{ticket}/sign", json={}, headers=worker)).is_success
    assert await found(client, demo.headers("agent"), "沥青") == []
    r = await client.post(
        f"/v1/tickets/{ticket}/reply", json={"text": "已用沥青修补完毕"}, headers=worker
    )
    assert r.status_code == 200, r.text
    assert await found(client, demo.headers("agent"), "沥青") == [ticket]
    assert await found(client, demo.headers("agent"), "塌陷 修补") == [ticket]


async def test_search_combines_with_filters_and_pages(
    client: httpx.AsyncClient, demo: Demo, appeals: dict[str, int]
) -> None:
    agent = demo.headers("agent")
    more = [(await post(client, demo, f"第{n}次反映：路灯不亮"))["id"] for n in range(5)]
    assert await found(client, agent, "路灯", grid=GRID) == sorted(more)
    assert await found(client, agent, "路灯", grid=ELSEWHERE) == []
    assert await found(client, agent, "水", category="utility.water") == [appeals["water"]]
    seen: list[int] = []
    params: dict[str, Any] = {"q": "路灯", "limit": 2}
    while True:
        r = await client.get("/v1/tickets", params=params, headers=agent)
        assert r.status_code == 200, r.text
        seen += [t["id"] for t in r.json()["items"]]
        if not r.json()["next_cursor"]:
            break
        params["cursor"] = r.json()["next_cursor"]
    assert seen == sorted(more, reverse=True)


async def test_a_field_role_finds_only_what_it_may_read(
    client: httpx.AsyncClient, demo: Demo, appeals: dict[str, int]
) -> None:
    worker = {"Authorization": f"Bearer {demo.person('worker', ELSEWHERE)['key']}"}
    assert await found(client, worker, "噪音") == [appeals["noise"]]
    assert await found(client, worker, "井盖") == []


@pytest.mark.parametrize(
    "q", ["\"'", "井盖' OR 1=1 --", "井盖 & !", "a:* | b", "NEAR(井盖)", '井盖"', "*", "()"]
)
async def test_query_syntax_is_taken_as_words(
    client: httpx.AsyncClient, demo: Demo, appeals: dict[str, int], q: str
) -> None:
    r = await client.get("/v1/tickets", params={"q": q}, headers=demo.headers("agent"))
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        ids = {t["id"] for t in r.json()["items"]}
        assert ids <= {appeals["manhole"]}


@pytest.mark.parametrize("q", ["", "，。！", "   ", "井" * 201])
async def test_a_query_without_words_or_too_long_is_a_422(
    client: httpx.AsyncClient, demo: Demo, q: str
) -> None:
    r = await client.get("/v1/tickets", params={"q": q}, headers=demo.headers("agent"))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "query.q"


def test_the_stored_words_hold_the_search_cut_and_every_character() -> None:
    stored = search.words("存在安全隐患", "已修复")
    assert set(stored.split()) >= {"安全", "隐患", "安全隐患", "存", "患", "修复"}
    assert search.query_words("井盖缺失！") == ["井盖", "缺失"]
    assert search.words(None, "") == ""
