"""Identical actions with one Idempotency-Key, fired at once at both processes of the real
server (`hotline serve --workers 2`): one action, every racer the same answer."""

from __future__ import annotations

import httpx
import pytest

from hotline.config import Settings
from tests.server import serve
from tests.workflow.test_concurrency import (
    GRID,
    bearer,
    demo_people,
    events,
    person,
    post_ticket,
    race,
    shot,
)

pytestmark = pytest.mark.slow


def test_six_retries_of_one_note_across_processes_write_one_note(settings: Settings) -> None:
    with serve(settings, "--demo", "--keep-alive", "600", workers=2) as server:
        people = demo_people(server)
        agent = bearer(person(people, "agent")["key"])
        worker = bearer(person(people, "worker", GRID)["key"])
        for n in range(2):
            ticket = post_ticket(server.base, agent)
            path = f"/v1/tickets/{ticket['id']}/sign"
            r = httpx.post(f"{server.base}{path}", json={}, headers=worker, timeout=30)
            assert r.status_code == 200, r.text
            keyed = {**worker, "Idempotency-Key": f"outbox-note-{n}"}
            note = f"/v1/tickets/{ticket['id']}/note"
            answers = race(server.base, [shot(note, {"text": "已到现场"}, keyed)] * 6)
            assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
            assert len({a.content for a in answers}) == 1
            assert sum(a.headers.get("idempotent-replayed") == "true" for a in answers) == 5
            noted = [e for e in events(server.base, ticket["id"], agent) if e["action"] == "noted"]
            assert len(noted) == 1
