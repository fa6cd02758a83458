"""Caller history (来电弹屏): GET /v1/callers/history and the create answer's caller_history."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Clock, Demo

PHONE = "13812345678"
OTHER = "13987654321"
ROAD = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "东湖公园北侧路面坑洼",
    "caller": {"name": "张三", "phone": PHONE},
    "location": {"address": "东湖公园北侧"},
}
HISTORY = "/v1/callers/history"


async def create(
    client: httpx.AsyncClient, demo: Demo, phone: str | None = PHONE, **fields: Any
) -> dict[str, Any]:
    caller = {"name": "张三", "phone": phone} if phone else {"name": "张三"}
    r = await client.post(
        "/v1/tickets", json={**ROAD, "caller": caller, **fields}, headers=demo.headers("agent")
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def history(
    client: httpx.AsyncClient, demo: Demo, phone: str = PHONE, role: str = "agent", **params: Any
) -> dict[str, Any]:
    r = await client.get(HISTORY, params={"phone": phone, **params}, headers=demo.headers(role))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def answer(client: httpx.AsyncClient, demo: Demo, ticket: dict[str, Any]) -> None:
    r = await client.post(
        f"/v1/tickets/{ticket['id']}/answer", json={"text": "已解答"}, headers=demo.headers("agent")
    )
    assert r.status_code == 200, r.text


class TestHistory:
    @pytest.mark.parametrize("role", ["agent", "dispatcher"])
    async def test_the_callers_tickets_newest_first_and_no_one_elses(
        self, client: httpx.AsyncClient, demo: Demo, clock: Clock, role: str
    ) -> None:
        clock.set("2026-06-02T09:00:00+08:00")
        first = await create(client, demo)
        await create(client, demo, phone=OTHER)
        clock.set("2026-06-03T09:00:00+08:00")
        second = await create(client, demo, caller={"name": "张三", "phone": PHONE})
        found = await history(client, demo, role=role)
        assert [t["id"] for t in found["items"]] == [second["id"], first["id"]]
        assert found["phone"] == PHONE
        assert found["items"][0]["caller"]["phone"] == PHONE  # the call-takers see it in full
        assert found["last_ticket"] == {
            "id": second["id"],
            "number": second["number"],
            "created_at": second["created_at"],
            "status": second["status"],
            "category": "urban.road",
        }

    async def test_open_counts_the_tickets_not_closed(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        tickets = [await create(client, demo) for _ in range(3)]
        await answer(client, demo, tickets[0])
        found = await history(client, demo)
        assert (found["open"], len(found["items"])) == (2, 3)
        assert found["items"][-1]["status"] == "closed"

    async def test_this_month_is_the_countys_calendar_month(
        self, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        clock.set("2026-05-31T23:30:00+08:00")  # May in the county (15:30 UTC)
        await create(client, demo)
        clock.set("2026-06-01T00:30:00+08:00")  # June in the county, still May 31 in UTC
        await create(client, demo)
        clock.set("2026-06-20T10:00:00+08:00")
        await create(client, demo)
        found = await history(client, demo)
        assert (found["this_month"], found["open"], len(found["items"])) == (2, 3, 3)
        clock.set("2026-07-01T08:00:00+08:00")
        assert (await history(client, demo))["this_month"] == 0

    async def test_any_form_of_the_number_finds_it(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await create(client, demo, phone="138 1234 5678")
        for form in ("13812345678", "+86 138-1234-5678", "138 1234 5678"):
            found = await history(client, demo, phone=form)
            assert [t["id"] for t in found["items"]] == [ticket["id"]], form
            assert found["phone"] == PHONE

    async def test_a_number_from_abroad_is_found_as_given(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        r = await client.post(
            "/open311/v2/requests.json",
            data={
                "api_key": demo.person("agent")["key"],
                "service_code": "urban.road",
                "description": "路面塌陷，井盖缺失",
                "address_string": "法库镇东湖公园北门",
                "phone": "+1 202 555 0100",
            },
        )
        assert r.status_code == 200, r.text
        found = await history(client, demo, phone="+1  202 555 0100")
        assert found["phone"] == "+1 202 555 0100"
        assert [t["id"] for t in found["items"]] == [int(r.json()[0]["service_request_id"])]

    async def test_a_confidential_caller_is_shown_to_the_call_takers(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await create(client, demo, caller={"phone": PHONE, "confidential": True})
        found = await history(client, demo, role="dispatcher")
        assert [t["caller"] for t in found["items"] if t["id"] == ticket["id"]] == [
            {"name": None, "phone": PHONE, "confidential": True, "masked": False}
        ]

    async def test_an_unknown_caller_has_an_empty_history(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        await create(client, demo)
        found = await history(client, demo, phone=OTHER)
        assert found == {
            "phone": OTHER,
            "open": 0,
            "this_month": 0,
            "last_ticket": None,
            "items": [],
            "next_cursor": None,
        }

    async def test_pages_follow_the_cursor_and_keep_the_summary(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        made = [(await create(client, demo))["id"] for _ in range(5)]
        seen: list[int] = []
        cursor = None
        while True:
            found = await history(client, demo, limit=2, **({"cursor": cursor} if cursor else {}))
            assert (found["open"], found["last_ticket"]["id"]) == (5, made[-1])
            seen += [t["id"] for t in found["items"]]
            cursor = found["next_cursor"]
            if cursor is None:
                break
        assert seen == made[::-1]

    async def test_a_ticket_list_cursor_is_refused(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        for _ in range(2):
            await create(client, demo)
        r = await client.get("/v1/tickets", params={"limit": 1}, headers=demo.headers("agent"))
        cursor = r.json()["next_cursor"]
        r = await client.get(
            HISTORY, params={"phone": PHONE, "cursor": cursor}, headers=demo.headers("agent")
        )
        assert r.status_code == 422, r.text

    @pytest.mark.parametrize("role", ["worker", "viewer", "admin", "arbiter", "officer", "member"])
    async def test_other_roles_are_refused(
        self, client: httpx.AsyncClient, demo: Demo, role: str
    ) -> None:
        await create(client, demo)
        r = await client.get(HISTORY, params={"phone": PHONE}, headers=demo.headers(role))
        assert r.status_code == 403, r.text
        assert r.headers["content-type"] == "application/problem+json"

    async def test_the_read_is_audited(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await create(client, demo)
        await history(client, demo, role="dispatcher")
        r = await client.get("/v1/audit/pii-reads", headers=demo.headers("admin"))
        newest = r.json()[0]
        assert (newest["path"], newest["actor_role"], newest["ticket_ids"]) == (
            HISTORY,
            "dispatcher",
            [ticket["id"]],
        )
        assert PHONE not in r.text  # the record names tickets, not the number asked for


class TestCreateAnswer:
    async def test_the_first_call_has_no_history_the_next_counts_the_earlier(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        first = await create(client, demo)
        assert first["caller_history"] == {"open": 0, "this_month": 0, "last_ticket": None}
        second = await create(client, demo)
        assert second["caller_history"]["open"] == 1  # the earlier one, not itself
        assert second["caller_history"]["this_month"] == 1
        assert second["caller_history"]["last_ticket"]["id"] == first["id"]
        await answer(client, demo, first)
        third = await create(client, demo)
        assert third["caller_history"]["open"] == 1  # the second; the first is closed
        assert third["caller_history"]["this_month"] == 2
        assert third["caller_history"]["last_ticket"]["id"] == second["id"]

    async def test_no_phone_no_history(self, client: httpx.AsyncClient, demo: Demo) -> None:
        await create(client, demo)
        assert (await create(client, demo, phone=None))["caller_history"] is None

    async def test_a_replay_answers_the_tickets_before_the_first(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        earlier = await create(client, demo)
        headers = {**demo.headers("agent"), "Idempotency-Key": "call-1"}
        first = await client.post("/v1/tickets", json=ROAD, headers=headers)
        await create(client, demo)  # a later ticket does not count for the replay
        again = await client.post("/v1/tickets", json=ROAD, headers=headers)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json()["id"] == first.json()["id"]
        assert again.json()["caller_history"] == first.json()["caller_history"]
        assert again.json()["caller_history"]["last_ticket"]["id"] == earlier["id"]

    async def test_other_reads_do_not_carry_it(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await create(client, demo)
        r = await client.get(f"/v1/tickets/{ticket['id']}", headers=demo.headers("agent"))
        assert "caller_history" in ticket and "caller_history" not in r.json()
