"""Races and wake-ups across the real server's worker processes (`hotline serve --workers 2`).

Racing requests are fired from threads, each on its own connection, released together by a
barrier. The kernel spreads fresh connections over the two processes; each racer keeps opening
one until /healthz answers from the process it was dealt, so the racers always commit from both
processes (and their own database connections). The long-poll test pins the poll to one process
and the POST to the other the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from hotline.config import Settings
from tests.server import Server, serve

pytestmark = pytest.mark.slow

GRID = "210124100002001"
ROAD: dict[str, Any] = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "路面塌陷",
    "location": {"address": "东湖公园北侧"},
}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def demo_people(server: Server) -> list[dict[str, Any]]:
    return list(json.loads((server.data_dir / "demo-keys.json").read_text()))


def person(people: list[dict[str, Any]], role: str, unit: str | None = None) -> dict[str, Any]:
    return next(p for p in people if p["role"] == role and (unit is None or p["unit"] == unit))


def mint_key(
    settings: Settings, role: str, name: str, unit: str | None = None, staff_id: int | None = None
) -> str:
    """A key minted by the CLI (`hotline keys create`) on the test's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    if settings.database.url:
        env["HOTLINE_DATABASE__URL"] = settings.database.url
    args = ["--role", role, "--name", name, "--data-dir", str(settings.data_dir)]
    if unit is not None:
        args += ["--unit", unit]
    if staff_id is not None:
        args += ["--staff-id", str(staff_id)]
    done = subprocess.run(
        [sys.executable, "-m", "hotline", "keys", "create", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def post_ticket(base: str, agent: dict[str, str], body: dict[str, Any] = ROAD) -> dict[str, Any]:
    with httpx.Client(base_url=base, headers=agent, timeout=30) as http:
        r = http.post("/v1/tickets", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


Shot = Callable[[httpx.Client], httpx.Response]


def processes(base: str) -> list[int]:
    """The pids of the server's two worker processes, as fresh connections find them."""
    pids: set[int] = set()
    for _ in range(200):
        with httpx.Client(base_url=base) as http:
            pids.add(int(http.get("/healthz").json()["pid"]))
        if len(pids) == 2:
            return sorted(pids)
    raise AssertionError(f"only process {pids} answered")


def landed(base: str, pid: int) -> httpx.Client:
    """A client whose kept-alive connection is served by process ``pid``."""
    for _ in range(200):
        http = httpx.Client(base_url=base, timeout=60, limits=httpx.Limits(keepalive_expiry=600))
        if http.get("/healthz").json()["pid"] == pid:
            return http
        http.close()
    raise AssertionError(f"no connection landed on process {pid}")


def race(base: str, shots: list[Shot]) -> list[httpx.Response]:
    """Fire every shot at once, each from its own thread on its own connection, the shots
    dealt alternately to the two server processes. (The servers keep idle connections for
    minutes: on a loaded machine the last thread may land long after the first.)"""
    pids = processes(base)
    barrier = threading.Barrier(len(shots))

    def fire(n: int, fn: Shot) -> httpx.Response:
        try:
            http = landed(base, pids[n % 2])
        except BaseException:
            barrier.abort()  # the others would wait for this one forever
            raise
        try:
            barrier.wait(timeout=120)
            answer = fn(http)
            assert http.get("/healthz").json()["pid"] == pids[n % 2]
            return answer
        finally:
            http.close()

    with ThreadPoolExecutor(len(shots)) as pool:
        return list(pool.map(fire, range(len(shots)), shots))


def shot(path: str, body: dict[str, Any], headers: dict[str, str]) -> Shot:
    return lambda http: http.post(path, json=body, headers=headers)


def events(base: str, ticket_id: int, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = httpx.get(f"{base}/v1/tickets/{ticket_id}/events", headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    return list(r.json())


def test_twenty_workers_claim_one_queued_ticket(settings: Settings) -> None:
    with serve(settings, "--demo", "--keep-alive", "600", workers=2) as server:
        people = demo_people(server)
        agent = bearer(person(people, "agent")["key"])
        admin = bearer(person(people, "admin")["key"])
        first = person(people, "worker", GRID)
        r = httpx.patch(
            f"{server.base}/v1/staff/{first['staff_id']}", json={"on_duty": False}, headers=admin
        )
        assert r.status_code == 200, r.text

        workers = [(first["staff_id"], first["name"], bearer(first["key"]))]
        created = []
        for n in range(19):
            r = httpx.post(
                f"{server.base}/v1/staff",
                json={"name": f"抢单网格员{n:02d}", "role": "worker", "unit_code": GRID},
                headers=admin,
            )
            assert r.status_code == 201, r.text
            assert r.json()["on_duty"] is False
            created.append(r.json())
        with ThreadPoolExecutor(4) as pool:
            keys = list(
                pool.map(lambda s: mint_key(settings, "worker", s["name"], GRID, s["id"]), created)
            )
        workers += [(s["id"], s["name"], bearer(k)) for s, k in zip(created, keys, strict=True)]
        assert len({w[0] for w in workers}) == 20

        for _ in range(3):
            ticket = post_ticket(server.base, agent)
            assert ticket["route"]["grid_code"] == GRID
            assert ticket["route"]["assignee_id"] is None  # queued: nobody on duty
            assert ticket["status"] == "dispatched"
            path = f"/v1/tickets/{ticket['id']}/sign"
            answers = race(server.base, [shot(path, {}, h) for _, _, h in workers])
            codes = Counter(r.status_code for r in answers)
            assert codes == {200: 1, 409: 19}, [(r.status_code, r.text) for r in answers]
            for r in answers:
                if r.status_code == 409:
                    assert r.json()["code"] == "invalid_transition", r.text
                    assert r.json()["state"] == "signed", r.text
            (won,) = [n for n, r in enumerate(answers) if r.status_code == 200]
            assert answers[won].json()["status"] == "signed"

            timeline = events(server.base, ticket["id"], agent)
            signed = [e for e in timeline if e["action"] == "signed"]
            assert len(signed) == 1, timeline
            assert signed[0]["actor"]["name"] == workers[won][1]
            r = httpx.get(f"{server.base}/v1/tickets/{ticket['id']}", headers=agent)
            assert r.json()["status"] == "signed"
            assert r.json()["version"] == answers[won].json()["version"]


def test_two_dispatchers_decide_one_return_at_once(settings: Settings) -> None:
    with serve(settings, "--demo", "--keep-alive", "600", workers=2) as server:
        people = demo_people(server)
        agent = bearer(person(people, "agent")["key"])
        worker = bearer(person(people, "worker", GRID)["key"])
        first = bearer(person(people, "dispatcher")["key"])
        second = bearer(mint_key(settings, "dispatcher", "第二调度员"))
        elsewhere = next(p["unit"] for p in people if p["role"] == "worker" and p["unit"] != GRID)

        winners: Counter[str] = Counter()
        for _ in range(4):
            ticket = post_ticket(server.base, agent)
            assert ticket["route"]["grid_code"] == GRID
            assert ticket["route"]["assignee_id"] is not None
            r = httpx.post(
                f"{server.base}/v1/tickets/{ticket['id']}/return",
                json={"reason_code": "not_our_area", "reason": "塌陷路段属邻近网格"},
                headers=worker,
            )
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "return_requested"

            t = ticket["id"]
            approve = {"approve": True, "unit_code": elsewhere, "note": "改派邻近网格"}
            reject = {"approve": False, "note": "属本网格，请办理"}
            path = f"/v1/tickets/{t}/return-decision"
            answers = race(server.base, [shot(path, approve, first), shot(path, reject, second)])
            codes = sorted(r.status_code for r in answers)
            assert codes == [200, 409], [(r.status_code, r.text) for r in answers]
            lost = next(r for r in answers if r.status_code == 409)
            assert lost.json()["code"] in ("invalid_transition", "conflict"), lost.text
            approved = answers[0].status_code == 200
            winners["approve" if approved else "reject"] += 1

            timeline = events(server.base, t, agent)
            decided = [
                e["action"]
                for e in timeline
                if e["action"] in ("return_approved", "return_rejected")
            ]
            assert decided == ["return_approved" if approved else "return_rejected"], timeline
            r = httpx.get(f"{server.base}/v1/tickets/{t}", headers=agent)
            assert r.json()["status"] == "dispatched"
            assert r.json()["route"]["grid_code"] == (elsewhere if approved else GRID)
            assert r.json()["transfer_count"] == (1 if approved else 0)
            r = httpx.get(f"{server.base}/v1/returns", headers=first)
            assert t not in [item["ticket"]["id"] for item in r.json()["items"]]
        assert sum(winners.values()) == 4


@contextmanager
def pinned(base: str, headers: dict[str, str], avoid: int | None = None) -> Iterator[Any]:
    """A client whose (kept-alive) connection is served by one known process: a fresh connection
    until /healthz answers from a process other than ``avoid``. Yields (client, pid)."""
    for _ in range(100):
        http = httpx.Client(base_url=base, headers=headers, timeout=40)
        pid = int(http.get("/healthz").json()["pid"])
        if pid != avoid:
            try:
                yield http, pid
            finally:
                http.close()
            return
        http.close()
    raise AssertionError(f"every connection landed on process {avoid}")


def test_a_long_poll_wakes_on_an_assignment_made_by_the_other_process(
    settings: Settings,
) -> None:
    with serve(settings, "--demo", "--keep-alive", "600", workers=2) as server:
        people = demo_people(server)
        agent = bearer(person(people, "agent")["key"])
        worker = bearer(person(people, "worker", GRID)["key"])
        for _ in range(3):
            with (
                pinned(server.base, worker) as (poller, poll_pid),
                pinned(server.base, agent, avoid=poll_pid) as (poster, post_pid),
            ):
                r = poller.get("/v1/assignments")
                assert r.status_code == 200, r.text
                cursor = r.json()["cursor"]
                returned: dict[str, Any] = {}

                def long_poll(
                    poller: httpx.Client = poller,
                    cursor: str = cursor,
                    returned: dict[str, Any] = returned,
                ) -> None:
                    started = time.monotonic()
                    returned["response"] = poller.get(
                        "/v1/assignments", params={"since": cursor, "wait": 10}
                    )
                    returned["at"] = time.monotonic()
                    returned["took"] = returned["at"] - started

                thread = threading.Thread(target=long_poll)
                thread.start()
                time.sleep(1)  # it is waiting now (a poll that returned early fails below)
                assert "at" not in returned, returned["response"].text
                r = poster.post("/v1/tickets", json=ROAD)
                posted = time.monotonic()
                assert r.status_code == 201, r.text
                ticket = r.json()["id"]
                thread.join(15)
                assert not thread.is_alive()

                answer = returned["response"]
                assert answer.status_code == 200, answer.text
                assert [i["ticket"]["id"] for i in answer.json()["items"]] == [ticket]
                late = returned["at"] - posted
                assert late < 1, f"woke {late:.3f} s after the POST (waited {returned['took']:.3f})"
                # Both requests stayed on their connections: the wake crossed processes.
                assert poller.get("/healthz").json()["pid"] == poll_pid
                assert poster.get("/healthz").json()["pid"] == post_pid != poll_pid
