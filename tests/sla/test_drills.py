"""Drills of DESIGN.md §6 with the clock set by hand and the sweeper run as of an instant."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from hotline.jobs import sweep as sweeper
from tests.conftest import Clock, Demo

ROAD = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "路面塌陷",
    "location": {"address": "东湖公园北侧"},
}
GRID = "210124100002001"


async def post(client: httpx.AsyncClient, demo: Demo, **fields: Any) -> dict[str, Any]:
    r = await client.post("/v1/tickets", json={**ROAD, **fields}, headers=demo.headers("agent"))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def events(client: httpx.AsyncClient, demo: Demo, ticket: dict[str, Any]) -> list[Any]:
    r = await client.get(f"/v1/tickets/{ticket['id']}/events", headers=demo.headers("agent"))
    return list(r.json())


async def sweep(app: Any, at: datetime) -> sweeper.Report:
    return await sweeper.sweep(
        app.state.sessionmaker, app.state.routing, app.state.calendars, now=at
    )


class TestWorkingDays:
    async def test_last_working_day_before_national_day_signs_after_the_holiday(
        self, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        # 2026: National Day is 1–7 October; Wednesday 30 September is the last working day.
        clock.set("2026-09-30T15:00:00+08:00")
        ticket = await post(client, demo)
        assert ticket["deadlines"]["sign_due_at"] == "2026-10-09T00:00:00+08:00"
        assert ticket["deadlines"]["calendar_unknown_years"] == []

    async def test_friday_before_national_day_2025_counts_the_make_up_sunday(
        self, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        # 2025: Friday 26 September; Sunday 28 September is a make-up working day (调休).
        clock.set("2025-09-26T16:00:00+08:00")
        ticket = await post(client, demo)
        assert ticket["deadlines"]["sign_due_at"] == "2025-09-29T00:00:00+08:00"

    async def test_a_year_no_calendar_knows_is_flagged(
        self, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        clock.set("2031-03-03T10:00:00+08:00")
        ticket = await post(client, demo)
        assert ticket["deadlines"]["calendar_unknown_years"] == [2031]
        ready = (await client.get("/readyz")).json()["checks"]["calendar"]
        assert 2031 in ready["unknown_years"]
        assert "Monday to Friday" in ready["warning"]

    async def test_the_ticket_records_the_policy_that_set_each_deadline(
        self, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo, urgency="emergency")
        policies = (await client.get("/v1/policies", headers=demo.headers("admin"))).json()
        by_id = {p["id"]: p for p in policies}
        sign = by_id[ticket["deadlines"]["policies"]["sign"]]
        assert (sign["clock"], sign["urgency"], sign["amount"]) == ("sign", "emergency", 15)
        assert ticket["deadlines"]["sign_due_at"] == "2026-03-02T10:15:00+08:00"


class TestSweeper:
    async def test_an_emergency_unsigned_for_16_minutes_is_overdue_and_escalated(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        start = clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo, urgency="emergency")
        report = await sweep(app, start + timedelta(minutes=13))
        assert (report.reminded, report.overdue) == (1, 0)
        report = await sweep(app, start + timedelta(minutes=16))
        assert (report.overdue, report.escalated) == (1, 1)
        story = [
            (e["action"], e["details"].get("clock") or e["details"].get("rung"))
            for e in await events(client, demo, ticket)
        ]
        assert story[-3:] == [("reminded", "sign"), ("overdue", "sign"), ("escalated", "村/社区")]
        after = (
            await client.get(f"/v1/tickets/{ticket['id']}", headers=demo.headers("agent"))
        ).json()
        assert after["escalation_level"] == 1
        assert after["escalation_unit"] == "210124100002"
        assert after["status"] == "dispatched"
        # Nothing happens twice.
        again = await sweep(app, start + timedelta(minutes=30))
        assert (again.reminded, again.overdue, again.escalated) == (0, 0, 0)

    async def test_a_whistle_unanswered_for_31_minutes_escalates(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        start = clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo)
        worker = demo.headers("worker", GRID)
        await client.post(f"/v1/tickets/{ticket['id']}/sign", json={}, headers=worker)
        grid = (await client.get(f"/v1/grids/{GRID}", headers=demo.headers("admin"))).json()
        member = grid["properties"]["members"][0]["id"]
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/whistle",
            headers=worker,
            json={"reason": "需要部门到场", "level": "emergency", "members": [member]},
        )
        assert r.status_code == 200, r.text
        assert (await sweep(app, start + timedelta(minutes=29))).escalated == 0
        report = await sweep(app, start + timedelta(minutes=31))
        assert report.by_clock == {"report_in": 1}
        assert report.escalated == 1
        actions = [e["action"] for e in await events(client, demo, ticket)]
        assert actions[-2:] == ["overdue", "escalated"]

    async def test_the_ladder_climbs_to_the_group_and_arbitration(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo)
        dispatcher = demo.headers("dispatcher")
        rungs = []
        status = "dispatched"
        while status != "arbitration":
            r = await client.post(
                f"/v1/tickets/{ticket['id']}/escalate",
                json={"reason": "基层无法解决"},
                headers=dispatcher,
            )
            assert r.status_code == 200, r.text
            status = r.json()["status"]
            rungs.append((r.json()["escalation_level"], r.json()["escalation_unit"]))
        # A grid's ticket: its village, its township, the county (督办), the group.
        assert rungs == [
            (1, "210124100002"),
            (2, "210124100"),
            (3, "210124"),
            (4, "210124-QZ"),
        ]
        top = await client.post(
            f"/v1/tickets/{ticket['id']}/escalate", json={"reason": "再提"}, headers=dispatcher
        )
        assert top.status_code == 409

    async def test_a_department_matter_climbs_its_own_ladder_never_into_a_village(
        self, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        ticket = await post(client, demo, category="market.food")
        assert ticket["route"]["unit_code"] == "210124-D-MARKET"
        dispatcher = demo.headers("dispatcher")
        rungs = []
        for _ in range(3):
            r = await client.post(
                f"/v1/tickets/{ticket['id']}/escalate", json={"reason": "难"}, headers=dispatcher
            )
            assert r.status_code == 200, r.text
            rungs.append((r.json()["escalation_level"], r.json()["escalation_unit"]))
        # Its head, the county, the group.
        assert rungs == [(1, "210124-D-MARKET"), (2, "210124"), (3, "210124-QZ")]
        assert r.json()["status"] == "arbitration"

    async def test_only_the_owner_or_a_dispatcher_escalates(
        self, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        ticket = await post(client, demo)
        other = demo.headers("worker", "210124100002002")
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/escalate", json={"reason": "x"}, headers=other
        )
        assert r.status_code == 404
        mine = demo.headers("worker", GRID)
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/escalate", json={"reason": "难"}, headers=mine
        )
        assert r.status_code == 200
        assert r.json()["escalation_level"] == 1


class TestPolicies:
    async def test_a_new_policy_applies_to_clocks_started_after_it(
        self, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        clock.set("2026-03-02T10:00:00+08:00")
        before = await post(client, demo, category="environment.noise")
        r = await client.post(
            "/v1/policies",
            headers=demo.headers("admin"),
            json={
                "clock": "sign",
                "category": "environment.noise",
                "amount": 120,
                "unit": "minutes",
                "note": "噪声扰民2小时内签收",
            },
        )
        assert r.status_code == 201, r.text
        after = await post(client, demo, category="environment.noise")
        assert before["deadlines"]["sign_due_at"] == "2026-03-04T00:00:00+08:00"
        assert after["deadlines"]["sign_due_at"] == "2026-03-02T12:00:00+08:00"
        assert after["deadlines"]["policies"]["sign"] == r.json()["id"]
        again = (
            await client.get(f"/v1/tickets/{before['id']}", headers=demo.headers("agent"))
        ).json()
        assert again["deadlines"]["sign_due_at"] == before["deadlines"]["sign_due_at"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"clock": "sign", "amount": 0, "unit": "minutes"}, "amount"),
            ({"clock": "tea", "amount": 5, "unit": "minutes"}, "clock"),
            ({"clock": "sign", "amount": 5, "unit": "minutes", "level": "key"}, "level"),
            ({"clock": "sign", "amount": 5, "unit": "minutes", "category": "no.such"}, "category"),
        ],
    )
    async def test_bad_policies_are_422(
        self, client: httpx.AsyncClient, demo: Demo, body: dict[str, Any], field: str
    ) -> None:
        r = await client.post("/v1/policies", json=body, headers=demo.headers("admin"))
        assert r.status_code == 422
        problem = r.json()
        assert problem.get("field") == field or field in [e["field"] for e in problem["errors"]]

    async def test_deactivating_a_policy_falls_back_to_the_general_one(
        self, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        clock.set("2026-03-02T10:00:00+08:00")
        policies = (await client.get("/v1/policies", headers=demo.headers("admin"))).json()
        enterprise = next(p for p in policies if p["clock"] == "reply" and p["line"])
        r = await client.patch(
            f"/v1/policies/{enterprise['id']}",
            json={"active": False},
            headers=demo.headers("admin"),
        )
        assert r.json()["active"] is False
        assert (await client.get("/v1/policies", headers=demo.headers("viewer"))).status_code == 403
