"""Hard cases climb level by level to people who act on them (疑难诉求逐级化解): officers at
every level, a ladder per kind of owner with a clock on every rung, one rung per breach."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx

from hotline.jobs import sweep as sweeper
from tests.conftest import Clock, Demo

GRID = "210124100002001"  # 东湖社区第一网格
VILLAGE = "210124100002"  # 东湖社区
TOWNSHIP = "210124100"  # 法库镇
COUNTY = "210124"
GROUP = "210124-QZ"
OTHER_TOWNSHIP = "210124101"  # 大孤家子镇
MARKET = "210124-D-MARKET"
ROAD = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "路面塌陷无人处理",
    "caller": {"name": "张三", "phone": "13812345678"},
    "location": {"address": "东湖公园北侧"},
}


async def post(client: httpx.AsyncClient, demo: Demo, **fields: Any) -> dict[str, Any]:
    r = await client.post("/v1/tickets", json={**ROAD, **fields}, headers=demo.headers("agent"))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def sweep(app: Any, at: datetime) -> sweeper.Report:
    return await sweeper.sweep(
        app.state.sessionmaker, app.state.routing, app.state.calendars, now=at
    )


async def polled(client: httpx.AsyncClient, headers: dict[str, str]) -> set[int]:
    r = await client.get("/v1/assignments", headers=headers)
    assert r.status_code == 200, r.text
    return {i["ticket"]["id"] for i in r.json()["items"] if i["type"] == "ticket"}


async def read(client: httpx.AsyncClient, demo: Demo, ticket: dict[str, Any]) -> dict[str, Any]:
    r = await client.get(f"/v1/tickets/{ticket['id']}", headers=demo.headers("agent"))
    return dict(r.json())


async def events(client: httpx.AsyncClient, demo: Demo, ticket: dict[str, Any]) -> list[Any]:
    r = await client.get(f"/v1/tickets/{ticket['id']}/events", headers=demo.headers("admin"))
    return list(r.json())


def officer(demo: Demo, unit: str) -> dict[str, str]:
    return demo.headers("officer", unit)


async def subscribe(client: httpx.AsyncClient, demo: Demo, event_type: str) -> int:
    """A webhook for one event type; its id."""
    r = await client.post(
        "/v1/webhooks",
        json={"url": "https://sms.example/hook", "event_types": [event_type]},
        headers=demo.headers("admin"),
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def deliveries(client: httpx.AsyncClient, demo: Demo, hook: int) -> list[dict[str, Any]]:
    r = await client.get(f"/v1/webhooks/{hook}/deliveries", headers=demo.headers("admin"))
    return list(r.json())


class TestOfficers:
    async def test_every_level_of_the_demo_county_has_an_officer(self, demo: Demo) -> None:
        units = {p["unit"] for p in demo.people if p["role"] == "officer"}
        assert {VILLAGE, TOWNSHIP, COUNTY, MARKET} <= units
        assert len(units) == 6 + 21 + 8 + 1
        assert all(p.get("staff_id") for p in demo.people if p["role"] == "officer")

    async def test_an_officer_belongs_above_the_grid(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        admin = demo.headers("admin")
        r = await client.post(
            "/v1/staff",
            json={"name": "村支书", "role": "officer", "unit_code": VILLAGE},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        assert r.json()["role"] == "officer"
        r = await client.post(
            "/v1/staff", json={"name": "错", "role": "officer", "unit_code": GRID}, headers=admin
        )
        assert r.status_code == 422
        assert "网格只有网格员" in r.json()["detail"]
        r = await client.post(
            "/v1/staff", json={"name": "错", "role": "worker", "unit_code": VILLAGE}, headers=admin
        )
        assert r.status_code == 422

    async def test_an_officer_reads_the_units_below_masked_and_nothing_else(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post(client, demo)
        for unit in (VILLAGE, TOWNSHIP, COUNTY):
            r = await client.get(f"/v1/tickets/{ticket['id']}", headers=officer(demo, unit))
            assert r.status_code == 200, (unit, r.text)
            assert r.json()["caller"]["phone"] == "138****5678"
        r = await client.get(f"/v1/tickets/{ticket['id']}", headers=officer(demo, OTHER_TOWNSHIP))
        assert r.status_code == 404
        r = await client.get("/v1/tickets", headers=officer(demo, TOWNSHIP))
        assert [t["id"] for t in r.json()["items"]] == [ticket["id"]]
        r = await client.get("/v1/tickets", headers=officer(demo, OTHER_TOWNSHIP))
        assert r.json()["items"] == []
        # Not escalated to them: they read it but do not act on it.
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/sign", json={}, headers=officer(demo, TOWNSHIP)
        )
        assert r.status_code == 403

    async def test_a_department_officer_polls_and_signs_its_departments_ticket(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post(client, demo, category="market.food", content="餐馆食品变质")
        assert ticket["route"]["unit_code"] == MARKET
        head = officer(demo, MARKET)
        assert ticket["id"] in await polled(client, head)
        r = await client.post(f"/v1/tickets/{ticket['id']}/sign", json={}, headers=head)
        assert r.status_code == 200, r.text
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/reply", json={"text": "已查处"}, headers=head
        )
        assert r.status_code == 200, r.text
        assert r.json()["reply"]["by"] == demo.person("officer", MARKET)["name"]


class TestTheLadderClimbsByItself:
    async def test_a_ticket_nobody_signs_climbs_to_the_group_by_sweeps_alone(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        start = clock.set("2026-03-02T10:00:00+08:00")  # a Monday
        ticket = await post(client, demo)
        assert ticket["id"] not in await polled(client, officer(demo, VILLAGE))
        turns = [
            (2, VILLAGE, "village"),
            (6, TOWNSHIP, "township"),
            (14, COUNTY, "county"),
            (20, GROUP, "group"),
        ]
        for days, unit, rung in turns:
            report = await sweep(app, start + timedelta(days=days))
            assert report.escalated == 1, (days, report)
            now = await read(client, demo, ticket)
            assert (now["escalation_rung"], now["escalation_unit"]) == (rung, unit)
            if rung != "group":
                assert ticket["id"] in await polled(client, officer(demo, unit)), rung
                assert now["deadlines"]["escalation_due_at"] is not None
        assert now["status"] == "arbitration"
        assert now["deadlines"]["ruling_due_at"] is not None
        queue = (await client.get("/v1/arbitration", headers=demo.headers("arbiter"))).json()
        assert [e["ticket"]["id"] for e in queue] == [ticket["id"]]
        climbed = [e for e in await events(client, demo, ticket) if e["action"] == "escalated"]
        assert [e["details"]["trigger"] for e in climbed] == [
            "sign_overdue",
            "escalation_overdue",
            "escalation_overdue",
            "escalation_overdue",
        ]
        # The county rung is supervision (督办), on the record as such.
        assert now["supervision"]["source"] == "escalation"
        assert now["supervision"]["unit_code"] == COUNTY
        assert (await sweep(app, start + timedelta(days=30))).escalated == 0

    async def test_a_department_ticket_never_reaches_a_village(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        start = clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo, category="market.food", content="餐馆食品变质")
        for days in (2, 6, 14, 20, 30):
            await sweep(app, start + timedelta(days=days))
        climbed = [e for e in await events(client, demo, ticket) if e["action"] == "escalated"]
        assert [(e["details"]["kind"], e["details"]["unit_code"]) for e in climbed] == [
            ("department", MARKET),
            ("county", COUNTY),
            ("group", GROUP),
        ]
        assert (await read(client, demo, ticket))["status"] == "arbitration"

    async def test_the_enterprise_line_climbs_its_own_ladder(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        start = clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo, line="enterprise", content="企业开办手续受阻")
        assert ticket["route"]["unit_code"] == "210124-D-BUSINESS"
        await sweep(app, start + timedelta(days=2))
        now = await read(client, demo, ticket)
        assert (now["escalation_track"], now["escalation_rung"]) == ("enterprise", "department")
        await sweep(app, start + timedelta(days=6))
        # The line's own unit owns the ticket already: the next rung is the county.
        assert (await read(client, demo, ticket))["escalation_unit"] == COUNTY

    async def test_two_breaches_in_one_pass_climb_one_rung(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        start = clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo)
        worker = demo.headers("worker", GRID)
        await client.post(f"/v1/tickets/{ticket['id']}/sign", json={}, headers=worker)
        grid = (await client.get(f"/v1/grids/{GRID}", headers=demo.headers("admin"))).json()
        members = [m["id"] for m in grid["properties"]["members"][:2]]
        assert len(members) == 2
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/whistle",
            headers=worker,
            json={"reason": "需要部门到场", "level": "emergency", "members": members},
        )
        assert r.status_code == 200, r.text
        report = await sweep(app, start + timedelta(minutes=31))
        assert (report.overdue, report.escalated) == (2, 1)
        assert (await read(client, demo, ticket))["escalation_level"] == 1

    async def test_sweepers_at_once_climb_once(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        start = clock.set("2026-03-02T10:00:00+08:00")
        tickets = [await post(client, demo) for _ in range(5)]
        reports = await asyncio.gather(*(sweep(app, start + timedelta(days=2)) for _ in range(3)))
        assert sum(r.escalated for r in reports) == 5
        for ticket in tickets:
            assert (await read(client, demo, ticket))["escalation_level"] == 1

    async def test_acting_on_the_rung_stops_the_climb(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        start = clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo)
        await sweep(app, start + timedelta(days=2))
        clock.set("2026-03-04T11:00:00+08:00")
        # The village's officer takes the ticket over: the reply clock drives it now.
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/sign", json={}, headers=officer(demo, VILLAGE)
        )
        assert r.status_code == 200, r.text
        signed = r.json()
        assert signed["deadlines"]["escalation_due_at"] is None
        assert signed["deadlines"]["reply_due_at"] is not None
        assert (await sweep(app, start + timedelta(days=4))).escalated == 0
        # Its reply deadline runs out: one rung more.
        assert (await sweep(app, start + timedelta(days=12))).escalated == 1
        assert (await read(client, demo, ticket))["escalation_unit"] == TOWNSHIP

    async def test_a_note_on_an_overdue_ticket_only_buys_the_rung_a_day(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        start = clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo)
        await sweep(app, start + timedelta(days=2))
        clock.set("2026-03-05T20:00:00+08:00")
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/note",
            json={"text": "已联系网格员"},
            headers=officer(demo, VILLAGE),
        )
        assert r.status_code == 200, r.text
        # The rung's clock started again from the note: a working day more.
        assert r.json()["deadlines"]["escalation_due_at"] == "2026-03-07T00:00:00+08:00"
        assert (await sweep(app, start + timedelta(days=4, hours=2))).escalated == 0
        assert (await sweep(app, start + timedelta(days=5))).escalated == 1

    async def test_an_officer_sends_a_case_straight_to_the_group(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        start = clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo)
        await sweep(app, start + timedelta(days=2))
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/escalate",
            json={"reason": "权属争议", "to_group": True},
            headers=officer(demo, VILLAGE),
        )
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["escalation_rung"]) == ("arbitration", "group")
        worker = demo.headers("worker", GRID)
        other = await post(client, demo)
        r = await client.post(
            f"/v1/tickets/{other['id']}/escalate",
            json={"reason": "x", "to_group": True},
            headers=worker,
        )
        assert r.status_code == 403

    async def test_an_escalation_reaches_webhooks(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        hook = await subscribe(client, demo, "ticket.escalated")
        start = clock.set("2026-03-02T10:00:00+08:00")
        await post(client, demo)
        await sweep(app, start + timedelta(days=2))
        (delivery,) = await deliveries(client, demo, hook)
        data = delivery["payload"]["data"]
        assert data["ticket"]["escalation_unit_code"] == VILLAGE
        assert data["event"]["at"].endswith("+08:00")

    async def test_reaching_the_group_by_the_ladder_is_an_arbitration_as_by_returns(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        hook = await subscribe(client, demo, "ticket.arbitration")
        start = clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo)
        await sweep(app, start + timedelta(days=2))
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/escalate",
            json={"reason": "权属争议", "to_group": True},
            headers=officer(demo, VILLAGE),
        )
        assert r.json()["status"] == "arbitration"
        events = await client.get(
            f"/v1/tickets/{ticket['id']}/events", headers=demo.headers("dispatcher")
        )
        entered = [e for e in events.json() if e["action"] == "arbitration"]
        assert len(entered) == 1 and entered[0]["details"]["via"] == "escalation"
        (delivery,) = await deliveries(client, demo, hook)
        assert delivery["event_type"] == "ticket.arbitration"
        assert delivery["payload"]["data"]["ticket"]["state"] == "arbitration"


class TestOneTimeZone:
    async def test_times_written_by_the_api_carry_the_countys_offset(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        start = clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo)
        worker = demo.headers("worker", GRID)
        await client.post(f"/v1/tickets/{ticket['id']}/sign", json={}, headers=worker)
        grid = (await client.get(f"/v1/grids/{GRID}", headers=demo.headers("admin"))).json()
        member_id = grid["properties"]["members"][0]["id"]
        member = next(p for p in demo.people if p.get("staff_id") == member_id)
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/whistle",
            headers=worker,
            json={"reason": "需要部门", "level": "emergency", "members": [member_id]},
        )
        assert r.status_code == 200, r.text
        poll = await client.get(
            "/v1/assignments", headers={"Authorization": f"Bearer {member['key']}"}
        )
        (whistle,) = [i for i in poll.json()["items"] if i["type"] == "whistle"]
        assert whistle["summons"]["due_at"] == "2026-03-02T10:30:00+08:00"
        await sweep(app, start + timedelta(minutes=31))
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/escalate",
            json={"reason": "争议", "to_group": True},
            headers=demo.headers("dispatcher"),
        )
        assert r.status_code == 200, r.text
        timeline = await events(client, demo, ticket)
        stamped = [
            (e["action"], k, v)
            for e in timeline
            for k, v in e["details"].items()
            if k.endswith("_at") and v is not None
        ]
        assert stamped, "no instant in any event's details"
        assert all(str(v).endswith("+08:00") for _, _, v in stamped), stamped
        queue = (await client.get("/v1/arbitration", headers=demo.headers("arbiter"))).json()
        assert all(h["at"].endswith("+08:00") for h in queue[0]["history"])
