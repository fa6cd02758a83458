"""PostgreSQL stopped for a few seconds under load: requests fail fast with a 503 problem,
/readyz says why, and the service recovers by itself when the database returns; the sweeper and
the webhook deliverer log the outage and resume, losing and doubling no work.

The test runs its own throwaway PostgreSQL cluster (initdb on a free port, as the postgres
user), so stopping it disturbs nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from hotline.config import Settings
from hotline.kit.clock import utcnow
from tests.faults.support import LOOPS, Facts, facts, make_due, until
from tests.server import Receiver, free_port, serve

BIN = Path("/usr/lib/postgresql/15/bin")
BODY = {
    "kind": "help",
    "category": "urban.road",
    "content": "路面塌陷",
    "location": {"address": "东湖公园北侧"},
}


def _as_postgres(*args: str) -> subprocess.CompletedProcess[str]:
    command = " ".join(f"'{a}'" for a in args)
    return subprocess.run(
        ["su", "postgres", "-s", "/bin/sh", "-c", command],
        capture_output=True,
        text=True,
        check=True,
    )


def _start(data: Path, port: int) -> list[str]:
    # -l: the server must not inherit our pipes, or waiting for pg_ctl never ends.
    return [
        str(BIN / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(data / "server.log"),
        "-o",
        f"-p {port} -k {data}",
        "-w",
        "start",
    ]


def _stop(data: Path) -> None:
    _as_postgres(str(BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop")


@pytest.fixture
def cluster() -> Iterator[tuple[str, Path, int]]:
    if not (BIN / "initdb").exists() or os.geteuid() != 0 or shutil.which("su") is None:
        pytest.skip("needs PostgreSQL 15's binaries and root to run a private cluster")
    # Outside pytest's private (0700, root) temp tree: the postgres user must reach it.
    home = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
    home.chmod(0o755)
    data = home / "pg"
    data.mkdir()
    shutil.chown(data, "postgres", "postgres")
    port = free_port()
    _as_postgres(str(BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    _as_postgres(*_start(data, port))
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", data, port
    finally:
        subprocess.run(
            [
                "su",
                "postgres",
                "-s",
                "/bin/sh",
                "-c",
                f"'{BIN / 'pg_ctl'}' -D '{data}' -m immediate stop",
            ],
            capture_output=True,
        )


class Load:
    """One agent posting tickets back to back from a thread, before, during and after the
    outage; keeps every answer's status and the ids of the tickets answered 201."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.statuses: Counter[int] = Counter()
        self.created: list[int] = []
        self.slowest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(base, headers))

    def _run(self, base: str, headers: dict[str, str]) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            while not self._stop.is_set():
                started = time.monotonic()
                r = http.post("/v1/tickets", json=BODY)
                self.slowest = max(self.slowest, time.monotonic() - started)
                self.statuses[r.status_code] += 1
                if r.status_code == 201:
                    self.created.append(r.json()["id"])
                self._stop.wait(0.05)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(60)


@pytest.mark.slow
def test_an_outage_under_load_is_503_fast_and_every_loop_resumes(
    cluster: tuple[str, Path, int], tmp_path: Path
) -> None:
    url, data, port = cluster
    settings = Settings(data_dir=tmp_path / "data", database={"url": url})
    with Receiver() as receiver, serve(settings, "--demo", env=LOOPS) as server:
        people = json.loads((server.data_dir / "demo-keys.json").read_text())
        agent, admin = (
            {"Authorization": f"Bearer {next(p['key'] for p in people if p['role'] == role)}"}
            for role in ("agent", "admin")
        )
        http = httpx.Client(base_url=server.base, headers=agent, timeout=30)
        types = ["ticket.created", "ticket.overdue", "ticket.escalated"]
        r = http.post(
            "/v1/webhooks", json={"url": receiver.url, "event_types": types}, headers=admin
        )
        assert r.status_code == 201, r.text

        # Sign deadlines 0.2 s apart from 2 s ahead: some fall due before the outage, most
        # during it, the last after it.
        due: list[int] = []
        for _ in range(30):
            r = http.post("/v1/tickets", json=BODY)
            assert r.status_code == 201, r.text
            due.append(r.json()["id"])
        first = utcnow() + timedelta(seconds=2)
        make_due(settings, due, first, 0.2)
        last_due = time.monotonic() + 2 + 0.2 * len(due)

        with Load(server.base, agent) as load:
            until(
                "an overdue ticket reported before the outage",
                lambda: any(m.type == "ticket.overdue" for m in receiver.snapshot()),
                15,
            )
            before = len(server.lines)
            _stop(data)
            stopped = time.monotonic()

            started = time.monotonic()
            r = http.post("/v1/tickets", json=BODY)
            took = time.monotonic() - started
            assert r.status_code == 503, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert took < 10, f"a request hung for {took:.1f} s"
            ready = http.get("/readyz")
            assert ready.status_code == 503
            assert "unreachable" in ready.json()["checks"]["database"]
            assert http.get("/healthz").status_code == 200
            for failed in ("sweep failed", "webhook delivery failed"):
                until(
                    f"the log says {failed!r}",
                    lambda failed=failed: failed in "".join(server.lines[before:]),
                    10,
                )
            # Down until two thirds of the deadlines have passed.
            time.sleep(max(0.0, last_due - 2 - time.monotonic()))
            _as_postgres(*_start(data, port))
            restarted = time.monotonic()
            answered = len(load.created)

            until("/readyz says ready again", lambda: http.get("/readyz").status_code == 200, 30)
            until("tickets answered 201 again", lambda: len(load.created) >= answered + 3, 15)
            for resumed in ("sweep resumed", "webhook delivery resumed"):
                until(
                    f"the log says {resumed!r}",
                    lambda resumed=resumed: resumed in "".join(server.lines[before:]),
                    10,
                )

        # Every due ticket breached exactly once, every outbox row posted and marked.
        last: list[str] = []

        def settled() -> Facts | None:
            now = facts(settings)
            seen = {m.msg_id for m in receiver.snapshot()}
            unswept = [t for t in due if not now.events[(t, "overdue")]]
            undelivered = [
                (d.id, d.event_type, d.status, d.attempts, d.msg_id in seen)
                for d in now.outbox
                if d.status != "delivered" or d.msg_id not in seen
            ]
            last[:] = [f"unswept {unswept}, undelivered {undelivered}"]
            return None if unswept or undelivered else now

        try:
            final = until("every deadline swept and every delivery made", settled, 25)
        except AssertionError as exc:
            raise AssertionError(f"{exc}: {last[0]}\n{server.output()[-3000:]}") from None
        http.close()

    for ticket_id in due:
        assert final.events[(ticket_id, "overdue")] == 1, ticket_id
        assert final.events[(ticket_id, "escalated")] == 1, ticket_id
    assert sum(final.events.values()) == 2 * len(due), final.events  # and no reminders

    # One outbox row per event and subscriber, each marked delivered after one good post.
    created = set(due) | set(load.created)
    per_ticket = final.per_ticket()
    assert max(per_ticket.values()) == 1
    assert {t for kind, t in per_ticket if kind != "ticket.created"} == set(due)
    assert {t for kind, t in per_ticket if kind == "ticket.created"} >= created
    assert all(d.attempts == 1 for d in final.outbox), [
        (d.id, d.event_type, d.attempts, d.last_error, d.created_at, d.delivered_at)
        for d in final.outbox
        if d.attempts != 1
    ]
    received = receiver.snapshot()
    counts = Counter(m.msg_id for m in received)
    assert set(counts) == {d.msg_id for d in final.outbox}
    # At least once: a message goes out twice only if the database went away between its post
    # and the mark that it was delivered (then again once its lease ran out).
    for msg_id in {m for m, n in counts.items() if n > 1}:
        posted_at = min(m.at for m in received if m.msg_id == msg_id)
        assert stopped - 5 < posted_at < restarted, (msg_id, posted_at - stopped)

    assert set(load.statuses) <= {201, 503}, load.statuses
    assert load.statuses[503] > 0, "the load never met the outage"
    assert load.slowest < 10, f"a request hung for {load.slowest:.1f} s"
    # A traceback for each kind of failure (refused, starting up …), not one per tick.
    output = server.output()
    for loop in ("sweep", "webhook delivery"):
        assert 1 <= output.count(f"{loop} failed") <= 4, output
