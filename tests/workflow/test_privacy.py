"""Callers' personal data (DESIGN.md §8) on every read path, the record of unmasked reads, and
repeat detection by a keyed hash of the phone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from hotline.auth.roles import Role
from tests.conftest import Demo, mint

GRID = "210124100002001"  # 东湖社区第一网格: where 东湖公园 routes
SIBLING = "210124100002002"  # another grid of the same village (东湖社区)
ELSEWHERE = "210124100001001"  # a grid of another village
OTHER_GRID = "210124100001002"
WATER = "210124-D-WATER"
PHONE, MASKED = "13812345678", "138****5678"
CALLER = {"name": "张三", "phone": PHONE}
ROAD = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "东湖公园北侧路面坑洼，井盖缺失",
    "caller": CALLER,
    "location": {"address": "东湖公园北侧"},
}
FULL = {"name": "张三", "phone": PHONE, "confidential": False, "masked": False}
PARTLY = {"name": "张三", "phone": MASKED, "confidential": False, "masked": True}
HIDDEN = {"name": None, "phone": None, "confidential": True, "masked": True}


# --- helpers ------------------------------------------------------------------------------------


async def post_ticket(client: httpx.AsyncClient, demo: Demo, **fields: Any) -> dict[str, Any]:
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
    assert r.status_code == 200, r.text
    return dict(r.json())


async def add_worker(
    client: httpx.AsyncClient, app: Any, demo: Demo, grid: str = GRID
) -> dict[str, str]:
    """Headers of a second worker of ``grid``: it sees the grid's tickets without owning them."""
    r = await client.post(
        "/v1/staff",
        json={"name": "同格网格员", "role": "worker", "unit_code": grid},
        headers=demo.headers("admin"),
    )
    assert r.status_code == 201, r.text
    headers, _ = await mint(app, Role.worker, "同格网格员", grid, r.json()["id"])
    return headers


def auth(person: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {person['key']}"}


async def seen_by(
    client: httpx.AsyncClient, headers: dict[str, str], ticket: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The ticket's caller as these headers get it on every path they may read."""
    views: dict[str, dict[str, Any]] = {}
    r = await client.get(f"/v1/tickets/{ticket['id']}", headers=headers)
    assert r.status_code == 200, r.text
    views["ticket"] = r.json()["caller"]
    r = await client.get("/v1/tickets", headers=headers)
    assert r.status_code == 200, r.text
    views["list"] = next(t["caller"] for t in r.json()["items"] if t["id"] == ticket["id"])
    r = await client.get("/v1/assignments", headers=headers)
    if r.status_code == 200:
        views["assignments"] = next(
            a["ticket"]["caller"] for a in r.json()["items"] if a["ticket"]["id"] == ticket["id"]
        )
    return views


async def pii_reads(client: httpx.AsyncClient, demo: Demo) -> list[dict[str, Any]]:
    r = await client.get("/v1/audit/pii-reads", headers=demo.headers("admin"))
    assert r.status_code == 200, r.text
    return list(r.json())


# --- masking ------------------------------------------------------------------------------------


class TestCentre:
    @pytest.mark.parametrize("role", ["agent", "dispatcher", "arbiter", "admin"])
    async def test_the_centre_sees_the_caller_in_full(
        self, client: httpx.AsyncClient, demo: Demo, role: str
    ) -> None:
        ticket = await post_ticket(client, demo)
        views = await seen_by(client, demo.headers(role), ticket)
        assert views == {"ticket": FULL, "list": FULL}

    @pytest.mark.parametrize("role", ["agent", "dispatcher"])
    async def test_the_call_takers_see_a_confidential_caller_audited(
        self, client: httpx.AsyncClient, demo: Demo, role: str
    ) -> None:
        ticket = await post_ticket(client, demo, caller={**CALLER, "confidential": True})
        before = len(await pii_reads(client, demo))
        views = await seen_by(client, demo.headers(role), ticket)
        assert views == {"ticket": {**FULL, "confidential": True}} | {
            "list": {**FULL, "confidential": True}
        }
        assert len(await pii_reads(client, demo)) > before

    @pytest.mark.parametrize("role", ["arbiter", "admin"])
    async def test_the_group_and_the_operator_do_not_see_a_confidential_caller(
        self, client: httpx.AsyncClient, demo: Demo, role: str
    ) -> None:
        older = await post_ticket(client, demo)
        ticket = await post_ticket(client, demo, caller={**CALLER, "confidential": True})
        before = len(await pii_reads(client, demo))
        assert await seen_by(client, demo.headers(role), ticket) == {
            "ticket": HIDDEN,
            "list": HIDDEN,
        }
        merged = await post_ticket(
            client, demo, caller={"name": "李四", "phone": "13912345678", "confidential": True}
        )
        await act(client, demo.headers("agent"), merged, "merge", {"into": older["id"]})
        r = await client.get(f"/v1/tickets/{older['id']}", headers=demo.headers(role))
        assert r.json()["caller"] == FULL  # not confidential: the centre sees it
        assert r.json()["extra_callers"] == [HIDDEN]
        r = await client.get(f"/v1/tickets/{ticket['id']}", headers=demo.headers(role))
        # Only the reads of the non-confidential caller are recorded.
        reads = await pii_reads(client, demo)
        assert all(ticket["id"] not in read["ticket_ids"] for read in reads[: len(reads) - before])

    async def test_the_queues_show_the_centre_the_caller(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        dispatcher = demo.headers("dispatcher")
        waiting = await post_ticket(client, demo, location={"address": "火星基地一号"})
        returned = await post_ticket(client, demo)
        await act(
            client,
            demo.headers("worker", GRID),
            returned,
            "return",
            {"reason_code": "not_our_area", "reason": "不属本网格"},
        )
        r = await client.get("/v1/triage", headers=dispatcher)
        assert [(t["id"], t["caller"]) for t in r.json()] == [(waiting["id"], FULL)]
        r = await client.get("/v1/returns", headers=dispatcher)
        assert [i["ticket"]["caller"] for i in r.json()["items"]] == [FULL]


class TestWorkers:
    async def test_a_worker_of_the_grid_who_is_not_the_assignee_sees_a_masked_phone(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        colleague = await add_worker(client, app, demo)
        views = await seen_by(client, colleague, ticket)
        assert views == {"ticket": PARTLY, "list": PARTLY, "assignments": PARTLY}

    async def test_the_assignee_sees_the_caller_in_full(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        views = await seen_by(client, demo.headers("worker", GRID), ticket)
        assert views == {"ticket": FULL, "list": FULL, "assignments": FULL}

    async def test_the_action_answers_are_masked_as_well(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        signed = await act(client, demo.headers("worker", GRID), ticket, "sign")
        assert signed["caller"] == FULL
        # A dispatcher's note answers the dispatcher in full; the grid's other worker masked.
        noted = await act(client, demo.headers("dispatcher"), ticket, "note", {"text": "已催办"})
        assert noted["caller"] == FULL
        colleague = await add_worker(client, app, demo)
        r = await client.get(f"/v1/tickets/{ticket['id']}", headers=colleague)
        assert r.json()["caller"] == PARTLY

    async def test_another_grids_worker_reads_nothing(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        other = demo.headers("worker", OTHER_GRID)
        assert (await client.get(f"/v1/tickets/{ticket['id']}", headers=other)).status_code == 404
        r = await client.get(f"/v1/tickets/{ticket['id']}/events", headers=other)
        assert r.status_code == 404
        assert (await client.get("/v1/tickets", headers=other)).json()["items"] == []


class TestMembers:
    async def test_a_member_sees_the_department_ticket_masked_until_it_is_theirs(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo, category="utility.water")
        member = demo.person("member", WATER)
        assert await seen_by(client, auth(member), ticket) == {
            "ticket": PARTLY,
            "list": PARTLY,
            "assignments": PARTLY,
        }
        await act(client, auth(member), ticket, "sign")
        views = await seen_by(client, auth(member), ticket)
        assert views == {"ticket": FULL, "list": FULL, "assignments": FULL}

    async def test_a_summoned_member_sees_a_masked_phone(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        worker = demo.headers("worker", GRID)
        await act(client, worker, ticket, "sign")
        await act(client, worker, ticket, "whistle", {"reason": "需要配合", "departments": [WATER]})
        member = auth(demo.person("member", WATER))
        r = await client.get(f"/v1/tickets/{ticket['id']}", headers=member)
        assert r.json()["caller"] == PARTLY
        r = await client.get("/v1/assignments", headers=member)
        (summons,) = [a for a in r.json()["items"] if a["type"] == "whistle"]
        assert summons["ticket"]["caller"] == PARTLY


class TestConfidential:
    async def test_a_confidential_caller_is_hidden_from_every_field_role(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo, caller={**CALLER, "confidential": True})
        hidden = {"ticket": HIDDEN, "list": HIDDEN, "assignments": HIDDEN}
        assert await seen_by(client, demo.headers("worker", GRID), ticket) == hidden
        assert await seen_by(client, await add_worker(client, app, demo), ticket) == hidden
        signed = await act(client, demo.headers("worker", GRID), ticket, "sign")
        assert signed["caller"] == HIDDEN

    async def test_a_report_is_confidential_by_default(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo, kind="report", content="有人在东湖公园倾倒渣土")
        assert ticket["caller"] == {**FULL, "confidential": True}  # the agent still sees them
        views = await seen_by(client, demo.headers("worker", GRID), ticket)
        assert views == {"ticket": HIDDEN, "list": HIDDEN, "assignments": HIDDEN}

    async def test_a_confidential_department_ticket_is_hidden_from_its_members(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(
            client, demo, category="utility.water", caller={**CALLER, "confidential": True}
        )
        member = auth(demo.person("member", WATER))
        await act(client, member, ticket, "sign")
        r = await client.get(f"/v1/tickets/{ticket['id']}", headers=member)
        assert r.json()["caller"] == HIDDEN

    async def test_a_merged_confidential_caller_stays_hidden(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        older = await post_ticket(client, demo)
        newer = await post_ticket(
            client,
            demo,
            caller={"name": "李四", "phone": "13912345678", "confidential": True},
        )
        await act(client, demo.headers("agent"), newer, "merge", {"into": older["id"]})
        r = await client.get(f"/v1/tickets/{older['id']}", headers=demo.headers("worker", GRID))
        assert r.json()["caller"] == FULL
        assert r.json()["extra_callers"] == [HIDDEN]


class TestEvents:
    async def test_the_timeline_carries_no_phone(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        older = await post_ticket(client, demo)
        newer = await post_ticket(client, demo, caller={"name": "李四", "phone": "13912345678"})
        await act(client, demo.headers("agent"), newer, "merge", {"into": older["id"]})
        worker = demo.headers("worker", GRID)
        await act(client, worker, older, "sign")
        await act(client, worker, older, "reply", {"text": "已修补"})
        await act(
            client,
            demo.headers("agent"),
            older,
            "callback",
            {"reached": True, "resolution": "resolved", "satisfaction": "satisfied"},
        )
        for headers in (demo.headers("admin"), worker):
            for ticket in (older, newer):
                r = await client.get(f"/v1/tickets/{ticket['id']}/events", headers=headers)
                assert r.status_code == 200
                assert len(r.json()) >= 2
                for phone in (PHONE, "13912345678", MASKED, "139****5678"):
                    assert phone not in r.text


class TestViewer:
    async def test_the_viewer_reads_no_ticket(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await post_ticket(client, demo)
        viewer = demo.headers("viewer")
        for path in (
            f"/v1/tickets/{ticket['id']}",
            f"/v1/tickets/{ticket['id']}/events",
            "/v1/tickets",
            "/v1/assignments",
        ):
            r = await client.get(path, headers=viewer)
            assert r.status_code == 403, path
            assert r.headers["content-type"] == "application/problem+json"
            assert PHONE not in r.text

    async def test_the_viewer_acts_on_no_ticket(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/note", json={"text": "x"}, headers=demo.headers("viewer")
        )
        assert r.status_code == 403
        assert PHONE not in r.text


# --- the record of unmasked reads ---------------------------------------------------------------


class TestPiiReads:
    async def test_an_unmasked_read_is_recorded_with_the_ticket(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        assert await pii_reads(client, demo) == []
        r = await client.get(f"/v1/tickets/{ticket['id']}", headers=demo.headers("dispatcher"))
        assert r.status_code == 200
        (read,) = await pii_reads(client, demo)
        assert read["ticket_ids"] == [ticket["id"]]
        assert read["actor_role"] == "dispatcher"
        assert read["actor_name"] == demo.person("dispatcher")["name"]
        assert read["path"] == f"/v1/tickets/{ticket['id']}"

    async def test_the_assignees_read_is_recorded(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        await client.get(f"/v1/tickets/{ticket['id']}", headers=demo.headers("worker", GRID))
        (read,) = await pii_reads(client, demo)
        assert (read["actor_role"], read["ticket_ids"]) == ("worker", [ticket["id"]])

    async def test_a_masked_read_is_not_recorded(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        colleague = await add_worker(client, app, demo)
        r = await client.get(f"/v1/tickets/{ticket['id']}", headers=colleague)
        assert r.json()["caller"]["phone"] == MASKED
        assert await pii_reads(client, demo) == []

    async def test_a_hidden_caller_read_is_not_recorded(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo, kind="report")
        await client.get(f"/v1/tickets/{ticket['id']}", headers=demo.headers("worker", GRID))
        assert await pii_reads(client, demo) == []

    async def test_a_list_records_the_unmasked_tickets_it_showed(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        first = await post_ticket(client, demo)
        anonymous = await post_ticket(client, demo, caller={})
        second = await post_ticket(client, demo, caller={"phone": "13912345678"})
        await client.get("/v1/tickets", headers=demo.headers("agent"))
        (read,) = await pii_reads(client, demo)
        assert read["ticket_ids"] == [first["id"], second["id"]]
        assert anonymous["id"] not in read["ticket_ids"]
        assert read["path"] == "/v1/tickets"

    async def test_a_queue_read_is_recorded(self, client: httpx.AsyncClient, demo: Demo) -> None:
        dispatcher, worker = demo.headers("dispatcher"), demo.headers("worker", GRID)
        waiting = await post_ticket(client, demo, location={"address": "火星基地一号"})
        returned = await post_ticket(client, demo)
        await act(client, worker, returned, "return", {"reason_code": "other", "reason": "x"})
        longer = await post_ticket(client, demo, caller={"phone": "13912345678"})
        await act(client, worker, longer, "sign")
        await act(client, worker, longer, "extension", {"days": 2, "reason": "x"})
        for queue in ("triage", "returns", "extensions"):
            r = await client.get(f"/v1/{queue}", headers=dispatcher)
            assert r.status_code == 200
        reads = await pii_reads(client, demo)  # newest first
        queues = [x for x in reads if not x["path"].endswith("(action)")]
        assert [(x["path"], x["ticket_ids"], x["actor_role"]) for x in queues] == [
            ("/v1/extensions", [longer["id"]], "dispatcher"),
            ("/v1/returns", [returned["id"]], "dispatcher"),
            ("/v1/triage", [waiting["id"]], "dispatcher"),
        ]

    async def test_an_action_answer_with_a_full_phone_is_recorded(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        await act(client, demo.headers("worker", GRID), ticket, "sign")
        reads = await pii_reads(client, demo)
        assert (reads[0]["path"], reads[0]["ticket_ids"], reads[0]["actor_role"]) == (
            f"/v1/tickets/{ticket['id']} (action)",
            [ticket["id"]],
            "worker",
        )

    async def test_only_the_admin_reads_the_record(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        for role, unit in (("agent", None), ("dispatcher", None), ("worker", GRID)):
            r = await client.get("/v1/audit/pii-reads", headers=demo.headers(role, unit))
            assert r.status_code == 403


# --- repeat detection ---------------------------------------------------------------------------


class TestRepeats:
    async def test_the_same_caller_category_and_village_while_open_is_a_repeat(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        first = await post_ticket(client, demo)
        assert first["possible_repeat_of"] is None
        second = await post_ticket(client, demo, content="井盖还是没修")
        assert second["possible_repeat_of"] == first["id"]
        third = await post_ticket(
            client, demo, caller={"name": "张三", "phone": "+86 138 1234 5678"}
        )
        assert third["possible_repeat_of"] == first["id"]

    async def test_another_grid_of_the_same_village_is_a_repeat(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        first = await post_ticket(client, demo)
        second = await post_ticket(client, demo, location={"grid_code": SIBLING})
        assert second["route"]["grid_code"] == SIBLING
        assert second["possible_repeat_of"] == first["id"]

    async def test_another_village_is_not(self, client: httpx.AsyncClient, demo: Demo) -> None:
        await post_ticket(client, demo)
        second = await post_ticket(client, demo, location={"grid_code": ELSEWHERE})
        assert second["possible_repeat_of"] is None

    async def test_a_different_category_is_not(self, client: httpx.AsyncClient, demo: Demo) -> None:
        await post_ticket(client, demo)
        second = await post_ticket(client, demo, category="urban.lighting", content="路灯不亮")
        assert second["possible_repeat_of"] is None

    async def test_a_different_caller_is_not(self, client: httpx.AsyncClient, demo: Demo) -> None:
        await post_ticket(client, demo)
        second = await post_ticket(client, demo, caller={"name": "李四", "phone": "13912345678"})
        assert second["possible_repeat_of"] is None

    async def test_after_the_first_is_closed_it_is_not(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        first = await post_ticket(client, demo)
        await act(client, demo.headers("agent"), first, "answer", {"text": "已解答"})
        second = await post_ticket(client, demo)
        assert second["possible_repeat_of"] is None

    async def test_the_flag_shows_to_the_field_but_the_hash_never_does(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        first = await post_ticket(client, demo)
        second = await post_ticket(client, demo)
        colleague = await add_worker(client, app, demo)
        r = await client.get(f"/v1/tickets/{second['id']}", headers=colleague)
        assert r.json()["possible_repeat_of"] == first["id"]
        assert "hash" not in r.text
