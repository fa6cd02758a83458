"""Each workflow action over HTTP, in the demo county: the happy path and every refusal.

Refusals are problem+json: the wrong role is 403, another grid's ticket is 404 (its id is not to
be probed), someone else's ticket is 403, the wrong state is 409 naming the current state, a
stale `If-Match` is 412 and a bad payload is 422 naming the field.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from hotline.auth.roles import Role
from hotline.db.session import unit_of_work
from hotline.kit.clock import utcnow
from hotline.ticket.models import Summons, Ticket
from tests.conftest import Demo, mint

GRID = "210124100002001"  # 东湖社区第一网格: where 东湖公园 routes
GRID_A = "210124100001001"
GRID_B = "210124103201003"
OTHER_GRID = "210124100001002"
WATER = "210124-D-WATER"
POWER = "210124-D-POWER"
ROAD = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "东湖公园北侧路面坑洼，井盖缺失",
    "caller": {"name": "张三", "phone": "13812345678"},
    "location": {"address": "东湖公园北侧"},
}
NOWHERE = {"address": "火星基地一号"}
PROBLEM = "application/problem+json"


# --- helpers ------------------------------------------------------------------------------------


async def post_ticket(client: httpx.AsyncClient, demo: Demo, **fields: Any) -> dict[str, Any]:
    r = await client.post("/v1/tickets", json={**ROAD, **fields}, headers=demo.headers("agent"))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def act(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    ticket: dict[str, Any] | int,
    action: str,
    body: dict[str, Any] | None = None,
    *,
    version: int | str | None = None,
) -> httpx.Response:
    ticket_id = ticket if isinstance(ticket, int) else ticket["id"]
    if version is not None:
        headers = {**headers, "If-Match": f'"{version}"' if isinstance(version, int) else version}
    return await client.post(f"/v1/tickets/{ticket_id}/{action}", json=body or {}, headers=headers)


async def done(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    ticket: dict[str, Any] | int,
    action: str,
    body: dict[str, Any] | None = None,
    **kw: Any,
) -> dict[str, Any]:
    r = await act(client, headers, ticket, action, body, **kw)
    assert r.status_code == 200, r.text
    return dict(r.json())


def refused(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = dict(r.json())
    assert body["status"] == status
    return body


def fields_of(problem: dict[str, Any]) -> set[str]:
    return {e["field"] for e in problem.get("errors", [])} | (
        {problem["field"]} if "field" in problem else set()
    )


async def read(client: httpx.AsyncClient, demo: Demo, ticket: dict[str, Any]) -> dict[str, Any]:
    r = await client.get(f"/v1/tickets/{ticket['id']}", headers=demo.headers("admin"))
    assert r.status_code == 200, r.text
    return dict(r.json())


async def timeline(
    client: httpx.AsyncClient, demo: Demo, ticket: dict[str, Any]
) -> list[dict[str, Any]]:
    r = await client.get(f"/v1/tickets/{ticket['id']}/events", headers=demo.headers("admin"))
    assert r.status_code == 200, r.text
    return list(r.json())


async def alter(app: Any, model: Any, where: Any, **values: Any) -> None:
    """Change rows behind the API's back (a clock that ran out, a designation)."""
    async with unit_of_work(app.state.sessionmaker) as session:
        await session.execute(update(model).where(where).values(**values))


async def add_worker(
    client: httpx.AsyncClient, app: Any, demo: Demo, grid: str, name: str
) -> dict[str, Any]:
    """A second (off-duty) worker in ``grid`` with a key of their own."""
    r = await client.post(
        "/v1/staff",
        json={"name": name, "role": "worker", "unit_code": grid},
        headers=demo.headers("admin"),
    )
    assert r.status_code == 201, r.text
    staff_id = r.json()["id"]
    headers, _ = await mint(app, Role.worker, name, grid, staff_id)
    return {"staff_id": staff_id, "headers": headers, "name": name}


async def grid_member_ids(client: httpx.AsyncClient, demo: Demo, grid: str) -> set[int]:
    r = await client.get(f"/v1/grids/{grid}", headers=demo.headers("admin"))
    return {m["id"] for m in r.json()["properties"]["members"]}


def members_of(demo: Demo, unit: str) -> list[dict[str, Any]]:
    return [p for p in demo.people if p["role"] == "member" and p["unit"] == unit]


def auth(person: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {person['key']}"}


async def attached_member(
    client: httpx.AsyncClient, demo: Demo, grid: str, *, attached: bool = True
) -> dict[str, Any]:
    ids = await grid_member_ids(client, demo, grid)
    return next(
        p for p in demo.people if p["role"] == "member" and (p["staff_id"] in ids) == attached
    )


def worker(demo: Demo, grid: str = GRID) -> dict[str, str]:
    return demo.headers("worker", grid)


async def signed_ticket(client: httpx.AsyncClient, demo: Demo, **fields: Any) -> dict[str, Any]:
    ticket = await post_ticket(client, demo, **fields)
    return await done(client, worker(demo), ticket, "sign")


async def replied_ticket(client: httpx.AsyncClient, demo: Demo, **fields: Any) -> dict[str, Any]:
    ticket = await signed_ticket(client, demo, **fields)
    return await done(client, worker(demo), ticket, "reply", {"text": "已修补路面，井盖已更换"})


async def triage_ticket(client: httpx.AsyncClient, demo: Demo) -> dict[str, Any]:
    ticket = await post_ticket(client, demo, location=NOWHERE)
    assert ticket["status"] == "triage"
    return ticket


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


UNHAPPY = {
    "reached": True,
    "resolution": "unresolved",
    "satisfaction": "unsatisfied",
    "unit_at_fault": True,
}
HAPPY = {"reached": True, "resolution": "resolved", "satisfaction": "satisfied"}
RETURN = {"reason_code": "not_our_area", "reason": "该路段属于相邻网格"}


# --- sign ---------------------------------------------------------------------------------------


class TestSign:
    async def test_the_assignee_signs_and_the_reply_clock_starts(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        signed = await done(client, worker(demo), ticket, "sign", {"note": "马上去现场"})
        assert signed["status"] == "signed"
        assert signed["signed_at"] is not None
        assert signed["deadlines"]["reply_due_at"] is not None
        assert signed["version"] == ticket["version"] + 1
        last = (await timeline(client, demo, ticket))[-1]
        assert (last["action"], last["from_status"], last["to_status"]) == (
            "signed",
            "dispatched",
            "signed",
        )
        assert last["actor"]["name"] == demo.person("worker", GRID)["name"]

    async def test_an_agent_may_not_sign(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await post_ticket(client, demo)
        problem = refused(await act(client, demo.headers("agent"), ticket, "sign"), 403)
        assert problem["code"] == "forbidden"

    async def test_another_grids_worker_gets_404(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        refused(await act(client, worker(demo, OTHER_GRID), ticket, "sign"), 404)

    async def test_a_worker_of_the_grid_who_is_not_the_assignee_gets_403(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        colleague = await add_worker(client, app, demo, GRID, "同格网格员")
        refused(await act(client, colleague["headers"], ticket, "sign"), 403)
        assert (await read(client, demo, ticket))["status"] == "dispatched"

    async def test_signing_twice_is_409_naming_signed(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        problem = refused(await act(client, worker(demo), ticket, "sign"), 409)
        assert problem["state"] == "signed"

    async def test_stale_version_is_412_and_the_current_one_signs(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        stale = refused(
            await act(client, worker(demo), ticket, "sign", version=ticket["version"] - 1), 412
        )
        assert stale["version"] == ticket["version"]
        await done(client, worker(demo), ticket, "sign", version=ticket["version"])

    async def test_an_unknown_field_is_422_naming_it(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        problem = refused(await act(client, worker(demo), ticket, "sign", {"remark": "x"}), 422)
        assert fields_of(problem) == {"remark"}

    async def test_a_queued_ticket_is_claimed_by_any_worker_of_the_grid(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        on_duty = demo.person("worker", GRID)
        r = await client.patch(
            f"/v1/staff/{on_duty['staff_id']}",
            json={"on_duty": False},
            headers=demo.headers("admin"),
        )
        assert r.status_code == 200, r.text
        ticket = await post_ticket(client, demo)
        assert ticket["status"] == "dispatched"
        assert ticket["route"]["assignee_id"] is None
        colleague = await add_worker(client, app, demo, GRID, "同格网格员")
        signed = await done(client, colleague["headers"], ticket, "sign")
        assert signed["route"]["grid_code"] == GRID
        assert (await read(client, demo, ticket))["status"] == "signed"
        # The claim is theirs: the other worker of the grid is too late.
        problem = refused(await act(client, worker(demo), ticket, "sign"), 409)
        assert problem["state"] == "signed"
        # And only the claimer may now reply.
        refused(await act(client, worker(demo), ticket, "reply", {"text": "已处理"}), 403)
        await done(client, colleague["headers"], ticket, "reply", {"text": "已处理"})

    async def test_of_two_workers_claiming_at_once_one_wins(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        on_duty = demo.person("worker", GRID)
        await client.patch(
            f"/v1/staff/{on_duty['staff_id']}",
            json={"on_duty": False},
            headers=demo.headers("admin"),
        )
        ticket = await post_ticket(client, demo)
        colleague = await add_worker(client, app, demo, GRID, "同格网格员")
        first, second = await asyncio.gather(
            act(client, worker(demo), ticket, "sign"),
            act(client, colleague["headers"], ticket, "sign"),
        )
        assert sorted([first.status_code, second.status_code]) == [200, 409]
        signs = [e for e in await timeline(client, demo, ticket) if e["action"] == "signed"]
        assert len(signs) == 1

    async def test_a_department_ticket_is_signed_by_a_member_of_the_department(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo, category="utility.water")
        assert ticket["route"]["unit_code"] == WATER
        assert ticket["route"]["assignee_id"] is None
        member = members_of(demo, WATER)[1]
        signed = await done(client, auth(member), ticket, "sign")
        assert signed["status"] == "signed"
        last = (await timeline(client, demo, ticket))[-1]
        assert last["actor"]["name"] == member["name"]
        # Now it is that member's: the other member of the department replies in vain.
        other = members_of(demo, WATER)[0]
        refused(await act(client, auth(other), ticket, "reply", {"text": "已恢复供水"}), 403)
        await done(client, auth(member), ticket, "reply", {"text": "已恢复供水"})

    async def test_a_member_of_another_department_gets_404(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo, category="utility.water")
        refused(await act(client, demo.headers("member", POWER), ticket, "sign"), 404)
        refused(await act(client, worker(demo), ticket, "sign"), 404)


# --- note ---------------------------------------------------------------------------------------


class TestNote:
    async def test_the_owner_notes_progress_without_changing_the_state(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        noted = await done(
            client,
            worker(demo),
            ticket,
            "note",
            {"text": "已联系养护队", "photos": ["https://img.example/1.jpg"]},
        )
        assert noted["status"] == "signed"
        assert noted["version"] == ticket["version"] + 1
        last = (await timeline(client, demo, ticket))[-1]
        assert last["action"] == "noted"
        assert last["details"]["text"] == "已联系养护队"
        assert last["details"]["photos"] == ["https://img.example/1.jpg"]

    async def test_a_dispatcher_may_note_an_agent_may_not(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        await done(client, demo.headers("dispatcher"), ticket, "note", {"text": "已催办"})
        refused(await act(client, demo.headers("agent"), ticket, "note", {"text": "x"}), 403)

    async def test_a_colleague_of_the_grid_gets_403_another_grid_404(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        colleague = await add_worker(client, app, demo, GRID, "同格网格员")
        refused(await act(client, colleague["headers"], ticket, "note", {"text": "x"}), 403)
        refused(await act(client, worker(demo, OTHER_GRID), ticket, "note", {"text": "x"}), 404)

    async def test_a_member_of_the_department_who_is_not_the_owner_gets_403(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo, category="utility.water")
        owner, colleague = members_of(demo, WATER)
        await done(client, auth(owner), ticket, "sign")
        refused(await act(client, auth(colleague), ticket, "note", {"text": "x"}), 403)

    async def test_a_triage_ticket_takes_no_notes(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await triage_ticket(client, demo)
        problem = refused(
            await act(client, demo.headers("dispatcher"), ticket, "note", {"text": "x"}), 409
        )
        assert problem["state"] == "triage"

    async def test_an_empty_note_is_422_naming_text(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        problem = refused(await act(client, worker(demo), ticket, "note", {"text": "  "}), 422)
        assert fields_of(problem) == {"text"}
        problem = refused(
            await act(client, worker(demo), ticket, "note", {"text": "x", "photos": ["nope"]}),
            422,
        )
        assert fields_of(problem) == {"photos.0"}


# --- whistle and report-in ----------------------------------------------------------------------


class TestWhistle:
    async def test_the_owner_summons_an_attached_member(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        member = await attached_member(client, demo, GRID)
        after = await done(
            client,
            worker(demo),
            ticket,
            "whistle",
            {"reason": "需要水务配合", "level": "key", "members": [member["staff_id"]]},
        )
        assert after["status"] == "signed"
        last = (await timeline(client, demo, ticket))[-1]
        assert (last["action"], last["from_status"], last["to_status"]) == (
            "whistled",
            "signed",
            "signed",
        )
        assert last["details"]["members"] == [member["staff_id"]]
        assert last["details"]["level"] == "key"
        # The summoned member finds the whistle in their assignments.
        r = await client.get("/v1/assignments", headers=auth(member))
        whistles = [a for a in r.json()["items"] if a["type"] == "whistle"]
        assert [w["ticket"]["id"] for w in whistles] == [ticket["id"]]
        assert whistles[0]["summons"]["reported_at"] is None

    async def test_only_the_owning_worker_whistles(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        body = {"reason": "x", "departments": [WATER]}
        colleague = await add_worker(client, app, demo, GRID, "同格网格员")
        refused(await act(client, colleague["headers"], ticket, "whistle", body), 403)
        refused(await act(client, demo.headers("dispatcher"), ticket, "whistle", body), 403)
        refused(await act(client, worker(demo, OTHER_GRID), ticket, "whistle", body), 404)

    async def test_summoning_an_unattached_member_is_422(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        stranger = await attached_member(client, demo, GRID, attached=False)
        problem = refused(
            await act(
                client,
                worker(demo),
                ticket,
                "whistle",
                {"reason": "x", "members": [stranger["staff_id"]]},
            ),
            422,
        )
        assert problem["field"] == "members"
        assert str(stranger["staff_id"]) in problem["detail"]

    async def test_summoning_an_unknown_department_is_422(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        problem = refused(
            await act(
                client, worker(demo), ticket, "whistle", {"reason": "x", "departments": [GRID_A]}
            ),
            422,
        )
        assert problem["field"] == "departments"

    async def test_summoning_nobody_or_a_bad_level_is_422(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        refused(await act(client, worker(demo), ticket, "whistle", {"reason": "x"}), 422)
        problem = refused(
            await act(
                client,
                worker(demo),
                ticket,
                "whistle",
                {"reason": "x", "departments": [WATER], "level": "loud"},
            ),
            422,
        )
        assert fields_of(problem) == {"level"}

    async def test_an_unsigned_ticket_is_409(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await post_ticket(client, demo)
        problem = refused(
            await act(
                client, worker(demo), ticket, "whistle", {"reason": "x", "departments": [WATER]}
            ),
            409,
        )
        assert problem["state"] == "dispatched"


async def whistled(
    client: httpx.AsyncClient, demo: Demo, **summon: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    ticket = await signed_ticket(client, demo)
    after = await done(client, worker(demo), ticket, "whistle", {"reason": "需要配合", **summon})
    return ticket, after


class TestReportIn:
    async def test_the_summoned_member_reports_in_on_time(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        member = await attached_member(client, demo, GRID)
        ticket, _ = await whistled(client, demo, members=[member["staff_id"]])
        after = await done(client, auth(member), ticket, "report-in", {"note": "已到现场"})
        assert after["status"] == "signed"
        last = (await timeline(client, demo, ticket))[-1]
        assert last["action"] == "reported_in"
        assert last["actor"]["name"] == member["name"]
        assert last["details"]["late"] is False
        # The summons is no longer waiting.
        r = await client.get("/v1/assignments", headers=auth(member))
        assert [a for a in r.json()["items"] if a["type"] == "whistle"] == []

    async def test_reporting_in_twice_is_409(self, client: httpx.AsyncClient, demo: Demo) -> None:
        member = await attached_member(client, demo, GRID)
        ticket, _ = await whistled(client, demo, members=[member["staff_id"]])
        await done(client, auth(member), ticket, "report-in")
        refused(await act(client, auth(member), ticket, "report-in"), 409)

    async def test_a_department_summons_lets_any_of_its_members_report_in(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ids = await grid_member_ids(client, demo, GRID)
        unattached = next(m for m in members_of(demo, WATER) if m["staff_id"] not in ids)
        ticket, _ = await whistled(client, demo, departments=[WATER])
        await done(client, auth(unattached), ticket, "report-in")
        last = (await timeline(client, demo, ticket))[-1]
        assert (last["action"], last["actor"]["name"]) == ("reported_in", unattached["name"])
        # The department has answered: its other member has nothing left to report in to.
        other = next(m for m in members_of(demo, WATER) if m is not unattached)
        refused(await act(client, auth(other), ticket, "report-in"), 409)

    async def test_a_late_report_in_is_recorded_late(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        member = await attached_member(client, demo, GRID)
        ticket, _ = await whistled(client, demo, members=[member["staff_id"]], level="emergency")
        await alter(
            app, Summons, Summons.ticket_id == ticket["id"], due_at=utcnow() - timedelta(hours=1)
        )
        await done(client, auth(member), ticket, "report-in")
        last = (await timeline(client, demo, ticket))[-1]
        assert last["action"] == "reported_in"
        assert last["details"]["late"] is True

    async def test_a_worker_may_not_report_in(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket, _ = await whistled(client, demo, departments=[WATER])
        refused(await act(client, worker(demo), ticket, "report-in"), 403)

    async def test_a_member_not_summoned_gets_404(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket, _ = await whistled(client, demo, departments=[WATER])
        refused(await act(client, demo.headers("member", POWER), ticket, "report-in"), 404)

    async def test_an_unknown_field_is_422(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket, _ = await whistled(client, demo, departments=[WATER])
        problem = refused(
            await act(client, demo.headers("member", WATER), ticket, "report-in", {"late": 1}),
            422,
        )
        assert fields_of(problem) == {"late"}


# --- reply --------------------------------------------------------------------------------------


class TestReply:
    async def test_the_owner_replies_and_the_callback_is_due(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        after = await done(
            client, worker(demo), ticket, "reply", {"text": "已修补", "outcome": "partly"}
        )
        assert after["status"] == "replied"
        assert after["replied_at"] is not None
        assert after["reply"]["text"] == "已修补"
        assert after["reply"]["outcome"] == "partly"
        assert after["reply"]["late"] is False

    async def test_only_the_owner_replies(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        colleague = await add_worker(client, app, demo, GRID, "同格网格员")
        body = {"text": "已处理"}
        refused(await act(client, colleague["headers"], ticket, "reply", body), 403)
        refused(await act(client, demo.headers("agent"), ticket, "reply", body), 403)
        refused(await act(client, worker(demo, OTHER_GRID), ticket, "reply", body), 404)

    async def test_an_unsigned_ticket_is_409(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await post_ticket(client, demo)
        problem = refused(await act(client, worker(demo), ticket, "reply", {"text": "x"}), 409)
        assert problem["state"] == "dispatched"

    async def test_a_stale_version_is_412(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await signed_ticket(client, demo)
        await done(client, demo.headers("dispatcher"), ticket, "note", {"text": "已催办"})
        problem = refused(
            await act(
                client, worker(demo), ticket, "reply", {"text": "x"}, version=ticket["version"]
            ),
            412,
        )
        assert problem["version"] == ticket["version"] + 1
        await done(
            client, worker(demo), ticket, "reply", {"text": "x"}, version=ticket["version"] + 1
        )

    async def test_a_bad_reply_is_422_naming_the_field(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        problem = refused(await act(client, worker(demo), ticket, "reply", {}), 422)
        assert fields_of(problem) == {"text"}
        problem = refused(
            await act(client, worker(demo), ticket, "reply", {"text": "x", "outcome": "maybe"}),
            422,
        )
        assert fields_of(problem) == {"outcome"}


# --- return and its decision --------------------------------------------------------------------


class TestReturn:
    async def test_within_the_window_the_owner_asks_to_return(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        after = await done(client, worker(demo), ticket, "return", RETURN)
        assert after["status"] == "return_requested"
        last = (await timeline(client, demo, ticket))[-1]
        assert (last["action"], last["details"]["reason_code"]) == (
            "return_requested",
            "not_our_area",
        )

    async def test_a_designated_ticket_cannot_be_returned(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        await alter(app, Ticket, Ticket.id == ticket["id"], designated=True)
        problem = refused(await act(client, worker(demo), ticket, "return", RETURN), 409)
        assert problem["state"] == "dispatched"
        assert (await read(client, demo, ticket))["status"] == "dispatched"

    async def test_after_the_window_is_409(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        await alter(
            app, Ticket, Ticket.id == ticket["id"], return_until=utcnow() - timedelta(minutes=1)
        )
        problem = refused(await act(client, worker(demo), ticket, "return", RETURN), 409)
        assert "退单期限已于" in problem["detail"]

    async def test_a_signed_ticket_is_409(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await signed_ticket(client, demo)
        problem = refused(await act(client, worker(demo), ticket, "return", RETURN), 409)
        assert problem["state"] == "signed"

    async def test_only_the_owner_returns(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        colleague = await add_worker(client, app, demo, GRID, "同格网格员")
        refused(await act(client, colleague["headers"], ticket, "return", RETURN), 403)
        refused(await act(client, demo.headers("agent"), ticket, "return", RETURN), 403)
        refused(await act(client, worker(demo, OTHER_GRID), ticket, "return", RETURN), 404)

    async def test_a_bad_reason_is_422_naming_the_field(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        problem = refused(
            await act(client, worker(demo), ticket, "return", {**RETURN, "reason_code": "lazy"}),
            422,
        )
        assert fields_of(problem) == {"reason_code"}
        problem = refused(
            await act(client, worker(demo), ticket, "return", {"reason_code": "other"}), 422
        )
        assert fields_of(problem) == {"reason"}


async def return_requested(
    client: httpx.AsyncClient, demo: Demo, grid: str = GRID, **fields: Any
) -> dict[str, Any]:
    ticket = await post_ticket(client, demo, **fields)
    return await done(client, worker(demo, grid), ticket, "return", RETURN)


class TestReturnDecision:
    async def test_rejected_goes_back_to_the_same_owner(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await return_requested(client, demo)
        after = await done(
            client,
            demo.headers("dispatcher"),
            ticket,
            "return-decision",
            {"approve": False, "note": "属于本网格"},
        )
        assert after["status"] == "dispatched"
        assert after["route"]["assignee_id"] == demo.person("worker", GRID)["staff_id"]
        assert after["transfer_count"] == 0
        last = (await timeline(client, demo, ticket))[-1]
        assert (last["action"], last["from_status"], last["to_status"]) == (
            "return_rejected",
            "return_requested",
            "dispatched",
        )
        await done(client, worker(demo), ticket, "sign")

    async def test_approved_with_a_unit_is_dispatched_there(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await return_requested(client, demo)
        after = await done(
            client,
            demo.headers("dispatcher"),
            ticket,
            "return-decision",
            {"approve": True, "unit_code": GRID_A},
        )
        assert after["status"] == "dispatched"
        assert after["route"]["grid_code"] == GRID_A
        assert after["route"]["assignee_id"] == demo.person("worker", GRID_A)["staff_id"]
        assert after["transfer_count"] == 1
        # The new grid's worker may sign; the old one no longer sees it.
        refused(await act(client, worker(demo), ticket, "sign"), 404)
        await done(client, worker(demo, GRID_A), ticket, "sign")

    async def test_approved_without_a_unit_goes_back_to_triage(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await return_requested(client, demo)
        after = await done(
            client, demo.headers("dispatcher"), ticket, "return-decision", {"approve": True}
        )
        assert after["status"] == "triage"
        assert after["transfer_count"] == 1
        assert after["route"]["method"] == "triage"
        r = await client.get("/v1/triage", headers=demo.headers("dispatcher"))
        assert [t["id"] for t in r.json()] == [ticket["id"]]
        # The grid that returned it no longer has it.
        refused(await act(client, worker(demo), ticket, "sign"), 404)

    async def test_approved_without_a_unit_the_route_names_no_owner(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await return_requested(client, demo)
        after = await done(
            client, demo.headers("dispatcher"), ticket, "return-decision", {"approve": True}
        )
        route = after["route"]
        assert (route["unit_code"], route["grid_code"]) == (None, None)
        assert (route["assignee_id"], route["assignee_name"]) == (None, None)

    async def test_the_third_transfer_goes_to_arbitration(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        dispatcher = demo.headers("dispatcher")
        ticket = await return_requested(client, demo)
        await done(
            client, dispatcher, ticket, "return-decision", {"approve": True, "unit_code": GRID_A}
        )
        await done(client, worker(demo, GRID_A), ticket, "return", RETURN)
        await done(
            client, dispatcher, ticket, "return-decision", {"approve": True, "unit_code": GRID_B}
        )
        await done(client, worker(demo, GRID_B), ticket, "return", RETURN)
        after = await done(
            client, dispatcher, ticket, "return-decision", {"approve": True, "unit_code": GRID}
        )
        assert after["status"] == "arbitration"
        assert after["transfer_count"] == 3
        last = (await timeline(client, demo, ticket))[-1]
        assert (last["action"], last["from_status"], last["to_status"]) == (
            "arbitration",
            "return_requested",
            "arbitration",
        )
        r = await client.get("/v1/returns", headers=dispatcher)
        assert r.json()["items"] == []

    async def test_only_a_dispatcher_decides(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await return_requested(client, demo)
        for headers in (worker(demo), demo.headers("agent"), demo.headers("arbiter")):
            refused(await act(client, headers, ticket, "return-decision", {"approve": False}), 403)

    async def test_nothing_to_decide_is_409(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await post_ticket(client, demo)
        problem = refused(
            await act(
                client, demo.headers("dispatcher"), ticket, "return-decision", {"approve": False}
            ),
            409,
        )
        assert problem["state"] == "dispatched"

    async def test_a_decision_without_approve_is_422(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await return_requested(client, demo)
        problem = refused(
            await act(client, demo.headers("dispatcher"), ticket, "return-decision", {}), 422
        )
        assert fields_of(problem) == {"approve"}
        problem = refused(
            await act(
                client,
                demo.headers("dispatcher"),
                ticket,
                "return-decision",
                {"approve": True, "unit_code": "不是编码"},
            ),
            422,
        )
        assert fields_of(problem) == {"unit_code"}


# --- extension and its decision -----------------------------------------------------------------


class TestExtension:
    async def test_the_owner_asks_once(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await signed_ticket(client, demo)
        body = {"days": 3, "reason": "需协调施工单位"}
        after = await done(client, worker(demo), ticket, "extension", body)
        assert after["status"] == "signed"
        last = (await timeline(client, demo, ticket))[-1]
        assert (last["action"], last["details"]["days"]) == ("extension_requested", 3)
        problem = refused(await act(client, worker(demo), ticket, "extension", body), 409)
        assert problem["state"] == "signed"

    async def test_no_second_extension_after_one_was_granted(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        body = {"days": 2, "reason": "需协调"}
        await done(client, worker(demo), ticket, "extension", body)
        await done(
            client, demo.headers("dispatcher"), ticket, "extension-decision", {"approve": True}
        )
        refused(await act(client, worker(demo), ticket, "extension", body), 409)

    async def test_an_unsigned_ticket_is_409(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await post_ticket(client, demo)
        problem = refused(
            await act(client, worker(demo), ticket, "extension", {"days": 2, "reason": "x"}), 409
        )
        assert problem["state"] == "dispatched"

    async def test_only_the_owner_asks(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        body = {"days": 2, "reason": "x"}
        colleague = await add_worker(client, app, demo, GRID, "同格网格员")
        refused(await act(client, colleague["headers"], ticket, "extension", body), 403)
        refused(await act(client, demo.headers("dispatcher"), ticket, "extension", body), 403)
        refused(await act(client, worker(demo, OTHER_GRID), ticket, "extension", body), 404)

    @pytest.mark.parametrize("days", [0, 11, "many"])
    async def test_days_outside_one_to_ten_is_422(
        self, client: httpx.AsyncClient, demo: Demo, days: Any
    ) -> None:
        ticket = await signed_ticket(client, demo)
        problem = refused(
            await act(client, worker(demo), ticket, "extension", {"days": days, "reason": "x"}),
            422,
        )
        assert fields_of(problem) == {"days"}


class TestExtensionDecision:
    async def test_approval_moves_the_reply_deadline_by_working_days(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        before = at(ticket["deadlines"]["reply_due_at"])
        await done(client, worker(demo), ticket, "extension", {"days": 3, "reason": "需协调"})
        after = await done(
            client, demo.headers("dispatcher"), ticket, "extension-decision", {"approve": True}
        )
        moved = at(after["deadlines"]["reply_due_at"])
        assert moved > before + timedelta(days=3) - timedelta(seconds=1)
        calendar = app.state.calendars.last()
        assert calendar.working_days_between(before - timedelta(microseconds=1), moved) == 3
        last = (await timeline(client, demo, ticket))[-1]
        assert (last["action"], last["details"]["days"]) == ("extension_approved", 3)
        r = await client.get("/v1/extensions", headers=demo.headers("dispatcher"))
        assert r.json()["items"] == []

    async def test_approval_may_grant_fewer_days(
        self, client: httpx.AsyncClient, app: Any, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        before = at(ticket["deadlines"]["reply_due_at"])
        await done(client, worker(demo), ticket, "extension", {"days": 5, "reason": "需协调"})
        after = await done(
            client,
            demo.headers("dispatcher"),
            ticket,
            "extension-decision",
            {"approve": True, "days": 1},
        )
        moved = at(after["deadlines"]["reply_due_at"])
        assert (
            app.state.calendars.last().working_days_between(
                before - timedelta(microseconds=1), moved
            )
            == 1
        )

    async def test_rejection_keeps_the_deadline(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        await done(client, worker(demo), ticket, "extension", {"days": 3, "reason": "需协调"})
        after = await done(
            client, demo.headers("dispatcher"), ticket, "extension-decision", {"approve": False}
        )
        assert after["deadlines"]["reply_due_at"] == ticket["deadlines"]["reply_due_at"]
        assert (await timeline(client, demo, ticket))[-1]["action"] == "extension_rejected"

    async def test_only_a_dispatcher_decides(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await signed_ticket(client, demo)
        await done(client, worker(demo), ticket, "extension", {"days": 3, "reason": "需协调"})
        for headers in (worker(demo), demo.headers("agent")):
            refused(
                await act(client, headers, ticket, "extension-decision", {"approve": True}), 403
            )

    async def test_nothing_pending_is_409(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await signed_ticket(client, demo)
        problem = refused(
            await act(
                client, demo.headers("dispatcher"), ticket, "extension-decision", {"approve": True}
            ),
            409,
        )
        assert problem["state"] == "signed"
        ticket = await post_ticket(client, demo)
        problem = refused(
            await act(
                client, demo.headers("dispatcher"), ticket, "extension-decision", {"approve": True}
            ),
            409,
        )
        assert problem["state"] == "dispatched"

    async def test_bad_days_is_422(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await signed_ticket(client, demo)
        await done(client, worker(demo), ticket, "extension", {"days": 3, "reason": "需协调"})
        problem = refused(
            await act(
                client,
                demo.headers("dispatcher"),
                ticket,
                "extension-decision",
                {"approve": True, "days": 20},
            ),
            422,
        )
        assert fields_of(problem) == {"days"}


# --- the centre: dispatch, answer, callback, merge, close -----------------------------------------


class TestDispatch:
    async def test_a_dispatcher_dispatches_from_triage(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await triage_ticket(client, demo)
        after = await done(
            client,
            demo.headers("dispatcher"),
            ticket,
            "dispatch",
            {"unit_code": GRID, "note": "来电人补充在东湖公园"},
        )
        assert after["status"] == "dispatched"
        assert after["route"]["method"] == "manual"
        assert after["route"]["grid_code"] == GRID
        assert after["route"]["assignee_id"] == demo.person("worker", GRID)["staff_id"]
        assert after["transfer_count"] == 0
        assert after["deadlines"]["sign_due_at"] is not None
        r = await client.get("/v1/triage", headers=demo.headers("dispatcher"))
        assert r.json() == []
        await done(client, worker(demo), ticket, "sign")

    async def test_to_a_department_with_a_named_member(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await triage_ticket(client, demo)
        member = members_of(demo, WATER)[1]
        after = await done(
            client,
            demo.headers("dispatcher"),
            ticket,
            "dispatch",
            {"unit_code": WATER, "assignee_id": member["staff_id"]},
        )
        assert after["route"]["unit_code"] == WATER
        assert after["route"]["grid_code"] is None
        assert after["route"]["assignee_id"] == member["staff_id"]
        await done(client, auth(member), ticket, "sign")

    async def test_a_re_dispatch_counts_a_transfer_and_the_third_goes_to_arbitration(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        dispatcher = demo.headers("dispatcher")
        ticket = await post_ticket(client, demo)
        first = await done(client, dispatcher, ticket, "dispatch", {"unit_code": GRID_A})
        assert (first["route"]["grid_code"], first["transfer_count"]) == (GRID_A, 1)
        second = await done(client, dispatcher, ticket, "dispatch", {"unit_code": GRID_B})
        assert second["transfer_count"] == 2
        third = await done(client, dispatcher, ticket, "dispatch", {"unit_code": GRID})
        assert third["status"] == "arbitration"
        assert third["transfer_count"] == 3
        assert (await timeline(client, demo, ticket))[-1]["action"] == "arbitration"

    async def test_only_a_dispatcher_dispatches(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await triage_ticket(client, demo)
        for headers in (demo.headers("agent"), demo.headers("admin")):
            refused(await act(client, headers, ticket, "dispatch", {"unit_code": GRID}), 403)

    async def test_a_signed_ticket_is_409(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await signed_ticket(client, demo)
        problem = refused(
            await act(
                client, demo.headers("dispatcher"), ticket, "dispatch", {"unit_code": GRID_A}
            ),
            409,
        )
        assert problem["state"] == "signed"

    async def test_a_stale_version_is_412(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await triage_ticket(client, demo)
        dispatcher = demo.headers("dispatcher")
        await done(client, dispatcher, ticket, "dispatch", {"unit_code": GRID})
        refused(
            await act(
                client,
                dispatcher,
                ticket,
                "dispatch",
                {"unit_code": GRID_A},
                version=ticket["version"],
            ),
            412,
        )
        assert (await read(client, demo, ticket))["route"]["grid_code"] == GRID

    async def test_a_malformed_unit_code_is_422(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await triage_ticket(client, demo)
        problem = refused(
            await act(client, demo.headers("dispatcher"), ticket, "dispatch", {"unit_code": "a b"}),
            422,
        )
        assert fields_of(problem) == {"unit_code"}

    async def test_an_unknown_unit_code_is_422(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await triage_ticket(client, demo)
        problem = refused(
            await act(
                client, demo.headers("dispatcher"), ticket, "dispatch", {"unit_code": "210124999"}
            ),
            422,
        )
        assert problem["field"] == "unit_code"


class TestAnswer:
    async def test_answered_on_the_phone_closes(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await triage_ticket(client, demo)
        after = await done(
            client, demo.headers("agent"), ticket, "answer", {"text": "已告知办理流程"}
        )
        assert after["status"] == "closed"
        assert after["close_reason"] == "answered"
        assert after["closed_at"] is not None
        assert after["reply"]["text"] == "已告知办理流程"

    async def test_a_dispatched_ticket_may_be_answered_too(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        after = await done(client, demo.headers("agent"), ticket, "answer", {"text": "已解答"})
        assert after["close_reason"] == "answered"
        # The grid worker has nothing to sign any more.
        problem = refused(await act(client, worker(demo), ticket, "sign"), 409)
        assert problem["state"] == "closed"

    async def test_only_an_agent_answers(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await triage_ticket(client, demo)
        refused(await act(client, demo.headers("dispatcher"), ticket, "answer", {"text": "x"}), 403)

    async def test_a_signed_ticket_is_409(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await signed_ticket(client, demo)
        problem = refused(
            await act(client, demo.headers("agent"), ticket, "answer", {"text": "x"}), 409
        )
        assert problem["state"] == "signed"

    async def test_an_empty_answer_is_422(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await triage_ticket(client, demo)
        problem = refused(await act(client, demo.headers("agent"), ticket, "answer", {}), 422)
        assert fields_of(problem) == {"text"}


class TestCallback:
    async def test_not_reached_keeps_it_replied(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await replied_ticket(client, demo)
        after = await done(
            client,
            demo.headers("agent"),
            ticket,
            "callback",
            {"reached": False, "note": "无人接听"},
        )
        assert after["status"] == "replied"
        assert after["last_callback"]["reached"] is False
        assert (await timeline(client, demo, ticket))[-1]["action"] == "callback_unreached"

    async def test_satisfied_closes_as_resolved(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await replied_ticket(client, demo)
        after = await done(client, demo.headers("agent"), ticket, "callback", HAPPY)
        assert after["status"] == "closed"
        assert after["close_reason"] == "resolved"
        assert after["last_callback"]["satisfaction"] == "satisfied"

    async def test_unsatisfied_through_the_units_fault_is_reworked_by_the_same_owner(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await replied_ticket(client, demo)
        after = await done(client, demo.headers("agent"), ticket, "callback", UNHAPPY)
        assert after["status"] == "rework"
        assert after["rework_count"] == 1
        assert after["route"]["assignee_id"] == demo.person("worker", GRID)["staff_id"]
        again = await done(client, worker(demo), ticket, "sign")
        assert again["status"] == "signed"

    async def test_the_third_rework_goes_to_arbitration(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await replied_ticket(client, demo)
        for count in (1, 2):
            after = await done(client, demo.headers("agent"), ticket, "callback", UNHAPPY)
            assert (after["status"], after["rework_count"]) == ("rework", count)
            await done(client, worker(demo), ticket, "sign")
            await done(client, worker(demo), ticket, "reply", {"text": f"第{count + 1}次办理"})
        after = await done(client, demo.headers("agent"), ticket, "callback", UNHAPPY)
        assert after["status"] == "arbitration"
        assert after["rework_count"] == 3
        last = (await timeline(client, demo, ticket))[-1]
        assert (last["action"], last["from_status"]) == ("arbitration", "replied")

    async def test_only_an_agent_calls_back(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await replied_ticket(client, demo)
        for headers in (demo.headers("dispatcher"), worker(demo)):
            refused(await act(client, headers, ticket, "callback", HAPPY), 403)

    async def test_before_the_reply_is_409(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await signed_ticket(client, demo)
        problem = refused(await act(client, demo.headers("agent"), ticket, "callback", HAPPY), 409)
        assert problem["state"] == "signed"

    async def test_a_reached_callback_needs_the_answers(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await replied_ticket(client, demo)
        agent = demo.headers("agent")
        refused(await act(client, agent, ticket, "callback", {"reached": True}), 422)
        problem = refused(
            await act(client, agent, ticket, "callback", {**HAPPY, "satisfaction": "thrilled"}),
            422,
        )
        assert fields_of(problem) == {"satisfaction"}
        problem = refused(await act(client, agent, ticket, "callback", {}), 422)
        assert fields_of(problem) == {"reached"}

    async def test_a_stale_version_is_412(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await replied_ticket(client, demo)
        agent = demo.headers("agent")
        await done(client, agent, ticket, "callback", {"reached": False}, version=ticket["version"])
        refused(await act(client, agent, ticket, "callback", HAPPY, version=ticket["version"]), 412)
        after = await done(
            client, agent, ticket, "callback", HAPPY, version=f'W/"{ticket["version"] + 1}"'
        )
        assert after["status"] == "closed"


class TestMerge:
    async def test_a_repeat_closes_as_merged_and_the_older_gets_the_caller(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        older = await post_ticket(client, demo)
        newer = await post_ticket(client, demo, caller={"name": "李四", "phone": "13912345678"})
        after = await done(client, demo.headers("agent"), newer, "merge", {"into": older["id"]})
        assert after["status"] == "closed"
        assert after["close_reason"] == "merged"
        assert after["merged_into"] == older["id"]
        kept = await read(client, demo, older)
        assert kept["status"] == "dispatched"
        assert [(c["name"], c["phone"]) for c in kept["extra_callers"]] == [("李四", "13912345678")]
        assert (await timeline(client, demo, older))[-1]["action"] == "merge_received"

    async def test_into_a_closed_ticket_is_409(self, client: httpx.AsyncClient, demo: Demo) -> None:
        older = await post_ticket(client, demo)
        await done(client, demo.headers("agent"), older, "answer", {"text": "已解答"})
        newer = await post_ticket(client, demo)
        problem = refused(
            await act(client, demo.headers("agent"), newer, "merge", {"into": older["id"]}), 409
        )
        assert problem["state"] == "closed"
        assert (await read(client, demo, newer))["status"] == "dispatched"

    async def test_into_itself_is_422_and_into_nothing_is_404(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        agent = demo.headers("agent")
        problem = refused(await act(client, agent, ticket, "merge", {"into": ticket["id"]}), 422)
        assert problem["field"] == "into"
        refused(await act(client, agent, ticket, "merge", {"into": 999999}), 404)
        problem = refused(await act(client, agent, ticket, "merge", {"into": "x"}), 422)
        assert fields_of(problem) == {"into"}

    async def test_two_agents_merging_a_pair_into_each_other_do_not_both_win(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        a = await post_ticket(client, demo)
        b = await post_ticket(client, demo)
        agent = demo.headers("agent")
        answers = await asyncio.gather(
            act(client, agent, a, "merge", {"into": b["id"]}),
            act(client, agent, b, "merge", {"into": a["id"]}),
        )
        assert sorted(r.status_code for r in answers) == [200, 409]
        kept = [await read(client, demo, t) for t in (a, b)]
        assert sorted(t["status"] for t in kept) == ["closed", "dispatched"]

    async def test_only_an_agent_merges(self, client: httpx.AsyncClient, demo: Demo) -> None:
        older = await post_ticket(client, demo)
        newer = await post_ticket(client, demo)
        refused(
            await act(client, demo.headers("dispatcher"), newer, "merge", {"into": older["id"]}),
            403,
        )

    async def test_a_signed_ticket_cannot_be_merged_away(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        older = await post_ticket(client, demo)
        newer = await signed_ticket(client, demo)
        problem = refused(
            await act(client, demo.headers("agent"), newer, "merge", {"into": older["id"]}), 409
        )
        assert problem["state"] == "signed"


class TestClose:
    async def test_a_triage_ticket_closes_as_redirected(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await triage_ticket(client, demo)
        after = await done(
            client,
            demo.headers("dispatcher"),
            ticket,
            "close",
            {"reason": "redirected", "note": "已转110"},
        )
        assert after["status"] == "closed"
        assert after["close_reason"] == "redirected"
        last = (await timeline(client, demo, ticket))[-1]
        assert (last["action"], last["from_status"], last["to_status"]) == (
            "closed",
            "triage",
            "closed",
        )

    async def test_a_dispatched_ticket_is_409(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await post_ticket(client, demo)
        problem = refused(
            await act(
                client, demo.headers("dispatcher"), ticket, "close", {"reason": "terminated"}
            ),
            409,
        )
        assert problem["state"] == "dispatched"

    async def test_only_a_dispatcher_closes(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await triage_ticket(client, demo)
        refused(
            await act(client, demo.headers("agent"), ticket, "close", {"reason": "redirected"}), 403
        )

    async def test_an_unknown_reason_is_422(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await triage_ticket(client, demo)
        problem = refused(
            await act(client, demo.headers("dispatcher"), ticket, "close", {"reason": "bored"}), 422
        )
        assert fields_of(problem) == {"reason"}


# --- versions and queues ------------------------------------------------------------------------


class TestIfMatch:
    async def test_a_malformed_if_match_is_422(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await post_ticket(client, demo)
        problem = refused(await act(client, worker(demo), ticket, "sign", version="latest"), 422)
        assert fields_of(problem) == {"header.If-Match"}

    async def test_another_grids_worker_learns_nothing_from_a_version(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        refused(await act(client, worker(demo, OTHER_GRID), ticket, "sign", version=99), 404)


class TestQueues:
    async def test_triage_lists_the_undecided_oldest_first(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        first = await triage_ticket(client, demo)
        await post_ticket(client, demo)
        second = await triage_ticket(client, demo)
        r = await client.get("/v1/triage", headers=demo.headers("dispatcher"))
        assert r.status_code == 200
        assert [t["id"] for t in r.json()] == [first["id"], second["id"]]

    async def test_returns_lists_the_pending_requests(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await return_requested(client, demo)
        other = await return_requested(client, demo, grid=GRID_A, location={"grid_code": GRID_A})
        r = await client.get("/v1/returns", headers=demo.headers("dispatcher"))
        items = r.json()["items"]
        assert [i["ticket"]["id"] for i in items] == [ticket["id"], other["id"]]
        assert items[0]["kind"] == "return"
        assert items[0]["status"] == "pending"
        assert items[0]["reason_code"] == "not_our_area"
        assert items[0]["ticket"]["status"] == "return_requested"
        await done(
            client, demo.headers("dispatcher"), ticket, "return-decision", {"approve": False}
        )
        r = await client.get("/v1/returns", headers=demo.headers("dispatcher"))
        assert [i["ticket"]["id"] for i in r.json()["items"]] == [other["id"]]

    async def test_extensions_lists_the_pending_requests(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        await done(client, worker(demo), ticket, "extension", {"days": 4, "reason": "需协调"})
        r = await client.get("/v1/extensions", headers=demo.headers("dispatcher"))
        items = r.json()["items"]
        assert [(i["ticket"]["id"], i["days"], i["reason"]) for i in items] == [
            (ticket["id"], 4, "需协调")
        ]

    @pytest.mark.parametrize("queue", ["triage", "returns", "extensions"])
    async def test_the_field_and_the_viewer_get_403(
        self, client: httpx.AsyncClient, demo: Demo, queue: str
    ) -> None:
        for role, unit in (("worker", GRID), ("member", WATER), ("viewer", None)):
            refused(await client.get(f"/v1/{queue}", headers=demo.headers(role, unit)), 403)
