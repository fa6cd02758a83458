"""Every action endpoint honours Idempotency-Key (as intake does): a retry after a lost answer
answers the first answer and does nothing again, the same key with another request is 422,
keys are per API key, a refused action keeps no key, and identical requests at once act once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hotline.idempotency.models import ActionKey
from hotline.jobs import sweep
from tests.conftest import Demo
from tests.workflow.test_actions import (
    act,
    done,
    post_ticket,
    refused,
    signed_ticket,
    timeline,
    worker,
)


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def actions(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["action"] == name]


class TestReplay:
    async def test_a_sign_retried_after_a_lost_answer_answers_the_first_answer(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        headers = keyed(worker(demo), "sign-1")
        first = await act(client, headers, ticket, "sign", {"note": "马上到"})
        assert first.status_code == 200, first.text
        assert "idempotent-replayed" not in first.headers
        # Without the key the second sign is refused: the ticket is signed already.
        refused(await act(client, worker(demo), ticket, "sign", {"note": "马上到"}), 409)
        again = await act(client, headers, ticket, "sign", {"note": "马上到"})
        assert again.status_code == 200
        assert again.headers["idempotent-replayed"] == "true"
        assert again.content == first.content
        assert len(actions(await timeline(client, demo, ticket), "signed")) == 1

    async def test_a_note_retried_is_written_once_and_the_version_stays(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        headers = keyed(worker(demo), "note-1")
        first = await done(client, headers, ticket, "note", {"text": "已到现场"})
        for _ in range(2):
            assert await done(client, headers, ticket, "note", {"text": "已到现场"}) == first
        assert len(actions(await timeline(client, demo, ticket), "noted")) == 1
        current = await client.get(f"/v1/tickets/{ticket['id']}", headers=worker(demo))
        assert current.json()["version"] == first["version"]

    async def test_a_replay_with_the_old_if_match_is_not_412(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        headers = keyed(worker(demo), "sign-2")
        first = await done(client, headers, ticket, "sign", version=ticket["version"])
        again = await done(client, headers, ticket, "sign", version=ticket["version"])
        assert again == first

    async def test_the_same_key_with_another_request_is_422(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await signed_ticket(client, demo)
        other = await signed_ticket(client, demo)
        headers = keyed(worker(demo), "note-2")
        await done(client, headers, ticket, "note", {"text": "第一次"})
        for problem in (
            refused(await act(client, headers, ticket, "note", {"text": "第二次"}), 422),
            refused(await act(client, headers, other, "note", {"text": "第一次"}), 422),
            refused(await act(client, headers, ticket, "reply", {"text": "第一次"}), 422),
        ):
            assert problem["field"] == "Idempotency-Key"
        assert len(actions(await timeline(client, demo, ticket), "noted")) == 1
        assert actions(await timeline(client, demo, other), "noted") == []

    async def test_keys_are_per_api_key(self, client: httpx.AsyncClient, demo: Demo) -> None:
        ticket = await signed_ticket(client, demo)
        body = {"text": "请尽快处理"}
        await done(client, keyed(worker(demo), "same"), ticket, "note", body)
        await done(client, keyed(demo.headers("dispatcher"), "same"), ticket, "note", body)
        noted = actions(await timeline(client, demo, ticket), "noted")
        assert [e["actor"]["role"] for e in noted] == ["worker", "dispatcher"]

    async def test_a_refused_action_keeps_no_key_and_its_retry_is_judged_afresh(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post_ticket(client, demo)
        headers = keyed(worker(demo), "reply-1")
        problem = refused(await act(client, headers, ticket, "reply", {"text": "已修补"}), 409)
        assert problem["state"] == "dispatched"
        await done(client, worker(demo), ticket, "sign")
        replied = await done(client, headers, ticket, "reply", {"text": "已修补"})
        assert replied["status"] == "replied"

    async def test_the_header_is_in_the_schema_of_every_action(
        self, client: httpx.AsyncClient
    ) -> None:
        from hotline.workflow.endpoints import ACTIONS

        schema = (await client.get("/openapi.json")).json()
        for action in ACTIONS:
            operation = schema["paths"][f"/v1/tickets/{{ticket_id}}/{action.path}"]["post"]
            names = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
            assert "Idempotency-Key" in names, action.path
        upload = schema["paths"]["/v1/tickets/{ticket_id}/attachments"]["post"]
        assert "Idempotency-Key" in {p["name"] for p in upload["parameters"]}


class TestAtOnce:
    @pytest.mark.parametrize("action", ["sign", "note"])
    async def test_identical_requests_at_once_act_once_and_get_one_answer(
        self, client: httpx.AsyncClient, demo: Demo, action: str
    ) -> None:
        ticket = await (post_ticket if action == "sign" else signed_ticket)(client, demo)
        body = {"note": "到"} if action == "sign" else {"text": "到"}
        headers = keyed(worker(demo), f"{action}-race")
        answers = await asyncio.gather(
            *(act(client, headers, ticket, action, body) for _ in range(4))
        )
        assert [r.status_code for r in answers] == [200] * 4, [r.text for r in answers]
        assert len({r.content for r in answers}) == 1
        assert sum(r.headers.get("idempotent-replayed") == "true" for r in answers) == 3
        name = "signed" if action == "sign" else "noted"
        assert len(actions(await timeline(client, demo, ticket), name)) == 1


class TestKeeping:
    async def test_the_sweeper_forgets_keys_after_48_hours(
        self, client: httpx.AsyncClient, app: Any, demo: Demo, clock: Any
    ) -> None:
        clock.set("2026-06-01T09:00:00+08:00")
        ticket = await signed_ticket(client, demo)
        headers = keyed(worker(demo), "note-old")
        await done(client, headers, ticket, "note", {"text": "一"})
        state = app.state

        async def kept() -> int:
            async with state.sessionmaker() as session:
                return int(await session.scalar(select(func.count()).select_from(ActionKey)) or 0)

        await sweep.sweep(
            state.sessionmaker, state.routing, state.calendars, now=clock.now + timedelta(hours=47)
        )
        assert await kept() == 1
        report = await sweep.sweep(
            state.sessionmaker, state.routing, state.calendars, now=clock.now + timedelta(hours=49)
        )
        assert report.keys_forgotten == 1
        assert await kept() == 0
