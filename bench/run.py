"""Run every benchmark, print one table of figures against the goals, and write JSON.

Usage: ``python bench/run.py [--quick] [--only NAME[,NAME]] [--database-url URL]
[--json bench/results/latest.json]``

Benchmarks (``--only`` takes these names):

* ``intake``: ``bench/intake.py``, POST /v1/tickets driven by wrk against ``hotline serve`` on
  SQLite with 1 worker and PostgreSQL with 1 and 2, beside the stack's ceiling
  (``bench/ceiling_app.py``) measured with the same tool in the same run: tickets/s closed loop
  (32 connections), latency at a fixed offered rate (open loop: 100/s SQLite, 200/s
  PostgreSQL), errors, and server CPU per ticket beside the ceiling's per request.
* ``routing``: ``bench/routing.py``, point and address lookups (in process).
* ``import``: ``bench/import_grids.py``, a county file of synthetic grids, on SQLite and PostgreSQL.
* ``history``: ``bench/import_history.py``, a JSON Lines file of closed tickets through
  ``hotline tickets import``'s code (checked, then 1,000 per transaction), and its re-run (every
  row skipped), on SQLite and PostgreSQL.
* ``sweeper``: ``bench/sweeper.py``, one sweeper pass over open tickets of which some are due.
* ``metrics``: ``bench/metrics.py``, the dashboard's figures over a year of tickets.
* ``search``: ``bench/search.py``, ``GET /v1/tickets?q=`` driven by wrk (``-t2 -c8``) against
  ``hotline serve`` (1 worker) on PostgreSQL over a million tickets of varied Chinese content:
  p50/p99 per query class (common word, rare word, two words, word + township or status, no
  match, long phrase) and for their mix.
* ``longpoll``: ``bench/longpoll.py``, wake-up latency of 2000 held polls, one or two workers per
  grid, while 20 tickets/s are posted: SQLite with 1 server process, PostgreSQL with 2.
* ``suggest``: ``bench/suggest.py``, suggestion accuracy on a small hand-written corpus (held
  out), the latency of one suggestion, and training on synthetic closed tickets (seconds, RSS).

Each runs in its own Python process (so one's memory does not count in another's peak RSS), with
a time limit; one that fails or overruns is reported as failed and the others still run. Every
server they start listens on 127.0.0.1 only and is stopped at the end.

PostgreSQL: ``--database-url`` (its ``public`` schema is dropped and rebuilt by the benchmarks:
point it at a scratch database), by default ``postgresql://postgres@127.0.0.1:5432/hotline_bench``,
created if missing. If PostgreSQL cannot be reached the PostgreSQL parts are skipped and say so.

Sizes: full (as the goals are stated) or ``--quick`` (intake windows of 5 s over 2,000 grids,
routing, import and history 10,000, sweeper 100,000 open / 1,000 due, metrics 100,000 tickets,
500 long polls posted to for 10 s, search 100,000 tickets with windows of 10 s and 4 s).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/hotline_bench"
NAMES = (
    "routing",
    "import",
    "history",
    "intake",
    "sweeper",
    "metrics",
    "search",
    "longpoll",
    "suggest",
)

FULL: dict[str, dict[str, Any]] = {
    "intake": {"seconds": 20.0, "clients": 32, "grids": 10_000},
    "routing": {"grids": 50_000, "names": 50_000},
    "import": {"grids": 50_000},
    "history": {"rows": 100_000},
    "sweeper": {"open_tickets": 1_000_000, "due": 10_000},
    "metrics": {"tickets": 1_000_000},
    "search": {"tickets": 1_000_000, "seconds": 30.0, "class_seconds": 10.0},
    "longpoll": {"waiters": 2000, "seconds": 30.0},
    "suggest": {"tickets": 100_000},
}
QUICK: dict[str, dict[str, Any]] = {
    "intake": {"seconds": 5.0, "clients": 32, "grids": 2_000},
    "routing": {"grids": 10_000, "names": 10_000},
    "import": {"grids": 10_000},
    "history": {"rows": 10_000},
    "sweeper": {"open_tickets": 100_000, "due": 1_000},
    "metrics": {"tickets": 100_000},
    "search": {"tickets": 100_000, "seconds": 10.0, "class_seconds": 4.0},
    "longpoll": {"waiters": 500, "seconds": 10.0},
    "suggest": {"tickets": 20_000},
}


# ---------------------------------------------------------------------------------------------
# Children: one benchmark's run(), in its own process
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    label: str  # key in the results
    module: str
    kwargs: dict[str, Any]
    timeout: float  # seconds


def child(module: str, kwargs: dict[str, Any], out: Path) -> None:
    """Import ``bench/<module>.py``, call its ``run(**kwargs)`` and write the result as JSON."""
    sys.path.insert(0, str(BENCH))
    result = importlib.import_module(module).run(**kwargs)
    out.write_text(json.dumps(result, ensure_ascii=False, default=str), encoding="utf-8")


def run_job(job: Job, tmp: Path) -> tuple[Any, float]:
    """The job's result (or ``{"error": ...}``) and its wall time."""
    out = tmp / f"{job.label}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", job.module]
    cmd += ["--child-args", json.dumps(job.kwargs), "--child-out", str(out)]
    started = time.monotonic()
    print(f"== {job.label}: {job.module}.run({_kwargs_text(job.kwargs)})", file=sys.stderr)
    # A process group of its own, so that an overrun takes its servers with it.
    process = subprocess.Popen(cmd, start_new_session=True)
    try:
        code = process.wait(timeout=job.timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        return {"error": f"timed out after {job.timeout:.0f} s"}, time.monotonic() - started
    elapsed = time.monotonic() - started
    if code != 0 or not out.exists():
        return {"error": f"exited with status {code} (see the output above)"}, elapsed
    print(f"== {job.label}: done in {elapsed:.0f} s", file=sys.stderr)
    return json.loads(out.read_text(encoding="utf-8")), elapsed


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    import signal

    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def _kwargs_text(kwargs: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def jobs(names: list[str], sizes: dict[str, dict[str, Any]], url: str | None) -> list[Job]:
    out: list[Job] = []
    for name in names:
        size = sizes[name]
        if name == "intake":
            seconds = float(size["seconds"])
            configs = 3 if url else 1  # sqlite w1, postgresql w1 and w2
            out.append(
                Job(
                    "intake",
                    "intake",
                    {**size, "database_url": url},
                    timeout=configs * 2 * (2 * seconds + 150) + 180,
                )
            )
        elif name == "routing":
            out.append(Job("routing", "routing", size, timeout=900))
        elif name == "import":
            out.append(Job("import_sqlite", "import_grids", {**size, "database_url": None}, 900))
            if url:
                out.append(
                    Job("import_postgresql", "import_grids", {**size, "database_url": url}, 900)
                )
        elif name == "history":
            lite = {**size, "database_url": None}
            out.append(Job("history_sqlite", "import_history", lite, 900))
            if url:
                pg = {**size, "database_url": url}
                out.append(Job("history_postgresql", "import_history", pg, 900))
        elif name == "sweeper" and url:
            out.append(Job("sweeper", "sweeper", {"database_url": url, **size}, timeout=1200))
        elif name == "metrics" and url:
            out.append(Job("metrics", "metrics", {"database_url": url, **size}, timeout=1200))
        elif name == "search" and url:
            out.append(Job("search", "search", {"database_url": url, **size}, timeout=2400))
        elif name == "suggest":
            out.append(Job("suggest", "suggest", size, timeout=900))
        elif name == "longpoll":
            limit = 400 + float(size["seconds"])
            # SQLite: one process (a second would wake on every change: no notifications).
            lite = {**size, "database_url": None, "workers": 1}
            out.append(Job("longpoll_sqlite", "longpoll", lite, limit))
            if url:
                pg = {**size, "database_url": url, "workers": 2}
                out.append(Job("longpoll_postgresql", "longpoll", pg, limit))
    return out


# ---------------------------------------------------------------------------------------------
# PostgreSQL and the machine
# ---------------------------------------------------------------------------------------------


def ensure_database(url: str) -> str | None:
    """Create the database of ``url`` if missing; its server version, or None if unreachable."""
    import asyncpg

    plain = url.replace("+asyncpg", "")
    name = plain.rsplit("/", 1)[1].split("?", 1)[0]

    async def go() -> str:
        try:
            conn = await asyncpg.connect(plain, timeout=5)
        except asyncpg.InvalidCatalogNameError:
            admin = await asyncpg.connect(plain.rsplit("/", 1)[0] + "/postgres", timeout=5)
            try:
                await admin.execute(f'CREATE DATABASE "{name}"')
            finally:
                await admin.close()
            conn = await asyncpg.connect(plain, timeout=5)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    try:
        return asyncio.run(go())
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        print(f"PostgreSQL at {url} unavailable ({exc}); skipping its parts", file=sys.stderr)
        return None


def machine(pg_version: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": None,
        "memory_gib": None,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": pg_version,
        "sqlite": sqlite3.sqlite_version,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            info["cpu_model"] = line.split(":", 1)[1].strip()
            break
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            info["memory_gib"] = round(int(line.split()[1]) / 1024**2, 1)
    packages = ("fastapi", "uvicorn", "pydantic", "sqlalchemy", "asyncpg", "aiosqlite", "httpx")
    info["packages"] = {}
    for package in packages:
        try:
            info["packages"][package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info["packages"][package] = None
    info["commit"] = _commit()
    return info


def _commit() -> str | None:
    """The checked-out commit, read from .git (no git command)."""
    git = BENCH.parent / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        path = git / ref
        if path.exists():
            return path.read_text().strip()
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0]
    except OSError:
        return None
    return None


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------

Check = Callable[[float], bool]


@dataclass(frozen=True)
class Row:
    name: str
    figure: str
    value: str
    goal: str = ""
    met: str = ""


def _row(
    name: str, figure: str, value: Any, unit: str = "", goal: tuple[str, Check] | None = None
) -> Row:
    if value is None:
        return Row(name, figure, "—")
    text = (
        f"{value:,}"
        if isinstance(value, int)
        else (f"{value:,.3f}" if abs(value) < 1 else f"{value:,.1f}")
        if isinstance(value, float)
        else str(value)
    )
    text = f"{text} {unit}".strip()
    if goal is None:
        return Row(name, figure, text)
    label, check = goal
    try:
        met = "yes" if check(float(value)) else "NO"
    except (TypeError, ValueError):
        met = "?"
    return Row(name, figure, text, label, met)


def table(results: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for label, result in results.items():
        if isinstance(result, dict) and "error" in result:
            rows.append(Row(label, "run", f"FAILED: {result['error']}", "runs", "NO"))
            continue
        if label == "intake":
            rows += _intake_rows(result)
        elif label == "routing":
            rows += [
                _row(
                    "routing",
                    f"point lookups ({result['grids']:,} grids)",
                    result["locate_per_s"],
                    "/s",
                    ("≥ 100,000/s", lambda v: v >= 100_000),
                ),
                _row(
                    "routing",
                    f"address lookups ({result['names']:,} names)",
                    result["match_per_s"],
                    "/s",
                    ("≥ 50,000/s", lambda v: v >= 50_000),
                ),
                _row("routing", "point lookups, wrong vs STRtree", result["locate_mismatches"]),
                _row("routing", "addresses decided wrong", result["decided_wrong_share"]),
            ]
        elif label.startswith("history_"):
            name = f"history {result['database']}"
            rows += [
                _row(
                    name,
                    f"import {result['rows']:,} tickets",
                    result["import_s"],
                    "s",
                    ("< 120 s", lambda v: v < 120),
                ),
                _row(name, "re-run, every row skipped", result["rerun_s"], "s"),
                _row(name, "peak RSS", result["peak_rss_mib"], "MiB"),
            ]
        elif label.startswith("import_"):
            name = f"import {result['database']}"
            rows += [
                _row(
                    name,
                    f"import {result['grids']:,} grids",
                    result["import_s"],
                    "s",
                    ("< 60 s", lambda v: v < 60),
                ),
                _row(
                    name,
                    "peak RSS",
                    result["peak_rss_mib"],
                    "MiB",
                    ("< 1,024 MiB", lambda v: v < 1024),
                ),
            ]
        elif label == "sweeper":
            rows += [
                _row(
                    "sweeper",
                    f"pass: {result['open_tickets']:,} open, {result['due']:,} due",
                    result["sweep_s"],
                    "s",
                    ("< 5 s", lambda v: v < 5),  # issue 15
                ),
                _row("sweeper", "marked overdue", result["overdue"]),
            ]
        elif label == "metrics":
            tickets = f"{result['tickets']:,} tickets"
            rows += [
                _row(
                    "metrics",
                    f"summary, a month ({tickets})",
                    result["summary_month_ms"],
                    "ms",
                    ("< 150 ms", lambda v: v < 150),
                ),
                _row(
                    "metrics",
                    "summary, a year",
                    result["summary_year_ms"],
                    "ms",
                    ("< 500 ms", lambda v: v < 500),
                ),
                _row(
                    "metrics",
                    "breakdown by grid, a month",
                    result["breakdown_grid_month_ms"],
                    "ms",
                    ("< 500 ms", lambda v: v < 500),
                ),
                _row(
                    "metrics",
                    "time series, a year by day",
                    result["timeseries_year_daily_ms"],
                    "ms",
                ),
                _row(
                    "metrics", "summary, a month, one grid", result["summary_grid_month_ms"], "ms"
                ),
                _row("metrics", "summary, a year, one grid", result["summary_grid_year_ms"], "ms"),
                _row(
                    "metrics",
                    "summary, a year, one township",
                    result["summary_township_year_ms"],
                    "ms",
                ),
                _row(
                    "metrics",
                    f"summary, a year, {result['changed_tickets']:,} tickets changed since refresh",
                    result["dirty_summary_year_ms"],
                    "ms",
                ),
                _row(
                    "metrics",
                    "summary, a year, 1,000 changes spread over the year (plain until refreshed)",
                    result["spread_summary_year_ms"],
                    "ms",
                ),
                _row(
                    "metrics",
                    f"roll-up: refresh of those ({result['spread_refreshed_days']} days)",
                    result["spread_refresh_s"],
                    "s",
                ),
                _row("metrics", "roll-up: full build", result["rollup_full_build_s"], "s"),
                _row(
                    "metrics",
                    f"roll-up: refresh after {result['changed_tickets']:,} changes "
                    f"({result['rollup_refreshed_days']} days)",
                    result["rollup_refresh_s"],
                    "s",
                ),
            ]
        elif label == "search":
            rows += _search_rows(result)
        elif label.startswith("longpoll_"):
            rows += _longpoll_rows(result)
        elif label == "suggest":
            rows += _suggest_rows(result)
    return rows


def _suggest_rows(result: dict[str, Any]) -> list[Row]:
    """Accuracy on the hand-written corpus (a pipeline check, not the model's worth), latency,
    and training on synthetic tickets (issue 16)."""
    held = result["held_out"]
    return [
        _row("suggest", f"top-1, corpus held out ({result['top1']}/{held})", result["top1"] / held),
        _row("suggest", f"top-3, corpus held out ({result['top3']}/{held})", result["top3"] / held),
        _row("suggest", f"top-1, mean of {10} splits", result["top1_mean"]),
        _row("suggest", "one suggestion, p50", result["suggest_p50_ms"], "ms"),
        _row(
            "suggest",
            "one suggestion, p99",
            result["suggest_p99_ms"],
            "ms",
            ("< 20 ms", lambda v: v < 20),
        ),
        _row(
            "suggest",
            f"train on {result['tickets']:,} tickets",
            result["train_s"],
            "s",
            ("< 60 s", lambda v: v < 60),
        ),
        _row(
            "suggest",
            "training peak RSS",
            result["peak_rss_mib"],
            "MiB",
            ("< 1024 MiB", lambda v: v < 1024),
        ),
    ]


def _search_rows(result: dict[str, Any]) -> list[Row]:
    """The mix and each query class: p99 against the goal (issue 17), p50 and req/s beside."""
    if "skipped" in result:
        return [Row("search", "run", f"skipped: {result['skipped']}")]
    name = "search postgresql w1"
    tickets = f"{result['tickets']:,} tickets"
    goal = ("< 200 ms", lambda v: v < 200)
    windows = [("mix of all classes", result["mix"], None)]
    windows += [(k, w, result["matches"].get(k)) for k, w in result["classes"].items()]
    rows = []
    for n, (label, w, matches) in enumerate(windows):
        found = "" if matches is None else f", {matches:,} found"
        figure = f"p99, {label}{found}" + (f" (wrk -c8, {tickets})" if n == 0 else "")
        rows.append(_row(name, figure, w["p99_ms"], "ms", goal))
        alone = result.get("alone", {}).get(label, {}).get("p50_ms")
        value = (
            f"{_pair(w['p50_ms'])} ms / {w['rps']:,} /s / {_pair(w['server_cpu_ms_per_answer'])} ms"
        )
        if alone is not None:
            value += f" / {alone:,} ms"
        rows.append(_row(name, f"  p50 / req/s / CPU per answer / p50 alone, {label}", value))
    rows.append(_row(name, "errors (every window)", result["errors"], "", ("0", lambda v: v == 0)))
    return rows


def _intake_rows(results: list[dict[str, Any]]) -> list[Row]:
    rows: list[Row] = []
    ceilings = {(r["database"], r["workers"]): r for r in results if r["server"] == "ceiling"}
    for r in results:
        if r["server"] != "hotline":
            continue
        pg = r["database"] == "postgresql"
        name = f"intake {r['database']} w{r['workers']}"
        top = ceilings.get((r["database"], r["workers"]))
        closed, opened = r["closed"], r["open"]
        top_closed = top["closed"] if top else {}
        top_open = top["open"] if top else {}
        rate = f"{opened['offered_rps']:.0f}/s"
        rows += [
            _row(
                name,
                f"tickets/s, closed loop (wrk, {closed['connections']} connections, "
                f"{r['grids']:,} grids)",
                closed["rps"],
                "/s",
            ),
            _row(name, "ceiling req/s (same tool, same run)", top_closed.get("rps"), "/s"),
            _ratio_row(name, r.get("of_ceiling"), pg and r["workers"] == 2),
            _row(
                name,
                "server CPU per ticket / ceiling's per request",
                _pair(closed.get("server_cpu_ms_per_row"), top_closed.get("server_cpu_ms_per_row")),
                "ms",
            ),
        ]
        if pg:
            rows.append(
                _row(
                    name,
                    "PostgreSQL backends' CPU per ticket / ceiling's (lower bound)",
                    _pair(closed.get("db_cpu_ms_per_row"), top_closed.get("db_cpu_ms_per_row")),
                    "ms",
                )
            )
        rows += [
            _row(
                name,
                f"p99 at {rate} offered (open loop)",
                opened["p99_ms"],
                "ms",
                ("≤ 100 ms", lambda v: v <= 100),
            ),
            _row(name, f"p50 / max at {rate}", _pair(opened["p50_ms"], opened["max_ms"]), "ms"),
            _row(
                name,
                f"answered/s at {rate}; sends late by > 2 ms (max lag)",
                f"{opened['answered_rps']} /s; {opened['late_sends']:,} of {opened['sent']:,} "
                f"({opened['max_lag_ms']:,.0f} ms)",
            ),
            _row(
                name,
                f"ceiling p50 / p99 / max at {rate}",
                f"{top_open.get('p50_ms')} / {top_open.get('p99_ms')} / {top_open.get('max_ms')}",
                "ms",
            ),
            _row(
                name,
                f"errors of {closed['answered'] + opened['answered']:,} answers (both loops)",
                closed["errors"] + opened["errors"],
                "",
                ("0", lambda v: v == 0),
            ),
        ]
        kinds: dict[str, int] = {}
        for window in (closed, opened):
            for kind, count in window["error_kinds"].items():
                kinds[kind] = kinds.get(kind, 0) + count
        if kinds:
            rows.append(_row(name, "error kinds (all in the JSON)", _kinds(kinds)))
        if r.get("route_methods"):
            methods = ", ".join(f"{k} {v:,}" for k, v in r["route_methods"].items())
            rows.append(_row(name, "route methods (from the database)", methods))
            rows.append(_row(name, "routed to the grid written for", r.get("routed_as_written")))
        elif r.get("route_facts_error"):
            rows.append(_row(name, "route methods", f"unread: {r['route_facts_error']}"[:120]))
        if top:
            kinds = {}
            for window in (top_closed, top_open):
                for kind, count in window["error_kinds"].items():
                    kinds[kind] = kinds.get(kind, 0) + count
            if kinds:
                rows.append(_row(name, "ceiling errors (all in the JSON)", _kinds(kinds)))
    return rows


def _kinds(kinds: dict[str, int], width: int = 72) -> str:
    """``kind ×count`` by count, cut to ``width`` characters."""
    text = ", ".join(f"{k} ×{v:,}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))
    return text if len(text) <= width else text[: width - 1] + "…"


def _pair(*values: Any) -> str:
    return " / ".join("—" if v is None else f"{v:,}" for v in values)


def _ratio_row(name: str, ratio: float | None, goal: bool) -> Row:
    """Intake ÷ ceiling; on PostgreSQL w2 the goal ≥ 0.35, with the moonshot 0.5 as a note."""
    row = _row(name, "intake ÷ ceiling", ratio)
    if not goal or ratio is None:
        return row
    met = "yes (moonshot too)" if ratio >= 0.5 else "yes" if ratio >= 0.35 else "NO"
    return Row(row.name, row.figure, row.value, "≥ 0.35 (moonshot 0.5)", met)


def _longpoll_rows(result: dict[str, Any]) -> list[Row]:
    pg = result["backend"] == "postgresql"
    name = f"longpoll {result['backend']} w{result['workers']}"
    goal = ("< 100 ms", lambda v: v < 100) if pg else ("< 200 ms", lambda v: v < 200)
    rows = [
        _row(
            name,
            f"wake p99 ({result['waiters']:,} waiters on {result['grids']:,} grids, "
            f"{result['rate']:g} tickets/s)",
            result["p99_ms"],
            "ms",
            goal,
        ),
        _row(name, "wake p50 / max", _pair(result["p50_ms"], result["max_ms"]), "ms"),
        _row(
            name,
            "polls woken / expected (missed > 5 s)",
            f"{result['woken']:,} / {result['expected_wakes']:,} ({result['missed']:,})",
        ),
        _row(name, f"errors ({result['posts']:,} POSTs)", result["errors"]),
    ]
    if result["error_kinds"] or result["ramp_errors"]:
        kinds = dict(result["error_kinds"])
        for kind, count in result["ramp_errors"].items():
            kinds[f"opening: {kind}"] = count
        rows.append(_row(name, "error kinds (all in the JSON)", _kinds(kinds)))
    rows += [
        _row(
            name,
            "POST p50 / p99",
            _pair(result["post_p50_ms"], result["post_p99_ms"]),
            "ms",
        ),
        _row(
            name,
            "CPU while posting: server / this client (share of a core)",
            _pair(result["server_cpu_share"], result["client_cpu_share"]),
        ),
        _row(
            name,
            "server RSS with the waiters (largest process)",
            max(result["rss_waiting_mib"], result["rss_end_mib"]),
            "MiB",
            ("< 300 MiB", lambda v: v < 300),
        ),
    ]
    return rows


def render(rows: list[Row]) -> str:
    header = Row("name", "figure", "value", "goal", "met?")
    cells = [header, *rows]
    widths = [
        max(len(getattr(r, f)) for r in cells) for f in ("name", "figure", "value", "goal", "met")
    ]
    lines = []
    for n, r in enumerate(cells):
        parts = [r.name, r.figure, r.value, r.goal, r.met]
        line = "  ".join(
            p.rjust(w) if i == 2 else p.ljust(w)
            for i, (p, w) in enumerate(zip(parts, widths, strict=True))
        )
        lines.append(line.rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a few minutes")
    parser.add_argument("--only", help=f"comma-separated: {','.join(NAMES)}")
    parser.add_argument("--database-url", default=DEFAULT_URL, help="scratch PostgreSQL database")
    parser.add_argument("--no-postgresql", action="store_true", help="SQLite parts only")
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "latest.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-args", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, json.loads(args.child_args), args.child_out)
        return

    names = list(NAMES)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = sorted(set(names) - set(NAMES))
        if unknown:
            parser.error(f"unknown benchmark(s) {', '.join(unknown)}; one of {', '.join(NAMES)}")
    sizes = QUICK if args.quick else FULL
    url: str | None = None
    pg_version = None
    if not args.no_postgresql:
        pg_version = ensure_database(args.database_url)
        url = args.database_url if pg_version else None
    skipped = [n for n in names if n in ("sweeper", "metrics", "search") and url is None]
    started = datetime.now(UTC)
    info = machine(pg_version)
    results: dict[str, Any] = {}
    durations: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        for job in jobs(names, sizes, url):
            results[job.label], durations[job.label] = run_job(job, Path(tmp))
    info["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    rows = table(results)
    print()
    print(render(rows))
    load = f"{info['loadavg_at_start']} at the start, {info['loadavg_at_end']} at the end"
    print(f"\nload average (1, 5, 15 min): {load}; {info['nproc']} CPUs")
    if skipped:
        print(f"\nskipped without PostgreSQL: {', '.join(skipped)}")
    document = {
        "command": " ".join(["python", "bench/run.py", *sys.argv[1:]]),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "sizes": {n: sizes[n] for n in names},
        "database_url": url,
        "machine": info,
        "seconds": {k: round(v, 1) for k, v in durations.items()},
        "table": [r.__dict__ for r in rows],
        "results": results,
        "skipped": skipped,
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
