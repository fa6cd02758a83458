"""SQLite and PostgreSQL give the same answer at the edges (issue 18, item 7): a NUL in text or
in JSON is a 422 on both, nothing written; ids beyond the columns' range are a 422 on both."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hotline.db.engine import json_without_nul
from hotline.errors import Unprocessable
from tests.conftest import Demo

ROAD: dict[str, Any] = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "路面塌陷",
    "location": {"address": "东湖公园北侧"},
}


async def count(client: httpx.AsyncClient, demo: Demo) -> int:
    r = await client.get("/v1/tickets", params={"limit": 200}, headers=demo.headers("agent"))
    assert r.status_code == 200, r.text
    return len(r.json()["items"])


@pytest.mark.parametrize(
    "body",
    [
        {**ROAD, "content": "路面\u0000塌陷"},  # a text column
        {**ROAD, "caller": {"name": "张\u0000三"}},
        {**ROAD, "location": {"address": "东湖\u0000公园"}},  # text and the JSON location
    ],
)
async def test_a_nul_in_a_ticket_is_the_same_422_on_both_databases(
    client: httpx.AsyncClient, demo: Demo, body: dict[str, Any]
) -> None:
    before = await count(client, demo)
    r = await client.post("/v1/tickets", json=body, headers=demo.headers("agent"))
    assert r.status_code == 422, r.text
    assert "NUL" in r.json()["detail"]
    assert await count(client, demo) == before


async def test_a_nul_only_in_json_is_refused_on_both_databases(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    r = await client.post("/v1/tickets", json=ROAD, headers=demo.headers("agent"))
    ticket = r.json()["id"]
    worker = {
        "Authorization": f"Bearer {demo.person('worker', r.json()['route']['grid_code'])['key']}"
    }
    assert (await client.post(f"/v1/tickets/{ticket}/sign", json={}, headers=worker)).is_success
    r = await client.post(
        f"/v1/tickets/{ticket}/reply", json={"text": "已修\u0000补"}, headers=worker
    )
    assert r.status_code == 422, r.text
    r = await client.get(f"/v1/tickets/{ticket}", headers=worker)
    assert r.json()["status"] == "signed" and r.json()["reply"] is None


async def test_an_open311_nul_answers_in_open311s_own_format(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    r = await client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": demo.person("agent")["key"],
            "service_code": "urban.road",
            "address_string": "东湖公园北侧",
            "description": "路面\u0000塌陷",
        },
    )
    assert r.status_code == 400, r.text
    assert "NUL" in r.json()[0]["description"]


@pytest.mark.parametrize(
    ("value", "refused"),
    [
        ({"text": "a\u0000b"}, True),
        ({"list": ["ok", {"deep": "\u0000"}]}, True),
        ({"text": "a backslash-u0000 typed: \\u0000"}, False),
        ({"text": "two backslashes then NUL: \\\\\u0000"}, True),
        ({"text": "平常的话"}, False),
    ],
)
def test_json_for_the_columns_refuses_exactly_the_nul(value: Any, refused: bool) -> None:
    if refused:
        with pytest.raises(Unprocessable):
            json_without_nul(value)
    else:
        assert json_without_nul(value)


async def test_openapi_states_the_limits_the_server_enforces(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    sign = spec["paths"]["/v1/tickets/{ticket_id}/sign"]["post"]["parameters"]
    [if_match] = [p for p in sign if p["name"] == "If-Match"]
    assert if_match["schema"]["anyOf"][0]["pattern"]
    summary = spec["paths"]["/v1/metrics/summary"]["get"]["parameters"]
    for name in ("from", "to"):
        [day] = [p for p in summary if p["name"] == name]
        assert day["schema"]["format"] == "date"


@pytest.mark.parametrize("day", ["２０２６-03-01", "2026-13-01", "2026-3-1"])
async def test_a_day_that_is_not_an_ascii_date_is_a_422(
    client: httpx.AsyncClient, demo: Demo, day: str
) -> None:
    r = await client.get(
        "/v1/metrics/summary", params={"from": day}, headers=demo.headers("viewer")
    )
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("ticket_id", [2**31, 2**63 - 1, 2**63, 0, -1])
async def test_an_id_no_row_can_have_is_the_same_422_on_both_databases(
    client: httpx.AsyncClient, demo: Demo, ticket_id: int
) -> None:
    for r in (
        await client.get(f"/v1/tickets/{ticket_id}", headers=demo.headers("agent")),
        await client.post(f"/v1/tickets/{ticket_id}/sign", headers=demo.headers("worker")),
        await client.get(f"/v1/webhooks/{ticket_id}", headers=demo.headers("admin")),
    ):
        assert r.status_code == 422, r.text
    r = await client.post("/v1/tickets", json=ROAD, headers=demo.headers("agent"))
    r = await client.post(
        f"/v1/tickets/{r.json()['id']}/merge",
        json={"into": ticket_id},
        headers=demo.headers("agent"),
    )
    assert r.status_code == 422, r.text


async def test_the_largest_id_a_row_can_have_is_a_404(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    r = await client.get(f"/v1/tickets/{2**31 - 1}", headers=demo.headers("agent"))
    assert r.status_code == 404, r.text
