"""Benchmark of long-poll wake-ups: how fast held polls return when a ticket lands in their grid.

Usage: ``python bench/longpoll.py [--waiters 2000] [--tickets 20] [--database-url URL]
[--json out.json]``

* Starts ``hotline serve --demo`` with one worker process on 127.0.0.1 and a fresh temporary data
  directory: SQLite by default, or the given PostgreSQL database, whose ``public`` schema is
  dropped and recreated first (everything in it is lost).
* Opens ``--waiters`` concurrent long polls (``GET /v1/assignments?since=…&wait=30``) spread
  evenly over the 60 demo grids, each with its grid's demo worker key (waiters of one grid share
  the key). A waiter whose poll returns polls again at once from the new cursor, as a client
  would. The polls are opened 100 at a time, each batch parked (the server's CPU idle again)
  before the next: this measures the steady state, not a reconnect storm.
* Reads the server's RSS, then posts tickets one at a time, each routed by
  ``location.grid_code`` to a different grid, and times from the POST's 201 to each poll of
  that grid returning with the ticket.
* Reports wake latency p50/p99/max (a poll not woken within 5 s counts as missed, and as 5 s in
  the percentiles), polls woken of those expected, polls that returned without being concerned
  (their 30 s ran out while the tickets were being posted), errors, the POST's own latency, the
  server's RSS (VmRSS of the process and its children) idle and with the waiters attached, and
  its CPU time (and the client's) while the tickets were posted. Goals: p99 < 200 ms and RSS <
  300 MiB with 2000 waiters.

The client shares the machine with the server, so the figures include the client's own event
loop. Bounded in time (the waiters get 25 s to park, the tickets 45 s, the whole run to the end of
posting 100 s); the server is stopped at the end (killed if it takes more than 10 s).

``run(waiters, database_url)`` returns the figures as a dict for other scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from hotline.config import async_url

WAIT = 30  # seconds each poll is held
SHARD = 50  # connections per client
BATCH = 100  # polls opened at once while ramping up
BUDGET = 100  # seconds from the start to the end of posting
STARTUP = 90  # seconds for the server to load the demo and answer /readyz
SETTLE = 25  # seconds at most for the waiters to be parked
POSTING = 45  # seconds at most for posting tickets
TICKET_TIMEOUT = 5  # seconds to wait for every poll a ticket concerns; later counts as missed
ROAD = {"kind": "complaint", "category": "urban.road", "content": "路面塌陷，请尽快处置"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def reset_schema(database_url: str) -> None:
    """Drop and recreate the public schema of the benchmark's PostgreSQL database."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def reset() -> None:
        engine = create_async_engine(async_url(database_url))
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    data_dir: Path


@contextmanager
def serve(data_dir: Path, database_url: str | None) -> Iterator[Server]:
    """``hotline serve --demo`` with one worker, until /readyz answers; stopped on exit."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_DATA_DIR"] = str(data_dir)
    if database_url:
        env["HOTLINE_DATABASE__URL"] = database_url
    log = (data_dir / "server.log").open("wb")  # a file: a full pipe would stall the server
    cmd = [sys.executable, "-m", "hotline", "serve", "--demo", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--workers", "1"]
    process = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {(data_dir / 'server.log').read_text()}")
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("server did not become ready")
            time.sleep(0.2)
        yield Server(base, process, data_dir)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def process_tree(pid: int) -> list[int]:
    """``pid`` and every descendant, from /proc."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children[ppid].append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo += children.get(p, [])
    return tree


def rss_mib(pid: int) -> float:
    """VmRSS of the process and its children, in MiB."""
    total_kib = 0
    for p in process_tree(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except OSError:
            continue
    return total_kib / 1024


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of the process and its children so far."""
    ticks = 0
    for p in process_tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


async def settle(pid: int, deadline: float, quiet_for: int = 4) -> None:
    """Until the server has been (nearly) idle for ``quiet_for`` quarter seconds: every poll
    sent so far is parked."""
    quiet = 0
    before = cpu_seconds(pid)
    while time.monotonic() < deadline and quiet < quiet_for:
        await asyncio.sleep(0.25)
        now = cpu_seconds(pid)
        quiet = quiet + 1 if now - before <= 0.03 else 0
        before = now


@dataclass
class Board:
    """What the waiters saw: when each ticket came back to each waiter."""

    seen: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    done: dict[int, asyncio.Event] = field(default_factory=dict)
    expected: dict[int, int] = field(default_factory=dict)
    returns: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    parked: int = 0

    def saw(self, ticket: int, at: float) -> None:
        self.seen[ticket].append(at)
        event = self.done.get(ticket)
        if event is not None and len(self.seen[ticket]) >= self.expected[ticket]:
            event.set()


def problem_code(r: httpx.Response) -> str:
    try:
        problem = r.json()
    except ValueError:
        return ""
    return f"{problem.get('code', '')}: {problem.get('detail', '')}"


async def waiter(
    http: httpx.AsyncClient, headers: dict[str, str], cursor: str, board: Board
) -> None:
    params = {"since": cursor, "wait": str(WAIT)}
    board.parked += 1
    while True:
        try:
            r = await http.get("/v1/assignments", params=params, headers=headers)
        except httpx.HTTPError as exc:
            board.errors[type(exc).__name__] += 1
            await asyncio.sleep(0.5)
            continue
        at = time.perf_counter()
        board.returns += 1
        if r.status_code != 200:
            board.errors[f"{r.status_code} {problem_code(r)}".strip()] += 1
            await asyncio.sleep(0.5)
            continue
        body = r.json()
        for item in body["items"]:
            board.saw(int(item["ticket"]["id"]), at)
        params = {"since": body["cursor"], "wait": str(WAIT)}


async def stop_all(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def measure(server: Server, waiters: int, tickets: int, deadline: float) -> dict[str, Any]:
    people = json.loads((server.data_dir / "demo-keys.json").read_text())
    agent = {"Authorization": f"Bearer {next(p for p in people if p['role'] == 'agent')['key']}"}
    workers = sorted((p for p in people if p["role"] == "worker"), key=lambda p: p["unit"])
    pid = server.process.pid
    # Waiters are dealt to clients of SHARD connections each: httpcore's pool does work
    # proportional to its connections (times its queued requests) on every request it starts
    # or finishes, so one pool of 2000 connections would make the client the bottleneck.
    limits = httpx.Limits(max_connections=SHARD, max_keepalive_connections=SHARD)
    timeout = httpx.Timeout(WAIT + 30, connect=30, pool=60)
    board = Board()
    async with AsyncExitStack() as stack:
        shards = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=server.base, limits=limits, timeout=timeout)
            )
            for _ in range((waiters + SHARD - 1) // SHARD)
        ]
        http = shards[0]
        poster = await stack.enter_async_context(
            httpx.AsyncClient(base_url=server.base, headers=agent, timeout=30)
        )
        cursors = {}
        for w in workers:
            r = await http.get("/v1/assignments", headers={"Authorization": f"Bearer {w['key']}"})
            r.raise_for_status()
            cursors[w["unit"]] = r.json()["cursor"]
        rss_idle = rss_mib(pid)

        per_grid: dict[str, int] = defaultdict(int)
        tasks: list[asyncio.Task[None]] = []
        stack.push_async_callback(stop_all, tasks)  # before the clients close, however we leave
        ramp_started = time.monotonic()
        settled_by = min(deadline, ramp_started + SETTLE)
        for n in range(waiters):
            w = workers[n % len(workers)]
            per_grid[w["unit"]] += 1
            headers = {"Authorization": f"Bearer {w['key']}"}
            client = shards[n // SHARD]
            tasks.append(asyncio.create_task(waiter(client, headers, cursors[w["unit"]], board)))
            if len(tasks) % BATCH == 0:  # a batch at a time, each parked before the next
                await settle(pid, settled_by, quiet_for=1)
        await settle(pid, settled_by)
        ramp_seconds = time.monotonic() - ramp_started
        rss_waiting = rss_mib(pid)
        returned_early = board.returns
        ramp_errors = dict(board.errors)
        board.errors.clear()

        latencies: list[float] = []  # a missed wake counts as TICKET_TIMEOUT
        posts: list[float] = []
        per_ticket: list[dict[str, Any]] = []
        expected_total = missed = 0
        cpu_before, client_cpu_before = cpu_seconds(pid), time.process_time()
        returns_before = board.returns
        grids = [w["unit"] for w in workers]
        posting_started = time.monotonic()
        stop_posting = min(deadline, posting_started + POSTING)
        for k in range(min(tickets, len(grids))):
            remaining = stop_posting - time.monotonic()
            if remaining < 1:
                break
            grid = grids[(k * 7) % len(grids)]  # distinct grids, spread over the county
            body = {**ROAD, "location": {"grid_code": grid}}
            sent = time.perf_counter()
            try:
                r = await asyncio.wait_for(poster.post("/v1/tickets", json=body), remaining)
            except (TimeoutError, httpx.HTTPError) as exc:
                per_ticket.append({"grid": grid, "error": f"POST failed: {exc!r}"})
                break
            posted = time.perf_counter()
            if r.status_code != 201:
                per_ticket.append({"grid": grid, "error": f"POST: {r.status_code} {r.text[:200]}"})
                await asyncio.sleep(1)
                continue
            posts.append(posted - sent)
            ticket = r.json()
            assert ticket["route"]["grid_code"] == grid, ticket["route"]
            expected = per_grid[grid]
            board.expected[ticket["id"]] = expected
            expected_total += expected
            event = board.done.setdefault(ticket["id"], asyncio.Event())
            if len(board.seen[ticket["id"]]) >= expected:
                event.set()
            try:
                await asyncio.wait_for(event.wait(), TICKET_TIMEOUT)
            except TimeoutError:
                pass
            woke = [at - posted for at in board.seen[ticket["id"]]]
            woke = [w for w in woke if w <= TICKET_TIMEOUT][:expected]
            missed += expected - len(woke)
            latencies += woke + [float(TICKET_TIMEOUT)] * (expected - len(woke))
            per_ticket.append(
                {
                    "grid": grid,
                    "post_ms": round(posts[-1] * 1000, 1),
                    "expected": expected,
                    "woken": len(woke),
                    "max_ms": round(max(woke) * 1000, 1) if woke else None,
                }
            )
            await asyncio.sleep(0.2)  # let the woken polls park again
        posting_seconds = time.monotonic() - posting_started
        cpu_posting = cpu_seconds(pid) - cpu_before
        client_cpu_posting = time.process_time() - client_cpu_before
        woken = expected_total - missed
        returns_posting = board.returns - returns_before
        rss_end = rss_mib(pid)

    ms = [v * 1000 for v in latencies]
    return {
        "waiters": waiters,
        "grids": len(per_grid),
        "tickets": len(posts),
        "posts_failed": len(per_ticket) - len(posts),
        "ramp_seconds": round(ramp_seconds, 2),
        "returned_before_posting": returned_early,
        "expected_wakes": expected_total,
        "woken": woken,
        "missed": missed,
        "unconcerned_returns_while_posting": returns_posting - woken,
        "ramp_errors": ramp_errors,
        "errors": sum(board.errors.values()),
        "error_kinds": dict(board.errors),
        "p50_ms": round(percentile(ms, 0.5), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
        "max_ms": round(max(ms), 1) if ms else float("nan"),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
        "rss_idle_mib": round(rss_idle, 1),
        "rss_waiting_mib": round(rss_waiting, 1),
        "rss_end_mib": round(rss_end, 1),
        "server_cpu_seconds_while_posting": round(cpu_posting, 2),
        "client_cpu_seconds_while_posting": round(client_cpu_posting, 2),
        "post_p50_ms": round(percentile([p * 1000 for p in posts], 0.5), 1),
        "post_max_ms": round(max(posts) * 1000, 1) if posts else float("nan"),
        "posting_seconds": round(posting_seconds, 2),
        "per_ticket": per_ticket,
    }


def run(waiters: int, database_url: str | None, tickets: int = 20) -> dict[str, Any]:
    """Start a server, hold ``waiters`` long polls, post ``tickets`` tickets; the figures."""
    started = time.monotonic()
    if database_url:
        reset_schema(database_url)
    with tempfile.TemporaryDirectory(prefix="hotline-longpoll-") as tmp:
        data_dir = Path(tmp)
        with serve(data_dir, database_url) as server:
            startup = time.monotonic() - started
            result = asyncio.run(measure(server, waiters, tickets, started + BUDGET))
    result["backend"] = "postgresql" if database_url else "sqlite"
    result["startup_seconds"] = round(startup, 2)
    result["total_seconds"] = round(time.monotonic() - started, 2)
    result["goals"] = {
        "p99_under_200ms": result["p99_ms"] < 200,
        "rss_under_300mib": result["rss_waiting_mib"] < 300 and result["rss_end_mib"] < 300,
        "all_woken": result["woken"] == result["expected_wakes"],
    }
    return result


def table(result: dict[str, Any]) -> str:
    rows = [
        ("backend", result["backend"]),
        ("waiters / grids", f"{result['waiters']} / {result['grids']}"),
        ("tickets posted (failed)", f"{result['tickets']} ({result['posts_failed']})"),
        ("polls woken / expected", f"{result['woken']} / {result['expected_wakes']}"),
        ("missed (> 5 s)", result["missed"]),
        ("unconcerned returns", result["unconcerned_returns_while_posting"]),
        ("errors opening polls", result["ramp_errors"] or 0),
        ("errors while posting", f"{result['errors']} {result['error_kinds'] or ''}"),
        (
            "wake p50 / p99 / max",
            f"{result['p50_ms']} / {result['p99_ms']} / {result['max_ms']} ms",
        ),
        ("RSS idle", f"{result['rss_idle_mib']} MiB"),
        ("RSS with waiters", f"{result['rss_waiting_mib']} MiB"),
        ("RSS at the end", f"{result['rss_end_mib']} MiB"),
        ("POST p50 / max", f"{result['post_p50_ms']} / {result['post_max_ms']} ms"),
        (
            "CPU while posting",
            f"server {result['server_cpu_seconds_while_posting']} s, "
            f"client {result['client_cpu_seconds_while_posting']} s "
            f"over {result['posting_seconds']} s",
        ),
        ("ramp / total", f"{result['ramp_seconds']} s / {result['total_seconds']} s"),
        ("p99 < 200 ms", "yes" if result["goals"]["p99_under_200ms"] else "NO"),
        ("RSS < 300 MiB", "yes" if result["goals"]["rss_under_300mib"] else "NO"),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--waiters", type=int, default=2000)
    parser.add_argument("--tickets", type=int, default=20, help="at most 60, one per grid")
    parser.add_argument("--database-url", help="PostgreSQL URL; its public schema is dropped first")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    result = run(args.waiters, args.database_url, args.tickets)
    print(table(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
