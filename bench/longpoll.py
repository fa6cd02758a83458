"""Benchmark of long-poll wake-ups: how fast held polls return when a ticket lands in their grid.

Usage: ``python bench/longpoll.py [--waiters 2000] [--workers 1] [--rate 20] [--seconds 30]
[--database-url URL] [--json out.json]``

* A synthetic county sized to the waiters: ``hotline demo generate --grids N`` with N about
  ``waiters`` ÷ 1.5, ``hotline grids import``, ``hotline demo`` (which then only mints the
  centre's keys), and grid workers as real grids have them: alternately two and one per grid,
  the grids in a shuffled order, each worker with their own staff row and their own worker key
  (``hotline.auth.service.create_key``). SQLite in a temporary data directory by default, or the
  given PostgreSQL database, whose ``public`` schema is dropped and recreated first (everything
  in it is lost).
* ``hotline serve --demo --workers W`` on 127.0.0.1 (sweeper and webhook loops on, as in
  production); ``run.py`` uses 1 process on SQLite (a second would wake on every change: SQLite
  has no notifications) and 2 on PostgreSQL.
* Each worker holds one long poll (``GET /v1/assignments?since=…&wait=30``) on a keep-alive
  connection of its own and polls again at once from the new cursor when it returns, as the
  field app does. The polls are opened at 200/s; each worker's first poll waits a random 1–30 s,
  so that from the start the 30 s expiries (and the re-polls they bring, ``waiters`` ÷ 30 a
  second) are spread evenly, as in a county whose workers did not all connect at once. Posting
  starts when every poll is held and the server has worked off the opening (its CPU share
  low or steady), after 2 s that measure what holding the polls alone costs the server.
* Tickets are posted at ``--rate`` a second for ``--seconds``, open loop (each at its slot, gaps
  uniform in 0.5–1.5 times the mean, whatever the previous POST is doing), each routed by
  ``location.grid_code`` to a staffed grid (a different grid each time while there are grids
  left). A wake's latency is the time from the client receiving the ticket's 201 to it receiving
  the poll answer that names the ticket (a poll answered before the 201 arrived counts 0 and is
  counted as early). Every worker of the grid must be woken: one not woken within 5 s counts as
  missed, and as 5 s in the percentiles.
* Reported: wake p50/p99/max, polls woken of those expected, errors (of polls and of POSTs), the
  POST's own latency, polls that returned empty while posting (their 30 s ran out), the
  server's RSS (VmRSS of each process of its group: the largest and the sum) idle, with the
  waiters attached and at the end, and the CPU time of the server's process group and of this
  client over the posting window, as a share of one core.

The client is this Python process and shares the 2 CPUs with the server, so it is kept cheap: a
minimal HTTP/1.1 keep-alive client on asyncio streams (uvloop when installed), one connection
per waiter, no connection pool to walk on every request; its CPU share while posting is
reported beside the server's. Bounded in time (the county 300 s, the waiters 40 s to be held,
posting ``--seconds`` plus 5 s); the server's process group is stopped at the end.

``run(waiters, database_url, workers=…, rate=…, seconds=…)`` returns the figures as a dict.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake import (
    clean_env,
    free_port,
    group_cpu_seconds,
    hotline_cmd,
    percentile,
    reset_schema,
    server,
)

WAIT = 30  # seconds each poll is held
RAMP_RATE = 200  # polls opened a second
HOLD = 40  # seconds at most for every poll to be held and the server's backlog worked off
BASELINE = 2.0  # seconds of holding the polls, no tickets, before posting
TICKET_TIMEOUT = 5  # seconds to wait for every poll a ticket concerns; later counts as missed
IO_TIMEOUT = WAIT + 30  # seconds for one answer
ROAD = {"kind": "complaint", "category": "urban.road", "content": "路面塌陷，请尽快处置"}


# ---------------------------------------------------------------------------------------------
# The county and its workers
# ---------------------------------------------------------------------------------------------


def staff_workers(
    data_dir: Path, database_url: str | None, waiters: int, seed: int = 7
) -> list[tuple[str, str]]:
    """``waiters`` grid workers, alternately two and one per grid over the grids in a shuffled
    order, each with their own key; (grid code, key) per worker."""
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from hotline.auth.roles import Role
    from hotline.auth.service import create_key
    from hotline.config import Settings
    from hotline.db.engine import create_engine
    from hotline.org.models import Staff, Unit

    settings = Settings(data_dir=data_dir, database={"url": database_url})

    async def go() -> list[tuple[str, str]]:
        engine = create_engine(settings)
        try:
            maker = async_sessionmaker(engine, expire_on_commit=False)
            async with maker() as session, session.begin():
                codes = sorted(
                    (await session.scalars(select(Unit.code).where(Unit.kind == "grid"))).all()
                )
                random.Random(seed).shuffle(codes)
                now = datetime.now(UTC)
                people: list[Staff] = []
                for i, code in enumerate(codes):
                    for _ in range(min(2 if i % 2 == 0 else 1, waiters - len(people))):
                        n = len(people)
                        people.append(
                            Staff(
                                name=f"网格员{n:05d}",
                                role="worker",
                                unit_code=code,
                                phone=f"139{n:08d}",
                                active=True,
                                on_duty=True,
                                created_at=now,
                                updated_at=now,
                            )
                        )
                if len(people) < waiters:
                    raise RuntimeError(f"{len(codes)} grids cannot hold {waiters} workers")
                session.add_all(people)
                await session.flush()
                out = []
                for person in people:
                    minted = await create_key(
                        session,
                        name=person.name,
                        role=Role.worker,
                        unit_code=person.unit_code,
                        staff_id=person.id,
                    )
                    out.append((person.unit_code, minted.key))
                return out
        finally:
            await engine.dispose()

    return asyncio.run(go())


# ---------------------------------------------------------------------------------------------
# A cheap HTTP/1.1 client
# ---------------------------------------------------------------------------------------------


class Http:
    """One keep-alive HTTP/1.1 connection, one request at a time; reconnects when closed."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reused = False  # an answer came on this connection already

    async def request(
        self, method: str, target: str, headers: str, body: bytes = b""
    ) -> tuple[int, bytes]:
        """The answer's status and body. ``headers``: ``Name: value\\r\\n`` lines.

        A kept-alive connection the server has closed meanwhile (uvicorn closes idle ones after
        5 s) fails before any byte of an answer: then, as HTTP clients do, the request is sent
        once more on a new connection (the poster's POSTs carry an Idempotency-Key)."""
        try:
            return await self._request(method, target, headers, body)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            stale = self.reused and not getattr(exc, "partial", b"")
            if not stale:
                raise
        return await self._request(method, target, headers, body)

    async def _request(
        self, method: str, target: str, headers: str, body: bytes
    ) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.reused = False
        head = (
            f"{method} {target} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        try:
            self.writer.write(head.encode() + body)
            raw = await self.reader.readuntil(b"\r\n\r\n")
            status = int(raw[9:12])
            length, chunked, close = None, False, False
            for line in raw.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding":
                    chunked = b"chunked" in value.lower()
                elif name == b"connection":
                    close = b"close" in value.lower()
            if status in (204, 304) or status < 200:
                payload = b""
            elif chunked:
                payload = await self._chunks()
            elif length is not None:
                payload = await self.reader.readexactly(length)
            else:
                payload, close = await self.reader.read(), True
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        else:
            self.reused = True
        return status, payload

    async def _chunks(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


TRANSPORT_ERRORS = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError)


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            pids.append(int(entry.name))
    return pids


def rss_mib(pgid: int) -> tuple[float, float]:
    """VmRSS of the group's processes, in MiB: the largest and the sum."""
    sizes = []
    for pid in group_pids(pgid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return (max(sizes), sum(sizes)) if sizes else (0.0, 0.0)


async def calm(pgid: int, until: float) -> bool:
    """Until the backlog of opening the polls is worked off (the waiters' own re-polls go on):
    the server's group used under half a core over a second, or under 90% in two seconds
    running that differ by less than a tenth of a core."""
    before, at, last = group_cpu_seconds(pgid), time.monotonic(), None
    while time.monotonic() < until:
        await asyncio.sleep(1.0)
        now, then = group_cpu_seconds(pgid), time.monotonic()
        share = (now - before) / (then - at)
        if share < 0.5 or (last is not None and max(share, last) < 0.9 and abs(share - last) < 0.1):
            return True
        before, at, last = now, then, share
    return False


# ---------------------------------------------------------------------------------------------
# The waiters and the poster
# ---------------------------------------------------------------------------------------------


@dataclass
class Board:
    """What the waiters saw: when each ticket first came back to each waiter."""

    seen: dict[int, dict[int, float]] = field(default_factory=lambda: defaultdict(dict))
    held: int = 0  # polls outstanding
    returns: int = 0
    empty: int = 0  # answers naming nothing (the wait ran out)
    errors: Counter[str] = field(default_factory=Counter)

    def saw(self, ticket: int, waiter: int, at: float) -> None:
        self.seen[ticket].setdefault(waiter, at)


async def waiter(
    http: Http, index: int, auth: str, cursor: str, first_wait: float, board: Board
) -> None:
    wait = first_wait
    while True:
        target = f"/v1/assignments?since={cursor}&wait={wait:.1f}"
        board.held += 1
        try:
            status, body = await asyncio.wait_for(http.request("GET", target, auth), IO_TIMEOUT)
        except (*TRANSPORT_ERRORS, TimeoutError) as exc:
            board.errors[f"poll {type(exc).__name__}"] += 1
            http.close()
            await asyncio.sleep(0.5)
            continue
        finally:
            board.held -= 1
        at = time.perf_counter()
        board.returns += 1
        if status != 200:
            board.errors[f"poll HTTP {status} {problem(body)}".strip()] += 1
            await asyncio.sleep(0.5)
            continue
        try:
            page = json.loads(body)
            items, cursor = page["items"], page["cursor"]
        except (ValueError, KeyError, TypeError) as exc:
            board.errors[f"poll answer unreadable: {type(exc).__name__}"] += 1
            await asyncio.sleep(0.5)
            continue
        if not items:
            board.empty += 1
        for item in items:
            if item.get("type", "ticket") != "ticket":  # a whistle, or a ticket that left
                continue
            ticket = item.get("ticket_id") or (item.get("ticket") or {}).get("id")
            if ticket is not None:
                board.saw(int(ticket), index, at)
        wait = WAIT


@dataclass
class Posted:
    grid: str
    sent: float
    key: str
    answered: float | None = None
    ticket: int | None = None
    error: str | None = None
    routed_to: str | None = None


async def post(idle: list[Http], make: Callable[[], Http], auth: str, posted: Posted) -> None:
    http = idle.pop() if idle else make()
    body = json.dumps({**ROAD, "location": {"grid_code": posted.grid}}, ensure_ascii=False)
    headers = f"{auth}Content-Type: application/json\r\nIdempotency-Key: {posted.key}\r\n"
    try:
        status, payload = await asyncio.wait_for(
            http.request("POST", "/v1/tickets", headers, body.encode()), IO_TIMEOUT
        )
    except (*TRANSPORT_ERRORS, TimeoutError) as exc:
        http.close()
        posted.error = f"POST {type(exc).__name__}"
        return
    posted.answered = time.perf_counter()
    idle.append(http)
    if status != 201:
        posted.error = f"POST HTTP {status} {problem(payload)}".strip()
        return
    ticket = json.loads(payload)
    posted.ticket = int(ticket["id"])
    posted.routed_to = (ticket.get("route") or {}).get("grid_code")


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


async def measure(
    port: int,
    pgid: int,
    people: list[tuple[str, str]],
    *,
    agent_key: str,
    rate: float,
    seconds: float,
    seed: int = 11,
) -> dict[str, Any]:
    host = "127.0.0.1"
    rnd = random.Random(seed)
    board = Board()
    tasks: list[asyncio.Task[None]] = []
    connections: list[Http] = []
    try:
        first = Http(host, port)
        status, body = await first.request("GET", "/v1/assignments", _auth(people[0][1]))
        first.close()
        if status != 200:
            raise RuntimeError(f"first poll: HTTP {status} {body[:300]!r}")
        cursor = json.loads(body)["cursor"]  # a change number: the same for every waiter
        rss_idle = rss_mib(pgid)

        ramp_started = time.monotonic()
        client_before = time.process_time()
        for index, (_, key) in enumerate(people):
            http = Http(host, port)
            connections.append(http)
            coroutine = waiter(http, index, _auth(key), cursor, rnd.uniform(1, WAIT), board)
            tasks.append(asyncio.create_task(coroutine))
            await asyncio.sleep(1 / RAMP_RATE)
        ramp_seconds = time.monotonic() - ramp_started
        deadline = time.monotonic() + HOLD
        while board.held < len(people) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        settled = await calm(pgid, deadline)
        held_at_start = board.held
        # What holding the waiters costs the server before any ticket: their re-polls.
        cpu_before, baseline_started = group_cpu_seconds(pgid), time.monotonic()
        await asyncio.sleep(BASELINE)
        baseline_share = (group_cpu_seconds(pgid) - cpu_before) / (
            time.monotonic() - baseline_started
        )
        rss_waiting = rss_mib(pgid)
        ramp_client_cpu = time.process_time() - client_before
        ramp_errors = dict(board.errors)
        board.errors.clear()

        grids: dict[str, list[int]] = defaultdict(list)
        for index, (grid, _) in enumerate(people):
            grids[grid].append(index)
        order = sorted(grids)
        rnd.shuffle(order)
        agent = _auth(agent_key)
        idle: list[Http] = []

        def make() -> Http:
            connections.append(Http(host, port))
            return connections[-1]

        posts: list[Posted] = []
        posters: list[asyncio.Task[None]] = []
        cpu_before, client_before = group_cpu_seconds(pgid), time.process_time()
        returns_before, empty_before = board.returns, board.empty
        started = time.perf_counter()
        slot = started
        while slot - started < seconds:
            if (ahead := slot - time.perf_counter()) > 0:
                await asyncio.sleep(ahead)
            key = f"longpoll-{len(posts)}-{rnd.getrandbits(32):08x}"
            posted = Posted(order[len(posts) % len(order)], time.perf_counter(), key)
            posts.append(posted)
            posters.append(asyncio.create_task(post(idle, make, agent, posted)))
            slot += rnd.uniform(0.5, 1.5) / rate
        posting_seconds = time.perf_counter() - started
        cpu_posting = group_cpu_seconds(pgid) - cpu_before
        client_cpu_posting = time.process_time() - client_before
        returns_posting = board.returns - returns_before
        empty_posting = board.empty - empty_before
        await asyncio.wait_for(asyncio.gather(*posters), IO_TIMEOUT)

        # The wakes of the last tickets, or TICKET_TIMEOUT.
        def outstanding() -> bool:
            return any(
                p.ticket is not None and len(board.seen.get(p.ticket, ())) < len(grids[p.grid])
                for p in posts
            )

        until = time.perf_counter() + TICKET_TIMEOUT
        while outstanding() and time.perf_counter() < until:
            await asyncio.sleep(0.05)
        rss_end = rss_mib(pgid)
    finally:
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                board.errors[f"waiter died: {task.exception()!r}"[:120]] += 1
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for http in connections:
            http.close()

    latencies: list[float] = []
    expected = missed = early = 0
    for p in posts:
        if p.ticket is None or p.answered is None:
            continue
        seen = board.seen.get(p.ticket, {})
        for index in grids[p.grid]:
            expected += 1
            at = seen.get(index)
            if at is None or at - p.answered > TICKET_TIMEOUT:
                missed += 1
                latencies.append(float(TICKET_TIMEOUT))
                continue
            early += at < p.answered
            latencies.append(max(0.0, at - p.answered))
    ms = [v * 1000 for v in latencies]
    post_ms = [(p.answered - p.sent) * 1000 for p in posts if p.answered is not None]
    post_errors = Counter(p.error for p in posts if p.error)
    misrouted = sum(1 for p in posts if p.ticket is not None and p.routed_to != p.grid)
    return {
        "waiters": len(people),
        "grids": len(grids),
        "two_worker_grids": sum(1 for v in grids.values() if len(v) == 2),
        "rate": rate,
        "tickets": sum(1 for p in posts if p.ticket is not None),
        "posts": len(posts),
        "posts_failed": sum(post_errors.values()),
        "misrouted": misrouted,
        "ramp_seconds": round(ramp_seconds, 2),
        "held_at_start": held_at_start,
        "server_settled_at_start": settled,
        "server_cpu_share_holding": round(baseline_share, 3),
        "ramp_errors": ramp_errors,
        "expected_wakes": expected,
        "woken": expected - missed,
        "missed": missed,
        "woken_before_201": early,
        "errors": sum(board.errors.values()) + sum(post_errors.values()),
        "error_kinds": dict(board.errors) | dict(post_errors),
        "p50_ms": round(percentile(ms, 0.5), 1),
        "p90_ms": round(percentile(ms, 0.9), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
        "max_ms": round(max(ms), 1) if ms else float("nan"),
        "over_100ms": sum(1 for v in ms if v > 100),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
        "post_p50_ms": round(percentile(post_ms, 0.5), 1),
        "post_p99_ms": round(percentile(post_ms, 0.99), 1),
        "post_max_ms": round(max(post_ms), 1) if post_ms else float("nan"),
        "returns_while_posting": returns_posting,
        "empty_returns_while_posting": empty_posting,
        "rss_idle_mib": round(rss_idle[0], 1),
        "rss_waiting_mib": round(rss_waiting[0], 1),
        "rss_end_mib": round(rss_end[0], 1),
        "rss_total_waiting_mib": round(rss_waiting[1], 1),
        "rss_total_end_mib": round(rss_end[1], 1),
        "posting_seconds": round(posting_seconds, 2),
        "server_cpu_seconds_while_posting": round(cpu_posting, 2),
        "client_cpu_seconds_while_posting": round(client_cpu_posting, 2),
        "server_cpu_share": round(cpu_posting / posting_seconds, 3),
        "client_cpu_share": round(client_cpu_posting / posting_seconds, 3),
        "client_cpu_seconds_ramp": round(ramp_client_cpu, 2),
    }


def problem(body: bytes) -> str:
    """A problem answer's ``code: detail``, or nothing."""
    try:
        doc = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(doc, dict):
        return ""
    return f"{doc.get('code', '')}: {str(doc.get('detail', ''))[:80]}"


def _auth(key: str) -> str:
    return f"Authorization: Bearer {key}\r\n"


def _runner() -> asyncio.Runner:
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


def run(
    waiters: int,
    database_url: str | None,
    *,
    workers: int = 1,
    rate: float = 20.0,
    seconds: float = 30.0,
) -> dict[str, Any]:
    """Prepare a county, start the server, hold ``waiters`` long polls, post tickets at ``rate``
    for ``seconds``; the figures."""
    started = time.monotonic()
    if database_url:
        reset_schema(database_url)
    with tempfile.TemporaryDirectory(prefix="hotline-longpoll-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        env = clean_env(data_dir, database_url)
        county = Path(tmp) / "county.geojson"
        size = math.ceil(waiters / 1.5) + 1
        hotline_cmd("demo", "generate", "--grids", str(size), "--output", str(county), env=env)
        hotline_cmd("grids", "import", str(county), env=env)
        hotline_cmd("demo", env=env)
        people = staff_workers(data_dir, database_url, waiters)
        keys = json.loads((data_dir / "demo-keys.json").read_text(encoding="utf-8"))
        agent_key = next(p["key"] for p in keys if p["role"] == "agent")
        prepared = time.monotonic() - started
        port = free_port()
        cmd = [sys.executable, "-m", "hotline", "serve", "--demo", "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--workers", str(workers)]
        with server(cmd, env, port, data_dir / "server.log") as srv:
            startup = time.monotonic() - started - prepared
            with _runner() as runner:
                result = runner.run(
                    measure(
                        port,
                        srv.process.pid,
                        people,
                        agent_key=agent_key,
                        rate=rate,
                        seconds=seconds,
                    )
                )
    result["backend"] = "postgresql" if database_url else "sqlite"
    result["workers"] = workers
    result["prepare_seconds"] = round(prepared, 1)
    result["startup_seconds"] = round(startup, 1)
    result["total_seconds"] = round(time.monotonic() - started, 1)
    return result


def table(result: dict[str, Any]) -> str:
    rows = [
        ("backend / server processes", f"{result['backend']} / {result['workers']}"),
        (
            "waiters / grids (with two)",
            f"{result['waiters']} / {result['grids']} ({result['two_worker_grids']})",
        ),
        ("tickets / rate", f"{result['tickets']} at {result['rate']}/s"),
        ("polls woken / expected", f"{result['woken']} / {result['expected_wakes']}"),
        ("missed (> 5 s) / before the 201", f"{result['missed']} / {result['woken_before_201']}"),
        ("errors", f"{result['errors']} {result['error_kinds'] or ''}"),
        ("errors opening polls", result["ramp_errors"] or 0),
        (
            "wake p50 / p99 / max",
            f"{result['p50_ms']} / {result['p99_ms']} / {result['max_ms']} ms",
        ),
        (
            "POST p50 / p99 / max",
            f"{result['post_p50_ms']} / {result['post_p99_ms']} / {result['post_max_ms']} ms",
        ),
        ("empty returns while posting", result["empty_returns_while_posting"]),
        (
            "RSS idle / waiting / end",
            f"{result['rss_idle_mib']} / {result['rss_waiting_mib']} / "
            f"{result['rss_end_mib']} MiB (largest process)",
        ),
        (
            "CPU while posting",
            f"server {result['server_cpu_share']:.0%} of a core (holding alone "
            f"{result['server_cpu_share_holding']:.0%}), client "
            f"{result['client_cpu_share']:.0%}, over {result['posting_seconds']} s",
        ),
        (
            "prepare / startup / total",
            f"{result['prepare_seconds']} / {result['startup_seconds']} "
            f"/ {result['total_seconds']} s",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--waiters", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--rate", type=float, default=20.0, help="tickets posted a second")
    parser.add_argument("--seconds", type=float, default=30.0, help="of posting")
    parser.add_argument("--database-url", help="PostgreSQL URL; its public schema is dropped first")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    result = run(
        args.waiters,
        args.database_url,
        workers=args.workers,
        rate=args.rate,
        seconds=args.seconds,
    )
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
