"""A ruling holds: only a new ruling moves a designated ticket; the co-handlers it names read
the ticket, see it in their poll and report their part to the lead, who replies for all.
And a department-duty matter is not pushed down to a grid without a reason."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Demo
from tests.escalation.test_rulings import GRID, to_arbitration

HOUSING = "210124-D-HOUSING"
OTHER_GRID = "210124100002002"
VILLAGE = "210124100002"


async def ruled(client: httpx.AsyncClient, demo: Demo) -> dict[str, Any]:
    ticket = await to_arbitration(client, demo)
    r = await client.post(
        f"/v1/tickets/{ticket['id']}/ruling",
        headers=demo.headers("arbiter"),
        json={
            "lead_unit": GRID,
            "co_units": [HOUSING, VILLAGE],
            "reasoning": "道路位于东湖社区第一网格内，住建局、社区协办",
        },
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def act(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    ticket: dict[str, Any],
    action: str,
    body: dict[str, Any],
) -> httpx.Response:
    return await client.post(f"/v1/tickets/{ticket['id']}/{action}", json=body, headers=headers)


class TestRulingsHold:
    async def test_nobody_but_a_new_ruling_moves_a_designated_ticket(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await ruled(client, demo)
        assert ticket["ruling"]["lead_unit"] == GRID
        dispatcher = demo.headers("dispatcher")
        r = await act(client, dispatcher, ticket, "dispatch", {"unit_code": OTHER_GRID})
        assert r.status_code == 409
        problem = r.json()
        assert problem["code"] == "designated"
        assert problem["ruling"]["lead_unit"] == GRID
        assert "已由确责小组认定" in problem["detail"]
        assert "不能重新派遣" in problem["detail"]
        r = await act(
            client,
            demo.headers("worker", GRID),
            ticket,
            "return",
            {"reason_code": "not_our_area", "reason": "还是不归我们"},
        )
        assert (r.status_code, r.json()["code"]) == (409, "designated")
        r = await act(client, dispatcher, ticket, "close", {"reason": "redirected"})
        assert (r.status_code, r.json()["code"]) == (409, "designated")
        after = (
            await client.get(f"/v1/tickets/{ticket['id']}", headers=demo.headers("agent"))
        ).json()
        assert (after["status"], after["route"]["unit_code"]) == ("dispatched", GRID)
        # A new ruling of the group does move it.
        r = await act(
            client,
            demo.headers("arbiter"),
            ticket,
            "ruling",
            {"lead_unit": HOUSING, "reasoning": "复核：市政道路归住建局"},
        )
        assert r.status_code == 200, r.text
        assert (r.json()["route"]["unit_code"], r.json()["designated"]) == (HOUSING, True)
        assert r.json()["co_handlers"] == []

    async def test_co_handlers_read_poll_and_report_to_the_lead(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await ruled(client, demo)
        member = demo.headers("member", HOUSING)
        head = demo.headers("officer", HOUSING)
        village = demo.headers("officer", VILLAGE)
        for headers in (member, head, village):
            r = await client.get(f"/v1/tickets/{ticket['id']}", headers=headers)
            assert r.status_code == 200, r.text
            poll = (await client.get("/v1/assignments", headers=headers)).json()
            assert ticket["id"] in {i["ticket"]["id"] for i in poll["items"]}
        r = await act(client, member, ticket, "note", {"text": "已派人勘察"})
        assert r.status_code == 200, r.text
        r = await act(client, head, ticket, "co-report", {"text": "住建局已修复路基"})
        assert r.status_code == 200, r.text
        r = await act(client, village, ticket, "co_report", {"text": "社区已疏导居民"})
        assert r.status_code == 200, r.text
        # A unit the ruling did not name reports nothing.
        r = await act(
            client, demo.headers("officer", "210124-D-WATER"), ticket, "co-report", {"text": "x"}
        )
        assert r.status_code in (403, 404)
        # Co-handlers do not reply: the lead replies for all.
        r = await act(client, head, ticket, "reply", {"text": "已办"})
        assert r.status_code == 403
        worker = demo.headers("worker", GRID)
        assert (await act(client, worker, ticket, "sign", {})).status_code == 200
        r = await act(client, worker, ticket, "reply", {"text": "三方合力已修复"})
        assert r.status_code == 200, r.text
        reports = {c["unit_code"]: c["report"] for c in r.json()["reply"]["co_reports"]}
        assert reports == {HOUSING: "住建局已修复路基", VILLAGE: "社区已疏导居民"}
        timeline = (
            await client.get(f"/v1/tickets/{ticket['id']}/events", headers=demo.headers("admin"))
        ).json()
        assert [e["details"]["unit_code"] for e in timeline if e["action"] == "co_reported"] == [
            HOUSING,
            VILLAGE,
        ]


class TestDepartmentDuty:
    async def test_a_department_matter_goes_to_a_grid_only_with_a_reason(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        r = await client.post(
            "/v1/tickets",
            json={
                "kind": "complaint",
                "category": "market.food",
                "content": "餐馆食品变质",
                "location": {"address": "东湖公园北侧"},
            },
            headers=demo.headers("agent"),
        )
        ticket = r.json()
        assert ticket["route"]["unit_code"] == "210124-D-MARKET"
        dispatcher = demo.headers("dispatcher")
        r = await act(client, dispatcher, ticket, "dispatch", {"unit_code": GRID})
        assert r.status_code == 409
        assert r.json()["rule_id"] == ticket["route"]["rule_id"]
        assert "override_reason" in r.json()["detail"]
        r = await act(
            client,
            dispatcher,
            ticket,
            "dispatch",
            {"unit_code": GRID, "override_reason": "市场监管局委托网格先行劝导"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["route"]["unit_code"] == GRID
        # Between departments no reason is needed.
        r = await act(client, dispatcher, r.json(), "dispatch", {"unit_code": HOUSING})
        assert r.status_code == 200, r.text
