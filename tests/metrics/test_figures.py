"""Every figure against a history worked out by hand (DESIGN.md §7, docs/metrics.md).

March 2026, all but T5 in grid 东湖社区第一网格 (the clock set by hand for each step):

    T1  signed on time, whistle answered on time, replied on time, satisfied → closed
    T2  signed late, replied late, unsatisfied (unit at fault) → rework → signed, replied,
        basically satisfied → closed (figures follow the latest cycle)
    T3  answered directly (直办)
    T4  return asked and rejected; never signed (overdue now); escalated once; supervised
    T5  no place (triage), merged into T4: no ticket of its own, counted as merged only
    T6  signed, extension of 3 days approved, replied after even that; callback not reached
    T7  created in February: outside the period
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Clock, Demo

GRID = "210124100002001"
ROAD = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "路面塌陷",
    "caller": {"name": "张三", "phone": "13812345678"},
    "location": {"address": "东湖公园北侧"},
}
PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}


class History:
    def __init__(self, client: httpx.AsyncClient, demo: Demo, clock: Clock) -> None:
        self.client, self.demo, self.clock = client, demo, clock

    async def post(self, at: str, **fields: Any) -> int:
        self.clock.set(at)
        r = await self.client.post(
            "/v1/tickets", json={**ROAD, **fields}, headers=self.demo.headers("agent")
        )
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    async def act(
        self, at: str, ticket: int, action: str, role: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        self.clock.set(at)
        headers = self.demo.headers(role, GRID if role == "worker" else None)
        r = await self.client.post(
            f"/v1/tickets/{ticket}/{action}", json=body or {}, headers=headers
        )
        assert r.status_code == 200, (action, r.text)
        return dict(r.json())


SATISFIED = {"reached": True, "resolution": "resolved", "satisfaction": "satisfied"}


@pytest.fixture
async def history(client: httpx.AsyncClient, demo: Demo, clock: Clock) -> None:
    h = History(client, demo, clock)
    t1 = await h.post("2026-03-02T10:00:00+08:00")
    await h.act("2026-03-02T11:00:00+08:00", t1, "sign", "worker")
    grid = (await client.get(f"/v1/grids/{GRID}", headers=demo.headers("admin"))).json()
    member_id = grid["properties"]["members"][0]["id"]
    member = next(p for p in demo.people if p.get("staff_id") == member_id)
    await h.act(
        "2026-03-02T11:10:00+08:00",
        t1,
        "whistle",
        "worker",
        {"reason": "需要部门", "level": "routine", "members": [member_id]},
    )
    clock.set("2026-03-02T12:00:00+08:00")
    r = await client.post(
        f"/v1/tickets/{t1}/report-in", json={}, headers={"Authorization": f"Bearer {member['key']}"}
    )
    assert r.status_code == 200
    await h.act("2026-03-04T10:00:00+08:00", t1, "reply", "worker", {"text": "已修复"})
    await h.act("2026-03-05T10:00:00+08:00", t1, "callback", "agent", SATISFIED)

    t2 = await h.post("2026-03-02T10:05:00+08:00")
    await h.act("2026-03-05T09:00:00+08:00", t2, "sign", "worker")
    await h.act("2026-03-13T09:00:00+08:00", t2, "reply", "worker", {"text": "已处理"})
    await h.act(
        "2026-03-13T14:00:00+08:00",
        t2,
        "callback",
        "agent",
        {
            "reached": True,
            "resolution": "unresolved",
            "satisfaction": "unsatisfied",
            "unit_at_fault": True,
        },
    )
    await h.act("2026-03-13T15:00:00+08:00", t2, "sign", "worker")
    await h.act("2026-03-16T10:00:00+08:00", t2, "reply", "worker", {"text": "重新处理完毕"})
    await h.act(
        "2026-03-17T10:00:00+08:00",
        t2,
        "callback",
        "agent",
        {"reached": True, "resolution": "resolved", "satisfaction": "basic"},
    )

    t3 = await h.post("2026-03-03T09:00:00+08:00")
    await h.act("2026-03-03T09:10:00+08:00", t3, "answer", "agent", {"text": "已电话答复"})

    t4 = await h.post("2026-03-03T09:20:00+08:00")
    await h.act(
        "2026-03-03T11:00:00+08:00",
        t4,
        "return",
        "worker",
        {"reason_code": "not_our_area", "reason": "不属本网格"},
    )
    await h.act(
        "2026-03-03T12:00:00+08:00",
        t4,
        "return-decision",
        "dispatcher",
        {"approve": False, "note": "属本网格"},
    )
    await h.act("2026-03-03T12:30:00+08:00", t4, "escalate", "dispatcher", {"reason": "久拖"})
    await h.act(
        "2026-03-03T12:40:00+08:00", t4, "supervise", "dispatcher", {"level": "key", "note": "督办"}
    )

    t5 = await h.post("2026-03-03T09:30:00+08:00", location={"address": "火星"})
    await h.act("2026-03-03T09:40:00+08:00", t5, "merge", "agent", {"into": t4})

    t6 = await h.post("2026-03-04T10:00:00+08:00")
    await h.act("2026-03-04T11:00:00+08:00", t6, "sign", "worker")
    await h.act(
        "2026-03-05T10:00:00+08:00",
        t6,
        "extension",
        "worker",
        {"days": 3, "reason": "需要采购材料"},
    )
    await h.act(
        "2026-03-05T11:00:00+08:00", t6, "extension-decision", "dispatcher", {"approve": True}
    )
    await h.act("2026-03-17T10:00:00+08:00", t6, "reply", "worker", {"text": "完成"})
    await h.act("2026-03-17T11:00:00+08:00", t6, "callback", "agent", {"reached": False})

    await h.post("2026-02-20T10:00:00+08:00")  # T7
    clock.set("2026-04-01T09:00:00+08:00")


EXPECTED_COUNTS = {
    "received": 5,
    "merged": 1,
    "dispatched": 4,
    "answered_directly": 1,
    "closed": 3,
    "completed": 3,
    "redirected": 0,
    "terminated": 0,
    "backlog": 2,
    "overdue_now": 1,
    "signed": 3,
    "signed_on_time": 3,
    "replied": 3,
    "replied_on_time": 2,
    "callbacks_reached": 2,
    "resolved": 2,
    "satisfied": 2,
    "returned": 1,
    "reworked": 1,
    "escalated": 1,
    "ruled": 0,
    "supervised": 1,
    "staged": 0,
    "escalated_village": 1,
    "escalated_department": 0,
    "escalated_township": 0,
    "escalated_line": 0,
    "escalated_county": 0,
    "escalated_group": 0,
}
EXPECTED_RATES = {
    "completion": (3, 5),
    "on_time_completion": (2, 3),
    "on_time_signing": (3, 4),
    "response": (3, 4),
    "resolution": (2, 2),
    "satisfaction": (2, 2),
    "direct_answer": (1, 5),
    "return": (1, 4),
    "rework": (1, 3),
}


class TestSummary:
    async def test_every_figure_equals_the_hand_count(
        self, client: httpx.AsyncClient, demo: Demo, history: None
    ) -> None:
        r = await client.get("/v1/metrics/summary", params=PERIOD, headers=demo.headers("viewer"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["counts"] == EXPECTED_COUNTS
        for name, (numerator, denominator) in EXPECTED_RATES.items():
            rate = body["rates"][name]
            assert (rate["numerator"], rate["denominator"]) == (numerator, denominator), name
            assert rate["value"] == round(numerator / denominator, 4), name
        assert body["time_to_sign"] == {"avg_minutes": 60.0, "p90_minutes": 60.0}
        # Closed after 4320, 21595 and 10 minutes (T5, merged, is no ticket of its own).
        assert body["time_to_close"] == {"avg_minutes": 8641.7, "p90_minutes": 21595.0}
        assert body["whistles"]["summoned"] == 1
        assert body["whistles"]["report_in_on_time"]["value"] == 1.0
        assert body["escalations_by_level"] == {"village": 1}
        assert "13812345678" not in r.text and "张三" not in r.text

    async def test_a_rate_over_nothing_is_null(self, client: httpx.AsyncClient, demo: Demo) -> None:
        r = await client.get("/v1/metrics/summary", params=PERIOD, headers=demo.headers("viewer"))
        rates = r.json()["rates"]
        assert rates["completion"] == {
            **rates["completion"],
            "value": None,
            "numerator": 0,
            "denominator": 0,
        }

    async def test_filters_narrow_the_figures(
        self, client: httpx.AsyncClient, demo: Demo, history: None
    ) -> None:
        r = await client.get(
            "/v1/metrics/summary", params={**PERIOD, "grid": GRID}, headers=demo.headers("viewer")
        )
        assert r.json()["counts"]["received"] == 5
        r = await client.get(
            "/v1/metrics/summary",
            params={**PERIOD, "township": "210124100"},
            headers=demo.headers("viewer"),
        )
        assert r.json()["counts"]["received"] == 5
        assert r.json()["counts"]["merged"] == 0  # T5 lies nowhere
        r = await client.get(
            "/v1/metrics/summary",
            params={**PERIOD, "category": "utility.gas"},
            headers=demo.headers("viewer"),
        )
        assert r.json()["counts"]["received"] == 0


class TestBreakdownAndSeries:
    async def test_breakdown_by_grid_names_the_groups_and_sorts(
        self, client: httpx.AsyncClient, demo: Demo, history: None
    ) -> None:
        r = await client.get(
            "/v1/metrics/breakdown",
            params={**PERIOD, "by": "grid", "sort": "received"},
            headers=demo.headers("viewer"),
        )
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert [(i["key"], i["name"], i["counts"]["received"]) for i in items] == [
            (GRID, "东湖社区第一网格", 5),
            (None, None, 0),  # T5 alone, merged: shown, received nothing
        ]
        r = await client.get(
            "/v1/metrics/breakdown",
            params={**PERIOD, "by": "grid", "sort": "completion", "order": "asc"},
            headers=demo.headers("viewer"),
        )
        # T5's group has no completion rate (0 ÷ 0): it sorts last, ascending too.
        assert [i["key"] for i in r.json()["items"]] == [GRID, None]
        assert r.json()["items"][0]["rates"]["completion"]["value"] == 0.6

    async def test_by_worker_the_viewer_sees_staff_codes_and_the_centre_names(
        self, client: httpx.AsyncClient, demo: Demo, history: None
    ) -> None:
        worker = demo.person("worker", GRID)

        async def groups(role: str) -> list[tuple[Any, Any]]:
            r = await client.get(
                "/v1/metrics/breakdown",
                params={**PERIOD, "by": "worker"},
                headers=demo.headers(role),
            )
            assert r.status_code == 200, r.text
            return [(i["key"], i["name"]) for i in r.json()["items"] if i["key"] is not None]

        assert (worker["staff_id"], worker["name"]) in await groups("dispatcher")
        shown = await groups("viewer")
        assert (worker["staff_id"], f"S{worker['staff_id']}") in shown
        assert all(name != worker["name"] for _, name in shown)

    async def test_unknown_sort_is_422(self, client: httpx.AsyncClient, demo: Demo) -> None:
        r = await client.get(
            "/v1/metrics/breakdown",
            params={"by": "grid", "sort": "vibes"},
            headers=demo.headers("viewer"),
        )
        assert r.status_code == 422

    async def test_daily_series(self, client: httpx.AsyncClient, demo: Demo, history: None) -> None:
        r = await client.get(
            "/v1/metrics/timeseries",
            params={**PERIOD, "interval": "day"},
            headers=demo.headers("viewer"),
        )
        assert [(p["period"], p["counts"]["received"]) for p in r.json()["items"]] == [
            ("2026-03-02", 2),
            ("2026-03-03", 2),
            ("2026-03-04", 1),
        ]
        r = await client.get(
            "/v1/metrics/timeseries",
            params={**PERIOD, "interval": "week"},
            headers=demo.headers("viewer"),
        )
        assert [(p["period"], p["counts"]["received"]) for p in r.json()["items"]] == [
            ("2026-03-02", 5)
        ]
        r = await client.get(
            "/v1/metrics/timeseries",
            params={**PERIOD, "interval": "month"},
            headers=demo.headers("viewer"),
        )
        assert [p["period"] for p in r.json()["items"]] == ["2026-03-01"]


class TestAccess:
    async def test_the_viewer_reads_metrics_but_never_a_ticket(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        assert (
            await client.get("/v1/metrics/summary", headers=demo.headers("viewer"))
        ).status_code == 200
        assert (await client.get("/v1/tickets", headers=demo.headers("viewer"))).status_code == 403
        assert (
            await client.get("/v1/metrics/summary", headers=demo.headers("worker"))
        ).status_code == 403

    async def test_prometheus_text_is_labelled_by_route_template(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        await client.get("/v1/tickets/12345", headers=demo.headers("agent"))
        r = await client.get("/metrics")
        assert r.status_code == 200
        assert 'route="/v1/tickets/{ticket_id}"' in r.text
        assert "/v1/tickets/12345" not in r.text
        assert "hotline_tickets_overdue" in r.text
        assert "hotline_longpoll_waiters" in r.text
