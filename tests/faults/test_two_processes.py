"""Two `hotline serve` processes on one PostgreSQL, each with its sweeper and webhook deliverer,
under load: agents post on both, grid workers long-poll their assignments on the other process
and sign what arrives, deadlines fall due meanwhile. No ticket is missed by a `since` poll, no
deadline is escalated twice, no webhook is posted twice, nothing answers 5xx."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest

from hotline.config import Settings
from hotline.kit.clock import utcnow
from tests.faults.support import LOOPS, facts, make_due, until
from tests.server import Receiver, Server, serve, together

pytestmark = pytest.mark.slow

PER_GRID = 15
DUE = 16


def road(grid: str) -> dict[str, Any]:
    return {
        "kind": "complaint",
        "category": "urban.road",
        "content": "路面塌陷",
        "location": {"grid_code": grid},
    }


class Answers:
    """Every status code any client got, from any thread."""

    def __init__(self) -> None:
        self.codes: Counter[int] = Counter()
        self.bad: list[str] = []
        self._lock = threading.Lock()

    def note(self, r: httpx.Response) -> httpx.Response:
        with self._lock:
            self.codes[r.status_code] += 1
            if r.status_code >= 500:
                self.bad.append(f"{r.request.method} {r.request.url}: {r.status_code} {r.text}")
        return r


class Poller(threading.Thread):
    """A grid worker long-polling `since` its cursor on one process and signing each ticket that
    arrives dispatched; keeps every (ticket, status) it was shown."""

    def __init__(self, base: str, key: str, answers: Answers) -> None:
        super().__init__()
        self.http = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        self.answers = answers
        self.shown: set[tuple[int, str]] = set()
        self.signed: Counter[int] = Counter()
        self.stop = threading.Event()
        self.error: BaseException | None = None
        r = answers.note(self.http.get("/v1/assignments"))
        assert r.status_code == 200, r.text
        self.cursor = r.json()["cursor"]

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                r = self.answers.note(
                    self.http.get("/v1/assignments", params={"since": self.cursor, "wait": 2})
                )
                assert r.status_code == 200, r.text
                page = r.json()
                self.cursor = page["cursor"]
                for item in reversed(page["items"]):  # oldest change first
                    ticket = item["ticket"]
                    self.shown.add((ticket["id"], ticket["status"]))
                    if ticket["status"] == "dispatched":
                        s = self.answers.note(
                            self.http.post(f"/v1/tickets/{ticket['id']}/sign", json={})
                        )
                        assert s.status_code == 200, s.text
                        self.signed[ticket["id"]] += 1
        except BaseException as exc:
            self.error = exc
        finally:
            self.http.close()


def post_tickets(base: str, key: str, grid: str, n: int, answers: Answers) -> list[int]:
    ids = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as h:
        for _ in range(n):
            r = answers.note(h.post("/v1/tickets", json=road(grid)))
            assert r.status_code == 201, r.text
            assert r.json()["route"]["grid_code"] == grid
            ids.append(r.json()["id"])
    return ids


def sweeper_passes(server: Server) -> float:
    text = httpx.get(f"{server.base}/metrics", timeout=30).text
    found = re.search(r"^hotline_sweeper_passes (\S+)$", text, re.M)
    assert found, text
    return float(found.group(1))


def test_two_processes_share_the_work_without_missing_or_doubling(
    settings: Settings, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("several API processes are the PostgreSQL deployment")
    answers = Answers()
    with (
        Receiver() as receiver,
        together(serve(settings, "--demo", env=LOOPS), serve(settings, env=LOOPS)) as (a, b),
    ):
        people = json.loads((a.data_dir / "demo-keys.json").read_text())
        key = {p["role"]: p["key"] for p in reversed(people) if p["unit"] is None}
        workers = [(p["unit"], p["key"]) for p in people if p["role"] == "worker"][:3]
        (g1, w1), (g2, w2), (g3, _) = workers
        r = httpx.post(
            f"{a.base}/v1/webhooks",
            json={
                "url": receiver.url,
                "event_types": [
                    "ticket.created",
                    "ticket.signed",
                    "ticket.overdue",
                    "ticket.escalated",
                ],
            },
            headers={"Authorization": f"Bearer {key['admin']}"},
        )
        assert r.status_code == 201, r.text

        # Tickets nobody polls, falling due 0.15 s apart from 1 s ahead, during the load.
        due = post_tickets(a.base, key["agent"], g3, DUE // 2, answers)
        due += post_tickets(b.base, key["agent"], g3, DUE // 2, answers)
        make_due(settings, due, utcnow() + timedelta(seconds=1), 0.15)

        # Grid 1's worker polls process B for tickets posted on A; grid 2's, the reverse.
        pollers = [Poller(b.base, w1, answers), Poller(a.base, w2, answers)]
        for poller in pollers:
            poller.start()
        posted: dict[str, list[int]] = {}
        posters = [
            threading.Thread(
                target=lambda base=base, grid=grid: posted.__setitem__(
                    grid, post_tickets(base, key["agent"], grid, PER_GRID, answers)
                )
            )
            for base, grid in ((a.base, g1), (b.base, g2))
        ]
        for poster in posters:
            poster.start()
        for poster in posters:
            poster.join(60)
        assert set(posted) == {g1, g2}, "a poster failed"

        def signed_all() -> bool:
            assert all(p.error is None for p in pollers), [p.error for p in pollers]
            return all(
                {(t, "signed") for t in posted[grid]} <= poller.shown
                for poller, grid in zip(pollers, (g1, g2), strict=True)
            )

        until("every ticket shown to its poller and signed", signed_all, 30)
        for poller in pollers:
            poller.stop.set()
        for poller in pollers:
            poller.join(10)
        assert all(p.error is None for p in pollers), [p.error for p in pollers]

        def settled() -> Any:
            f = facts(settings)
            seen = {m.msg_id for m in receiver.snapshot()}
            swept = all(f.events[(t, "overdue")] for t in due)
            sent = all(d.status == "delivered" and d.msg_id in seen for d in f.outbox)
            return f if swept and sent else None

        final = until("every deadline swept and every webhook delivered", settled, 30)
        passes = [sweeper_passes(a), sweeper_passes(b)]

    # Each posted ticket reached its grid's poller on the other process, once dispatched and
    # once signed, and was signed exactly once.
    for poller, grid in zip(pollers, (g1, g2), strict=True):
        assert {t for t, _ in poller.shown} == set(posted[grid])
        assert poller.signed == Counter(posted[grid])

    # The sweepers of both processes ran, and each due ticket breached and escalated once.
    assert all(n > 0 for n in passes), passes
    for ticket_id in due:
        assert final.events[(ticket_id, "overdue")] == 1, ticket_id
        assert final.events[(ticket_id, "escalated")] == 1, ticket_id
    assert sum(final.events.values()) == 2 * DUE, final.events

    # One outbox row per event, each posted exactly once by one of the two deliverers.
    expected = Counter(
        {("ticket.created", t): 1 for t in due + posted[g1] + posted[g2]}
        | {("ticket.signed", t): 1 for t in posted[g1] + posted[g2]}
        | {("ticket.overdue", t): 1 for t in due}
        | {("ticket.escalated", t): 1 for t in due}
    )
    assert final.per_ticket() == expected
    received = Counter(m.msg_id for m in receiver.snapshot())
    assert set(received) == {d.msg_id for d in final.outbox}
    assert max(received.values()) == 1, [m for m, n in received.items() if n > 1]
    assert all(d.attempts == 1 for d in final.outbox)

    assert not answers.bad, answers.bad
    assert set(answers.codes) == {200, 201}, answers.codes
