"""The confirmation group: the disputed queue, rulings, catalogue rules from rulings, and
supervision."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Demo

GRID = "210124100002001"
ROAD = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "小区门口道路归属不清",
    "location": {"address": "东湖公园北侧"},
}


async def post(client: httpx.AsyncClient, demo: Demo) -> dict[str, Any]:
    r = await client.post("/v1/tickets", json=ROAD, headers=demo.headers("agent"))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def to_arbitration(client: httpx.AsyncClient, demo: Demo) -> dict[str, Any]:
    """Returned three times: the third approval hands it to the confirmation group."""
    ticket = await post(client, demo)
    grids = [GRID, "210124100002002", "210124100002003", "210124100001001"]
    for n in range(3):
        worker = demo.headers("worker", grids[n])
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/return",
            headers=worker,
            json={"reason_code": "not_our_area", "reason": f"不属于本网格{n}"},
        )
        assert r.status_code == 200, r.text
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/return-decision",
            headers=demo.headers("dispatcher"),
            json={"approve": True, "unit_code": grids[n + 1]},
        )
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "arbitration"
    return dict(r.json())


class TestArbitration:
    async def test_the_queue_shows_who_returned_it_and_why(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await to_arbitration(client, demo)
        r = await client.get("/v1/arbitration", headers=demo.headers("arbiter"))
        assert r.status_code == 200
        (entry,) = r.json()
        assert entry["ticket"]["id"] == ticket["id"]
        assert entry["ticket"]["transfer_count"] == 3
        returns = [h for h in entry["history"] if h["action"] == "return_requested"]
        assert [h["details"]["reason"] for h in returns] == [
            "不属于本网格0",
            "不属于本网格1",
            "不属于本网格2",
        ]
        assert (
            await client.get("/v1/arbitration", headers=demo.headers("worker", GRID))
        ).status_code == 403

    async def test_a_ruling_designates_the_owner_who_cannot_return_it(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await to_arbitration(client, demo)
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/ruling",
            headers=demo.headers("arbiter"),
            json={
                "lead_unit": GRID,
                "co_units": ["210124-D-HOUSING"],
                "reasoning": "道路位于东湖社区第一网格内，住建局协办",
            },
        )
        assert r.status_code == 200, r.text
        ruled = r.json()
        assert ruled["status"] == "dispatched"
        assert ruled["designated"] is True
        assert ruled["co_handlers"] == ["210124-D-HOUSING"]
        assert ruled["route"]["method"] == "ruling"
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/return",
            headers=demo.headers("worker", GRID),
            json={"reason_code": "not_our_area", "reason": "还是不归我们"},
        )
        assert r.status_code == 409

    async def test_only_an_arbiter_rules(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await to_arbitration(client, demo)
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/ruling",
            headers=demo.headers("dispatcher"),
            json={"lead_unit": GRID, "reasoning": "x"},
        )
        assert r.status_code == 403

    async def test_a_ruling_with_add_rule_routes_the_next_similar_ticket(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await to_arbitration(client, demo)
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/ruling",
            headers=demo.headers("arbiter"),
            json={
                "lead_unit": "210124-D-HOUSING",
                "reasoning": "市政道路归住建局",
                "add_rule": True,
            },
        )
        assert r.status_code == 200, r.text
        rule_id = r.json()["route"]["rule_id"] or None
        nxt = await post(client, demo)
        assert nxt["route"]["method"] == "catalogue"
        assert nxt["route"]["unit_code"] == "210124-D-HOUSING"
        rules = (await client.get("/v1/catalogue-rules", headers=demo.headers("admin"))).json()
        made = [x for x in rules if x["source"] == "ruling"]
        assert made and made[0]["area_code"] == "210124100002"
        assert rule_id is None or rule_id == made[0]["id"]


class TestSupervision:
    async def test_a_dispatcher_supervises_a_ticket(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post(client, demo)
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/supervise",
            headers=demo.headers("dispatcher"),
            json={"level": "key", "note": "群众反映强烈"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["supervision"]["level"] == "key"
        assert r.json()["status"] == "dispatched"
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/supervise",
            headers=demo.headers("agent"),
            json={"level": "key", "note": "x"},
        )
        assert r.status_code == 403
