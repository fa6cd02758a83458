"""SIGKILL in the middle of an intake load: every ticket answered 201 survives with its events,
no ticket exists without events, and an Idempotency-Key retry after the restart replays."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from hotline.config import Settings
from hotline.db.engine import create_engine, create_sessionmaker
from hotline.db.session import unit_of_work
from hotline.ticket.models import Ticket, TicketEvent
from tests.server import serve

BODY = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "路面塌陷，请尽快处理",
    "caller": {"name": "王五", "phone": "13700001234"},
    "location": {"address": "东湖公园北侧"},
}


async def orphans(settings: Settings) -> int:
    engine = create_engine(settings)
    try:
        async with unit_of_work(create_sessionmaker(engine), read_only=True) as session:
            with_events = select(TicketEvent.ticket_id)
            return int(
                await session.scalar(
                    select(func.count()).select_from(Ticket).where(Ticket.id.not_in(with_events))
                )
                or 0
            )
    finally:
        await engine.dispose()


@pytest.mark.slow
def test_sigkill_mid_intake_loses_no_answered_ticket(settings: Settings) -> None:
    answered: dict[str, int] = {}
    statuses: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()
    with serve(settings, "--demo") as server:
        people = json.loads((server.data_dir / "demo-keys.json").read_text())
        agent = next(p["key"] for p in people if p["role"] == "agent")

        def client(n: int) -> None:
            with httpx.Client(
                base_url=server.base, timeout=5, headers={"Authorization": f"Bearer {agent}"}
            ) as http:
                for i in range(10_000):
                    if stop.is_set():
                        return
                    key = f"crash-{n}-{i}"
                    try:
                        r = http.post("/v1/tickets", json=BODY, headers={"Idempotency-Key": key})
                    except httpx.HTTPError:
                        return
                    statuses.append(r.status_code)
                    if r.status_code == 201:
                        with lock:
                            answered[key] = r.json()["id"]

        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(client, n) for n in range(8)]
            # Kill mid-load once it is well under way (however slow a loaded machine makes it).
            deadline = time.monotonic() + 60
            while len(answered) <= 30 and time.monotonic() < deadline:
                time.sleep(0.05)
            server.process.kill()  # SIGKILL: no shutdown, no flush
            server.process.wait(10)
            stop.set()
            for f in futures:
                f.result(30)
    assert len(answered) > 20, f"the load never got going: {statuses}"
    with serve(settings, "--demo") as again:
        headers = {"Authorization": f"Bearer {agent}"}
        with httpx.Client(base_url=again.base, headers=headers, timeout=10) as http:
            for key, ticket_id in answered.items():
                r = http.get(f"/v1/tickets/{ticket_id}/events")
                assert r.status_code == 200 and r.json()[0]["action"] == "created", key
            key, ticket_id = next(iter(answered.items()))
            r = http.post("/v1/tickets", json=BODY, headers={"Idempotency-Key": key})
            assert r.status_code == 201
            assert r.json()["id"] == ticket_id
            assert r.headers["Idempotent-Replayed"] == "true"
    assert asyncio.run(orphans(settings)) == 0
