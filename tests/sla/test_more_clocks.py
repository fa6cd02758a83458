"""The clocks that were missing: triage's dispatch clock, the group's ruling clock, a rework's
reply deadline, the 30-minute sign clock of water, power, gas and heating by category; and the
staged answer and termination a dispatcher reviews."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from hotline.jobs import sweep as sweeper
from tests.conftest import Clock, Demo

GRID = "210124100002001"
ROAD = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "路面塌陷",
    "caller": {"name": "张三", "phone": "13812345678"},
    "location": {"address": "东湖公园北侧"},
}
NOWHERE = {"address": "火星基地一号"}


async def post(client: httpx.AsyncClient, demo: Demo, **fields: Any) -> dict[str, Any]:
    r = await client.post("/v1/tickets", json={**ROAD, **fields}, headers=demo.headers("agent"))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def act(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    ticket: dict[str, Any],
    action: str,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    r = await client.post(f"/v1/tickets/{ticket['id']}/{action}", json=body or {}, headers=headers)
    assert r.status_code == 200, (action, r.text)
    return dict(r.json())


async def sweep(app: Any, at: datetime) -> sweeper.Report:
    return await sweeper.sweep(
        app.state.sessionmaker, app.state.routing, app.state.calendars, now=at
    )


async def story(client: httpx.AsyncClient, demo: Demo, ticket: dict[str, Any]) -> list[Any]:
    r = await client.get(f"/v1/tickets/{ticket['id']}/events", headers=demo.headers("admin"))
    return [(e["action"], e["details"].get("clock")) for e in r.json()]


class TestTriageClock:
    async def test_a_ticket_left_in_triage_is_reminded_then_overdue(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        start = clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo, location=NOWHERE)
        assert ticket["status"] == "triage"
        assert ticket["deadlines"]["triage_due_at"] == "2026-03-02T10:30:00+08:00"
        assert (await sweep(app, start + timedelta(minutes=25))).reminded == 1
        report = await sweep(app, start + timedelta(minutes=31))
        assert report.by_clock == {"triage": 1}
        assert report.escalated == 0  # the centre's own clock: nothing to climb
        assert (await story(client, demo, ticket))[-2:] == [
            ("reminded", "triage"),
            ("overdue", "triage"),
        ]

    async def test_a_return_to_triage_starts_it_again(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo)
        worker = demo.headers("worker", GRID)
        await act(client, worker, ticket, "return", {"reason_code": "other", "reason": "不清"})
        clock.set("2026-03-02T11:00:00+08:00")
        back = await act(
            client, demo.headers("dispatcher"), ticket, "return-decision", {"approve": True}
        )
        assert back["status"] == "triage"
        assert back["deadlines"]["triage_due_at"] == "2026-03-02T11:30:00+08:00"


class TestRulingClock:
    async def test_the_group_has_three_working_days(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        start = clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo)
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/escalate",
            json={"reason": "权属争议", "to_group": True},
            headers=demo.headers("dispatcher"),
        )
        assert r.json()["status"] == "arbitration"
        assert r.json()["deadlines"]["ruling_due_at"] == "2026-03-06T00:00:00+08:00"
        report = await sweep(app, start + timedelta(days=4))
        assert report.by_clock == {"ruling": 1}
        assert ("overdue", "ruling") in await story(client, demo, ticket)


class TestReworkClock:
    async def test_a_rework_has_its_own_reply_deadline(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo)
        worker = demo.headers("worker", GRID)
        await act(client, worker, ticket, "sign")
        await act(client, worker, ticket, "reply", {"text": "已修"})
        clock.set("2026-03-04T10:00:00+08:00")
        reworked = await act(
            client,
            demo.headers("agent"),
            ticket,
            "callback",
            {
                "reached": True,
                "resolution": "unresolved",
                "satisfaction": "unsatisfied",
                "unit_at_fault": True,
            },
        )
        assert reworked["status"] == "rework"
        assert reworked["deadlines"]["reply_due_at"] == "2026-03-12T00:00:00+08:00"
        clock.set("2026-03-05T09:00:00+08:00")
        signed = await act(client, worker, ticket, "sign")
        # Signing the rework keeps the rework's deadline.
        assert signed["deadlines"]["reply_due_at"] == "2026-03-12T00:00:00+08:00"
        report = await sweep(app, datetime.fromisoformat("2026-03-12T09:00:00+08:00"))
        assert report.by_clock == {"reply": 1}
        assert report.escalated == 1

    async def test_a_rework_replied_unsigned_is_late_after_its_deadline(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo)
        worker = demo.headers("worker", GRID)
        await act(client, worker, ticket, "sign")
        await act(client, worker, ticket, "reply", {"text": "已修"})
        clock.set("2026-03-04T10:00:00+08:00")
        await act(
            client,
            demo.headers("agent"),
            ticket,
            "callback",
            {
                "reached": True,
                "resolution": "unresolved",
                "satisfaction": "unsatisfied",
                "unit_at_fault": True,
            },
        )
        clock.set("2026-03-13T10:00:00+08:00")
        replied = await act(client, worker, ticket, "reply", {"text": "再修"})
        assert replied["reply"]["late"] is True


class TestUtilityCategories:
    async def test_water_is_signed_within_30_minutes_whatever_the_urgency(
        self, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        clock.set("2026-03-02T10:00:00+08:00")
        for category in ("utility.water", "utility.power", "utility.gas", "utility.heating"):
            ticket = await post(client, demo, category=category, content="停了两天")
            assert ticket["deadlines"]["sign_due_at"] == "2026-03-02T10:30:00+08:00", category
        emergency = await post(client, demo, category="utility.gas", urgency="emergency")
        assert emergency["deadlines"]["sign_due_at"] == "2026-03-02T10:15:00+08:00"
        road = await post(client, demo)
        assert road["deadlines"]["sign_due_at"] == "2026-03-04T00:00:00+08:00"


class TestStagedAnswer:
    async def test_a_dispatcher_approves_a_plan_and_the_reply_is_due_by_the_check_date(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo)
        worker = demo.headers("worker", GRID)
        await act(client, worker, ticket, "sign")
        plan = {"plan": "需列入春季道路维修计划", "next_check": "2026-04-15"}
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/staged-answer",
            json={**plan, "next_check": "2026-03-01"},
            headers=worker,
        )
        assert r.status_code == 422
        await act(client, worker, ticket, "staged-answer", plan)
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/staged-answer", json=plan, headers=worker
        )
        assert r.status_code == 409
        waiting = await client.get("/v1/staged-answers", headers=demo.headers("dispatcher"))
        assert [i["ticket"]["id"] for i in waiting.json()["items"]] == [ticket["id"]]
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/staged-answer-decision",
            json={"approve": True},
            headers=worker,
        )
        assert r.status_code == 403
        approved = await act(
            client, demo.headers("dispatcher"), ticket, "staged-answer-decision", {"approve": True}
        )
        assert approved["status"] == "signed"
        assert approved["staged"]["next_check"] == "2026-04-15"
        assert approved["deadlines"]["reply_due_at"] == "2026-04-16T00:00:00+08:00"
        figures = await client.get(
            "/v1/metrics/summary",
            params={"from": "2026-03-01", "to": "2026-03-31"},
            headers=demo.headers("viewer"),
        )
        counts = figures.json()["counts"]
        assert (counts["staged"], counts["closed"], counts["backlog"]) == (1, 0, 1)


class TestTermination:
    async def test_the_owner_proposes_and_a_dispatcher_reviews(
        self, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        clock.set("2026-03-02T10:00:00+08:00")
        ticket = await post(client, demo)
        worker = demo.headers("worker", GRID)
        await act(client, worker, ticket, "sign")
        await act(
            client,
            worker,
            ticket,
            "terminate",
            {"reason_code": "unreachable", "reason": "三次联系均无人接听"},
        )
        dispatcher = demo.headers("dispatcher")
        pending = (await client.get("/v1/terminations", headers=dispatcher)).json()["items"]
        assert [i["ticket"]["id"] for i in pending] == [ticket["id"]]
        kept = await act(client, dispatcher, ticket, "terminate-decision", {"approve": False})
        assert kept["status"] == "signed"
        await act(
            client,
            worker,
            ticket,
            "terminate",
            {"reason_code": "repeated", "reason": "重复诉求，无新情况"},
        )
        closed = await act(client, dispatcher, ticket, "terminate-decision", {"approve": True})
        assert (closed["status"], closed["close_reason"]) == ("closed", "terminated")
        figures = await client.get(
            "/v1/metrics/summary",
            params={"from": "2026-03-01", "to": "2026-03-31"},
            headers=demo.headers("viewer"),
        )
        body = figures.json()
        assert body["counts"]["terminated"] == 1
        # Dispatched and closed after review: in both parts of the completion rate.
        assert (
            body["rates"]["completion"]["numerator"],
            body["rates"]["completion"]["denominator"],
        ) == (1, 1)

    async def test_only_the_owner_proposes(
        self, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        ticket = await post(client, demo)
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/terminate",
            json={"reason_code": "unlawful", "reason": "x"},
            headers=demo.headers("worker", "210124100002002"),
        )
        assert r.status_code == 404
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/terminate",
            json={"reason_code": "unlawful", "reason": "x"},
            headers=demo.headers("agent"),
        )
        assert r.status_code == 403
