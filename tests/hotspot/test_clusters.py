"""Hot spots over HTTP: detect, list, assign a lead unit with a catalogue rule, close."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Demo

VILLAGE = "210124100002"
TEXTS = [
    "东湖社区东湖花园小区又停水了，已经停水两天",
    "东湖花园小区停水，家里没水做饭",
    "东湖花园停水好几天了，什么时候恢复供水",
]


async def post(
    client: httpx.AsyncClient, demo: Demo, text: str, address: str = "东湖公园北侧"
) -> dict[str, Any]:
    r = await client.post(
        "/v1/tickets",
        headers=demo.headers("agent"),
        json={
            "kind": "complaint",
            "category": "urban.drainage",
            "content": text,
            "caller": {"name": "李四", "phone": "13900001111"},
            "location": {"address": address},
        },
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


class TestClusters:
    async def test_three_similar_tickets_in_a_village_are_one_hot_spot(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ids = [(await post(client, demo, t))["id"] for t in TEXTS]
        await post(client, demo, "路灯不亮，晚上很黑")
        r = await client.post("/v1/clusters/detect", headers=demo.headers("dispatcher"))
        assert r.json() == {"found": 1, "created": 1, "updated": 0}
        again = await client.post("/v1/clusters/detect", headers=demo.headers("dispatcher"))
        assert again.json()["created"] == 0
        listed = (await client.get("/v1/clusters", headers=demo.headers("viewer"))).json()
        (hot,) = listed
        assert (hot["category"], hot["place"], hot["size"]) == ("urban.drainage", VILLAGE, 3)
        assert [m["id"] for m in hot["members"]] == ids
        assert "停水" in hot["keywords"]
        assert sum(hot["trend"]) == 3
        assert "13900001111" not in str(listed) and "李四" not in str(listed)
        summary = (await client.get("/v1/metrics/summary", headers=demo.headers("viewer"))).json()
        assert summary["clusters"] == {"open": 1, "tickets": 3}

    async def test_two_are_not_enough(self, client: httpx.AsyncClient, demo: Demo) -> None:
        for text in TEXTS[:2]:
            await post(client, demo, text)
        r = await client.post("/v1/clusters/detect", headers=demo.headers("dispatcher"))
        assert r.json()["found"] == 0

    async def test_assigning_with_a_rule_routes_the_class_to_the_lead_unit(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        for text in TEXTS:
            await post(client, demo, text)
        await client.post("/v1/clusters/detect", headers=demo.headers("dispatcher"))
        (hot,) = (await client.get("/v1/clusters", headers=demo.headers("dispatcher"))).json()
        r = await client.post(
            f"/v1/clusters/{hot['id']}/assign",
            headers=demo.headers("dispatcher"),
            json={
                "lead_unit": "210124-D-WATER",
                "standard": "片区停水由水务局统一抢修并提前公告",
                "add_rule": True,
            },
        )
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["lead_unit"]) == ("assigned", "210124-D-WATER")
        assert r.json()["rule_id"]
        nxt = await post(client, demo, "东湖花园还是停水")
        assert nxt["route"]["method"] == "catalogue"
        assert nxt["route"]["unit_code"] == "210124-D-WATER"
        closed = await client.post(
            f"/v1/clusters/{hot['id']}/close", headers=demo.headers("dispatcher")
        )
        assert closed.json()["status"] == "closed"
        again = await client.post(
            f"/v1/clusters/{hot['id']}/assign",
            headers=demo.headers("dispatcher"),
            json={"lead_unit": "210124-D-WATER", "standard": "x"},
        )
        assert again.status_code == 409

    async def test_the_rule_is_policy_data(self, client: httpx.AsyncClient, demo: Demo) -> None:
        r = await client.get("/v1/clusters/rule", headers=demo.headers("viewer"))
        assert r.json() == {"min_size": 3, "window_days": 30, "threshold": 0.3}
        r = await client.put(
            "/v1/clusters/rule",
            headers=demo.headers("admin"),
            json={"min_size": 2, "window_days": 14, "threshold": 0.3},
        )
        assert r.status_code == 200
        for text in TEXTS[:2]:
            await post(client, demo, text)
        r = await client.post("/v1/clusters/detect", headers=demo.headers("dispatcher"))
        assert r.json()["found"] == 1
        assert (
            await client.put(
                "/v1/clusters/rule",
                headers=demo.headers("dispatcher"),
                json={"min_size": 2, "window_days": 14, "threshold": 0.3},
            )
        ).status_code == 403


class TestDetectionInterval:
    async def test_a_detection_by_any_process_holds_for_the_interval(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        # Remembered in the database: a second process taking the sweep's lock does not detect
        # again before the interval has passed since the first's detection.
        from datetime import UTC, datetime, timedelta

        from hotline.hotspot import service

        maker = app.state.sessionmaker
        now = datetime.now(UTC)
        assert await service.due(maker, now, 600)
        r = await client.post("/v1/clusters/detect", headers=demo.headers("dispatcher"))
        assert r.status_code == 200, r.text
        assert not await service.due(maker, datetime.now(UTC), 600)
        assert await service.due(maker, datetime.now(UTC) + timedelta(seconds=601), 600)
