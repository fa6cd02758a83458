"""A November 2026 in the demo county for the reports, worked through the API.

T1  法库镇, grid 东湖第一网格: signed and replied on time, satisfied → closed
T2  the same grid: signed late, replied late, unsatisfied (unit at fault) → rework → signed,
    replied, basically satisfied → closed (figures follow the latest cycle)
T3  水务局 (utility.water, a department): signed, replied on time, unsatisfied, not the
    unit's fault → closed
T4  三面船镇: dispatched, never signed; a return asked and refused
T5  answered directly by the agent (直办): no handling unit
T6  created in October: outside the month
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Clock, Demo

GRID = "210124100002001"  # 东湖社区第一网格, 法库镇
TOWNSHIP = "210124100"
OTHER_TOWNSHIP = "210124102"
WATER = "210124-D-WATER"
ROAD = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "路面塌陷，车辆无法通行",
    "caller": {"name": "张三", "phone": "13812345678"},
    "location": {"address": "东湖公园北侧"},
}
SATISFIED = {"reached": True, "resolution": "resolved", "satisfaction": "satisfied"}
UNSATISFIED = {"reached": True, "resolution": "unresolved", "satisfaction": "unsatisfied"}


class History:
    def __init__(self, client: httpx.AsyncClient, demo: Demo, clock: Clock) -> None:
        self.client, self.demo, self.clock = client, demo, clock

    async def post(self, at: str, **fields: Any) -> dict[str, Any]:
        self.clock.set(at)
        r = await self.client.post(
            "/v1/tickets", json={**ROAD, **fields}, headers=self.demo.headers("agent")
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def act(
        self,
        at: str,
        ticket: dict[str, Any],
        action: str,
        role: str,
        body: dict[str, Any] | None = None,
        unit: str | None = None,
    ) -> dict[str, Any]:
        self.clock.set(at)
        headers = self.demo.headers(role, unit)
        r = await self.client.post(
            f"/v1/tickets/{ticket['id']}/{action}", json=body or {}, headers=headers
        )
        assert r.status_code == 200, (action, r.text)
        return dict(r.json())


async def november(client: httpx.AsyncClient, demo: Demo, clock: Clock) -> dict[str, Any]:
    """Make the month; returns the tickets by name."""
    h = History(client, demo, clock)
    t1 = await h.post("2026-11-02T10:00:00+08:00")
    await h.act("2026-11-02T11:00:00+08:00", t1, "sign", "worker", unit=GRID)
    await h.act("2026-11-03T10:00:00+08:00", t1, "reply", "worker", {"text": "已修复"}, GRID)
    await h.act("2026-11-04T10:00:00+08:00", t1, "callback", "agent", SATISFIED)

    t2 = await h.post("2026-11-02T10:05:00+08:00")
    await h.act("2026-11-05T09:00:00+08:00", t2, "sign", "worker", unit=GRID)
    await h.act("2026-11-13T09:00:00+08:00", t2, "reply", "worker", {"text": "已处理"}, GRID)
    await h.act(
        "2026-11-13T14:00:00+08:00", t2, "callback", "agent", {**UNSATISFIED, "unit_at_fault": True}
    )
    await h.act("2026-11-13T15:00:00+08:00", t2, "sign", "worker", unit=GRID)
    await h.act("2026-11-16T10:00:00+08:00", t2, "reply", "worker", {"text": "重新处理"}, GRID)
    await h.act(
        "2026-11-17T10:00:00+08:00",
        t2,
        "callback",
        "agent",
        {"reached": True, "resolution": "resolved", "satisfaction": "basic"},
    )

    t3 = await h.post(
        "2026-11-03T09:00:00+08:00", category="utility.water", content="自来水发黄，有异味"
    )
    assert t3["route"]["unit_code"] == WATER, t3["route"]
    await h.act("2026-11-03T10:00:00+08:00", t3, "sign", "member", unit=WATER)
    await h.act("2026-11-04T10:00:00+08:00", t3, "reply", "member", {"text": "已冲洗管网"}, WATER)
    await h.act("2026-11-05T10:00:00+08:00", t3, "callback", "agent", UNSATISFIED)

    t4 = await h.post("2026-11-03T09:20:00+08:00", location={"address": "三面船镇河东村河东屯"})
    worker = next(
        p["unit"]
        for p in demo.people
        if p["role"] == "worker" and p["unit"] == t4["route"]["unit_code"]
    )
    await h.act(
        "2026-11-03T11:00:00+08:00",
        t4,
        "return",
        "worker",
        {"reason_code": "not_our_area", "reason": "不属本网格"},
        worker,
    )
    await h.act(
        "2026-11-03T12:00:00+08:00",
        t4,
        "return-decision",
        "dispatcher",
        {"approve": False, "note": "属本网格"},
    )

    t5 = await h.post("2026-11-04T09:00:00+08:00")
    await h.act("2026-11-04T09:10:00+08:00", t5, "answer", "agent", {"text": "已电话答复"})

    t6 = await h.post("2026-10-20T10:00:00+08:00")
    clock.set("2026-12-01T09:00:00+08:00")
    return {"t1": t1, "t2": t2, "t3": t3, "t4": t4, "t5": t5, "t6": t6}
