"""One appeal from the phone call to the satisfied callback, through HTTP only, and its
timeline read back as that story."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Demo

GRID = "210124100002001"  # 东湖社区第一网格
WATER = "210124-D-WATER"


class Story:
    """The people of the story and the one ticket they pass between them."""

    def __init__(self, client: httpx.AsyncClient, demo: Demo) -> None:
        self.client = client
        self.agent = demo.person("agent")
        self.dispatcher = demo.person("dispatcher")
        self.worker = demo.person("worker", GRID)
        self.member = demo.person("member", WATER)
        self.ticket: dict[str, Any] = {}

    async def call(self, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.client.post("/v1/tickets", json=body, headers=self._auth(self.agent))
        assert r.status_code == 201, r.text
        self.ticket = dict(r.json())
        return self.ticket

    async def by(
        self, person: dict[str, Any], action: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``person`` takes ``action`` on the version they last saw."""
        headers = {**self._auth(person), "If-Match": f'"{self.ticket["version"]}"'}
        r = await self.client.post(
            f"/v1/tickets/{self.ticket['id']}/{action}", json=body or {}, headers=headers
        )
        assert r.status_code == 200, f"{action}: {r.text}"
        self.ticket = dict(r.json())
        return self.ticket

    async def timeline(self) -> list[dict[str, Any]]:
        r = await self.client.get(
            f"/v1/tickets/{self.ticket['id']}/events", headers=self._auth(self.dispatcher)
        )
        assert r.status_code == 200, r.text
        return list(r.json())

    @staticmethod
    def _auth(person: dict[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {person['key']}"}


class TestStory:
    async def test_from_triage_through_rework_to_a_satisfied_caller(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        story = Story(client, demo)

        # The agent takes a call the router cannot place.
        ticket = await story.call(
            {
                "kind": "complaint",
                "category": "urban.road",
                "content": "水管破裂，路面塌陷",
                "caller": {"name": "张三", "phone": "13812345678"},
                "location": {"address": "火星基地一号"},
            }
        )
        assert ticket["status"] == "triage"

        # The dispatcher knows the place and sends it to the grid.
        ticket = await story.by(
            story.dispatcher, "dispatch", {"unit_code": GRID, "note": "东湖公园"}
        )
        assert ticket["status"] == "dispatched"
        assert ticket["route"]["assignee_id"] == story.worker["staff_id"]

        # The grid worker signs, then summons the water department.
        ticket = await story.by(story.worker, "sign", {"note": "马上去现场"})
        assert ticket["status"] == "signed"
        ticket = await story.by(
            story.worker,
            "whistle",
            {"reason": "水管破裂需水务处理", "level": "key", "departments": [WATER]},
        )
        assert ticket["status"] == "signed"

        # A member of the department reports in.
        ticket = await story.by(story.member, "report-in", {"note": "已到现场关阀"})
        assert ticket["status"] == "signed"

        # The worker replies; the caller is not satisfied, and it is the unit's fault.
        ticket = await story.by(story.worker, "reply", {"text": "已关阀", "outcome": "partly"})
        assert ticket["status"] == "replied"
        ticket = await story.by(
            story.agent,
            "callback",
            {
                "reached": True,
                "resolution": "unresolved",
                "satisfaction": "unsatisfied",
                "unit_at_fault": True,
                "note": "路面仍未修复",
            },
        )
        assert (ticket["status"], ticket["rework_count"]) == ("rework", 1)
        assert ticket["route"]["assignee_id"] == story.worker["staff_id"]

        # The worker finishes the job; this time the caller is satisfied.
        ticket = await story.by(
            story.worker, "reply", {"text": "路面已修复", "outcome": "resolved"}
        )
        assert ticket["status"] == "replied"
        ticket = await story.by(
            story.agent,
            "callback",
            {"reached": True, "resolution": "resolved", "satisfaction": "satisfied"},
        )
        assert (ticket["status"], ticket["close_reason"]) == ("closed", "resolved")
        assert ticket["rework_count"] == 1
        assert ticket["closed_at"] is not None

        events = await story.timeline()
        told = [(e["action"], e["from_status"], e["to_status"], e["actor"]["name"]) for e in events]
        agent, dispatcher = story.agent["name"], story.dispatcher["name"]
        worker, member = story.worker["name"], story.member["name"]
        assert told == [
            ("created", None, "triage", agent),
            ("dispatched", "triage", "dispatched", dispatcher),
            ("signed", "dispatched", "signed", worker),
            ("whistled", "signed", "signed", worker),
            ("reported_in", "signed", "signed", member),
            ("replied", "signed", "replied", worker),
            ("reworked", "replied", "rework", agent),
            ("replied", "rework", "replied", worker),
            ("closed", "replied", "closed", agent),
        ]
        roles = [e["actor"]["role"] for e in events]
        assert roles == [
            "agent",
            "dispatcher",
            "worker",
            "worker",
            "member",
            "worker",
            "agent",
            "worker",
            "agent",
        ]
        # Each event is one version of the ticket; times never go backwards.
        assert ticket["version"] == len(events)
        times = [e["at"] for e in events]
        assert times == sorted(times)
        whistled = events[3]["details"]
        assert whistled["departments"] == [WATER]
        assert whistled["level"] == "key"
        assert events[4]["details"]["late"] is False
        assert events[6]["details"]["rework_count"] == 1

    async def test_the_story_is_the_same_for_the_worker_reading_it(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        story = Story(client, demo)
        await story.call(
            {
                "kind": "complaint",
                "category": "urban.road",
                "content": "东湖公园北侧路面坑洼",
                "caller": {"name": "张三", "phone": "13812345678"},
                "location": {"address": "东湖公园北侧"},
            }
        )
        await story.by(story.worker, "sign")
        await story.by(story.worker, "reply", {"text": "已修补"})
        r = await client.get(
            f"/v1/tickets/{story.ticket['id']}/events",
            headers={"Authorization": f"Bearer {story.worker['key']}"},
        )
        assert r.status_code == 200
        assert [(e["action"], e["actor"]["role"]) for e in r.json()] == [
            ("created", "agent"),
            ("dispatched", "system"),
            ("signed", "worker"),
            ("replied", "worker"),
        ]
