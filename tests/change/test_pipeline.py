"""The change pipeline (hotline.change): the unit of work numbers every change in commit order,
writes the outbox in the same transaction, records departures, and wakes only after commit."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hotline.change import notify, pipeline
from hotline.change.models import Departure
from hotline.db.session import unit_of_work
from hotline.ticket.models import Ticket
from hotline.webhook.models import Delivery
from tests.conftest import Demo

GRID = "210124100002001"
ROAD = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "路面塌陷",
    "location": {"address": "东湖公园北侧"},
}


async def post(client: httpx.AsyncClient, demo: Demo) -> dict[str, Any]:
    r = await client.post("/v1/tickets", json=ROAD, headers=demo.headers("agent"))
    assert r.status_code == 201, r.text
    return dict(r.json())


class TestNumbering:
    async def test_a_poller_following_since_misses_no_change_under_concurrent_writers(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        worker = demo.headers("worker", GRID)
        cursor = (await client.get("/v1/assignments", headers=worker)).json()["cursor"]
        seen: dict[int, set[str]] = {}
        done = asyncio.Event()

        async def follow() -> None:
            nonlocal cursor
            while True:
                finished = done.is_set()
                r = await client.get("/v1/assignments", params={"since": cursor}, headers=worker)
                for item in r.json()["items"]:
                    seen.setdefault(item["ticket_id"], set()).add(item["ticket"]["status"])
                cursor = r.json()["cursor"]
                if finished and not r.json()["more"]:
                    return
                await asyncio.sleep(0)

        async def write(n: int) -> int:
            ticket = await post(client, demo)
            if n % 2:
                r = await client.post(f"/v1/tickets/{ticket['id']}/sign", json={}, headers=worker)
                assert r.status_code in (200, 409), r.text
            return int(ticket["id"])

        follower = asyncio.create_task(follow())
        made = await asyncio.gather(*(write(n) for n in range(24)))
        done.set()
        await asyncio.wait_for(follower, 30)
        assert set(made) <= set(seen), set(made) - set(seen)
        # The signed ones were heard signed: the later change was not lost either.
        signed = {t for n, t in enumerate(made) if n % 2}
        assert all("signed" in seen[t] for t in signed)

    async def test_every_changed_row_has_its_own_number(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        for _ in range(5):
            await post(client, demo)
        async with unit_of_work(app.state.sessionmaker, read_only=True) as session:
            numbers = list(await session.scalars(select(Ticket.change_seq)))
        assert len(numbers) == len(set(numbers)) == 5
        assert min(numbers) > 0


class TestOutbox:
    async def test_written_with_the_change_and_read_at_commit(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        r = await client.post(
            "/v1/webhooks",
            json={"url": "https://sms.example/hook", "event_types": ["ticket.signed"]},
            headers=demo.headers("admin"),
        )
        assert r.status_code == 201
        ticket = await post(client, demo)
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/sign",
            json={},
            headers=demo.headers("worker", GRID),
        )
        async with unit_of_work(app.state.sessionmaker, read_only=True) as session:
            (payload,) = list(await session.scalars(select(Delivery.payload)))
        assert payload["data"]["ticket"]["state"] == "signed"
        assert payload["data"]["event"]["action"] == "signed"


class TestWakeUps:
    async def test_only_after_commit_and_never_on_rollback(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post(client, demo)
        # A LISTEN connection that (re)connects wakes every waiter once: let it be up first.
        await asyncio.wait_for(notify.hub.hearing.wait(), 10)
        ready = notify.hub.register({f"grid:{GRID}"})
        try:
            with pytest.raises(RuntimeError):
                async with unit_of_work(app.state.sessionmaker) as session:
                    row = await session.get(Ticket, ticket["id"])
                    assert row is not None
                    pipeline.touch(session, row)
                    row.version += 1
                    raise RuntimeError("rolled back")
            assert not ready.is_set()
            async with unit_of_work(app.state.sessionmaker) as session:
                row = await session.get(Ticket, ticket["id"])
                assert row is not None
                pipeline.touch(session, row)
                row.version += 1
                await session.flush()
                assert not ready.is_set()  # not before the commit
            assert ready.is_set()
        finally:
            notify.hub.unregister({f"grid:{GRID}"}, ready)


class TestDepartures:
    async def test_a_ticket_that_moves_leaves_a_departure_for_its_old_grid(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        ticket = await post(client, demo)
        other = "210124100002002"
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/dispatch",
            json={"unit_code": other},
            headers=demo.headers("dispatcher"),
        )
        assert r.status_code == 200, r.text
        async with unit_of_work(app.state.sessionmaker, read_only=True) as session:
            gone = {
                k: seq
                for k, seq in await session.execute(select(Departure.key, Departure.change_seq))
            }
            moved = await session.scalar(select(Ticket.change_seq))
            count = await session.scalar(select(func.count()).select_from(Departure))
        assert f"grid:{GRID}" in gone and f"unit:{GRID}" in gone
        assert all(seq > 0 for seq in gone.values())
        assert count == len(gone)
        assert moved is not None and moved > 0
