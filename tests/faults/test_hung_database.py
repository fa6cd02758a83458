"""PostgreSQL frozen (SIGSTOP: it accepts connections and never answers, unlike a stopped
server that refuses them): a request gets its 503 problem within HOTLINE_DATABASE__TIMEOUT,
whether it was already waiting on the database or came after; /readyz says not ready within
2 s; once the server runs again the service recovers by itself, and every ticket answered 201
is stored exactly once.

The test runs its own throwaway PostgreSQL cluster (initdb on a free port, as the postgres user
when run as root), so freezing it disturbs nothing else.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline.config import DatabaseSettings, Settings
from tests.faults.support import LOOPS, until
from tests.server import free_port, serve

BIN = Path("/usr/lib/postgresql/15/bin")
# What a request may take against a frozen database: the default timeout, and a second for the
# rest of the request and the test's own HTTP round trip.
TIMEOUT = DatabaseSettings().timeout
SLACK = 1.0
READY_WITHIN = 2.5
# The test's own patience with one HTTP call: a request still waiting then has hung.
HUNG = 30.0
WAITING = "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
BODY = {
    "kind": "help",
    "category": "urban.road",
    "content": "路面塌陷",
    "location": {"address": "东湖公园北侧"},
}


def _as_owner() -> dict[str, Any]:
    """As root, PostgreSQL's programs run as the postgres user (initdb refuses root). Not
    through runuser or su: they stop themselves when their child is stopped, and would then
    never reap the server when it exits."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


def _missing() -> str | None:
    for program in ("initdb", "postgres", "pg_isready", "psql"):
        if not (BIN / program).exists():
            return f"PostgreSQL 15's {program} is not in {BIN}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "there is no postgres user to run PostgreSQL as (as root)"
    return None


def _children() -> dict[int, list[int]]:
    """Parent pid → child pids, for every process (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # gone meanwhile
        # The name (field 2) is in parentheses and may hold spaces; the parent pid follows.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry))
    return children


@dataclass
class Cluster:
    home: Path
    port: int
    process: subprocess.Popen[bytes]
    frozen: set[int] = field(default_factory=set)

    @property
    def data(self) -> Path:
        return self.home / "pg"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def family(self) -> list[int]:
        """The postmaster and every process under it. Its backends are not in its process
        group (each calls setsid), so they are found by parentage."""
        root = self.process.pid
        tree = _children()
        found, todo = [root], [root]
        while todo:
            for child in tree.get(todo.pop(), []):
                found.append(child)
                todo.append(child)
        return found

    def freeze(self) -> None:
        """SIGSTOP the postmaster first (it forks no more), then its children until none is
        left running: the server accepts connections (the kernel does) and answers nothing."""
        while fresh := [p for p in self.family() if p not in self.frozen]:
            for pid in fresh:
                try:
                    os.kill(pid, signal.SIGSTOP)
                except ProcessLookupError:
                    continue
                self.frozen.add(pid)

    def thaw(self) -> None:
        for pid in self.frozen:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.frozen.clear()

    def psql(self, *args: str) -> list[str]:
        server = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "postgres"]
        return [str(BIN / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", *server, *args]

    def rows(self, query: str) -> list[list[str]]:
        out = subprocess.run(
            self.psql("-c", query), capture_output=True, text=True, check=True, timeout=30
        ).stdout
        return [line.split("|") for line in out.splitlines() if line]

    def lock(self, table: str) -> Locked:
        """Hold ``table`` in ACCESS EXCLUSIVE mode from a session of our own."""
        holder = subprocess.Popen(
            self.psql(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.write(f"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE; SELECT 'held';\n")
        holder.stdin.flush()
        answer = holder.stdout.readline()
        locked = Locked(holder)
        if answer.strip() != "held":
            locked.release()
            raise AssertionError(f"could not lock {table}: {answer}")
        return locked

    def stop(self) -> None:
        self.thaw()
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)  # fast shutdown
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            for pid in reversed(self.family()):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.process.wait(15)


@dataclass
class Locked:
    holder: subprocess.Popen[str]

    def release(self) -> None:
        """End our session: the transaction rolls back and the lock goes."""
        if self.holder.poll() is None:
            assert self.holder.stdin is not None
            self.holder.stdin.close()
            try:
                self.holder.wait(10)
            except subprocess.TimeoutExpired:
                self.holder.kill()
                self.holder.wait(10)
        if self.holder.stdout is not None:
            self.holder.stdout.close()


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    missing = _missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {missing}")
        pytest.skip(missing)
    # Outside pytest's private (0700, root) temp tree: the postgres user must reach it.
    home = Path(tempfile.mkdtemp(prefix="hotline-hung-pg-"))
    home.chmod(0o755)
    data = home / "pg"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    cluster: Cluster | None = None
    try:
        subprocess.run(
            [str(BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-N"],
            cwd=home,
            capture_output=True,
            check=True,
            timeout=120,
            **_as_owner(),
        )
        port = free_port()
        with (home / "server.log").open("wb") as log:
            listen = ["-c", "listen_addresses=127.0.0.1", "-p", str(port), "-k", str(data)]
            # Its own session: no terminal signal reaches it.
            process = subprocess.Popen(
                [str(BIN / "postgres"), "-D", str(data), *listen],
                cwd=home,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **_as_owner(),
            )
        cluster = Cluster(home, port, process)
        ready = [str(BIN / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)]
        deadline = time.monotonic() + 30
        while subprocess.run(ready, check=False).returncode != 0:
            assert process.poll() is None, (home / "server.log").read_text()
            assert time.monotonic() < deadline, (home / "server.log").read_text()
            time.sleep(0.1)
        yield cluster
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(home, ignore_errors=True)


@dataclass
class Answer:
    status: int
    content_type: str
    body: dict[str, object]
    seconds: float


def _call(method: str, url: str, headers: dict[str, str], body: object = None) -> Answer:
    started = time.monotonic()
    try:
        r = httpx.request(method, url, headers=headers, json=body, timeout=HUNG)
    except httpx.TimeoutException:
        return Answer(0, "", {"hung": f"no answer within {HUNG:g} s"}, time.monotonic() - started)
    seconds = time.monotonic() - started
    try:
        answer = r.json()
    except ValueError:
        answer = {"text": r.text}
    return Answer(r.status_code, r.headers.get("content-type", ""), answer, seconds)


def _is_503_problem(answer: Answer) -> bool:
    return (
        answer.status == 503
        and answer.content_type == "application/problem+json"
        and answer.body.get("status") == 503
        and answer.body.get("code") == "unavailable"
    )


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_frozen_database_is_503_within_the_timeout_and_loses_no_ticket(
    cluster: Cluster, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    command = ["migrate", "--data-dir", str(data_dir), "--database-url", cluster.url]
    migrated = subprocess.run(
        [sys.executable, "-m", "hotline", *command],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    settings = Settings(data_dir=data_dir, database={"url": cluster.url})
    timings: dict[str, float] = {}

    with serve(settings, "--demo", env=LOOPS) as server:
        people = json.loads((server.data_dir / "demo-keys.json").read_text())
        key = next(p["key"] for p in people if p["role"] == "agent")
        agent = {"Authorization": f"Bearer {key}"}
        tickets = f"{server.base}/v1/tickets"
        ready = f"{server.base}/readyz"
        acknowledged: dict[str, int] = {}  # the marker in a ticket's content → its id
        refused: list[str] = []
        numbers = count()

        def post(what: str) -> Answer:
            marker = f"{what}-{next(numbers)}"
            answer = _call("POST", tickets, agent, {**BODY, "content": f"路面塌陷 {marker}"})
            if answer.status == 201:
                acknowledged[marker] = int(str(answer.body["id"]))
            else:
                refused.append(marker)
            return answer

        for _ in range(10):
            answer = post("before")
            assert answer.status == 201, answer.body

        def waiting() -> set[str]:
            """The backends waiting on a lock."""
            return {row[0] for row in cluster.rows(WAITING)}

        pool = ThreadPoolExecutor(4)
        logged = len(server.lines)
        locked = cluster.lock("ticket")
        try:
            # 1. Alive, but statements wait on a lock. Background work is not held to a
            # request's budget: the sweeper (or the metrics roll-up) waits on.
            background = until("the sweeper waiting on the lock", waiting, 10, every=0.05)
            waited_from = time.monotonic()
            # A request is: the server ends its statement.
            answer = post("lock-wait")
            timings["503 after a lock wait (server alive)"] = answer.seconds
            assert _is_503_problem(answer), answer
            assert answer.seconds < TIMEOUT + SLACK, answer
            time.sleep(max(0.0, waited_from + TIMEOUT + SLACK - time.monotonic()))
            assert background & waiting(), "the background statement's wait was cut short"
            assert "sweep failed" not in "".join(server.lines[logged:]), server.output()[-3000:]

            # 2. Frozen while a request waits on that lock, and more arrive.
            before = waiting()
            in_flight: Future[Answer] = pool.submit(post, "in-flight")
            until("the request waiting on the lock", lambda: waiting() - before, 5, every=0.05)
            cluster.freeze()
            frozen_at = time.monotonic()
            arriving: Future[Answer] = pool.submit(post, "after-freeze")
            probe: Future[Answer] = pool.submit(_call, "GET", ready, {})
            alive = _call("GET", f"{server.base}/healthz", {})
            assert alive.status == 200 and alive.seconds < 1, alive

            answer = probe.result(30)
            timings["/readyz 503 (frozen)"] = answer.seconds
            assert answer.status == 503, answer
            assert answer.seconds < READY_WITHIN, answer
            checks = answer.body["checks"]
            assert isinstance(checks, dict) and "unreachable" in checks["database"], answer
            for what, future in (("in flight", in_flight), ("arriving", arriving)):
                answer = future.result(30)
                timings[f"503 for a request {what} (frozen)"] = answer.seconds
                assert _is_503_problem(answer), (what, answer)
                assert answer.seconds < TIMEOUT + SLACK, (what, answer)
            assert time.monotonic() - frozen_at < TIMEOUT + SLACK
        finally:
            cluster.thaw()
            thawed = time.monotonic()
            locked.release()
            pool.shutdown(wait=True)

        # 3. Running again: ready, and taking tickets, by itself.
        until("/readyz says ready again", lambda: _call("GET", ready, {}).status == 200, 15)
        timings["/readyz 200 after SIGCONT"] = time.monotonic() - thawed
        until("a ticket answered 201 again", lambda: post("recovered").status == 201, 15)
        timings["201 after SIGCONT"] = time.monotonic() - thawed
        for _ in range(5):
            answer = post("after")
            assert answer.status == 201, answer.body

    # Every ticket answered 201 is there once, under the id it was given. A request answered
    # 503 may or may not have been stored (none of these reached their insert).
    stored: dict[str, list[int]] = {}
    for row_id, content in cluster.rows(
        "SELECT id, content FROM ticket WHERE content LIKE '路面塌陷 %'"
    ):
        stored.setdefault(content.removeprefix("路面塌陷 "), []).append(int(row_id))
    for marker, ticket_id in acknowledged.items():
        assert stored.get(marker) == [ticket_id], (marker, stored.get(marker))
    assert all(len(stored.get(m, [])) <= 1 for m in refused), (refused, stored)
    assert len(acknowledged) >= 16, acknowledged

    print("\n".join(f"{what}: {seconds:.2f} s" for what, seconds in timings.items()))
