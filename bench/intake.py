"""Benchmark of intake: ``POST /v1/tickets`` driven by ``wrk`` against ``hotline serve``, beside
the ceiling of the stack (``bench/ceiling_app.py``) measured with the same tool in the same run.

Usage: ``python bench/intake.py [--seconds 20] [--clients 32] [--grids 10000]
[--configs sqlite:1,postgresql:1,postgresql:2] [--sqlite-rate 100] [--postgresql-rate 200]
[--bodies 20000] [--database-url URL] [--profile DIR] [--json out.json]``

Configurations are ``database:workers``; the PostgreSQL ones run only with ``--database-url``
(its ``public`` schema is dropped and rebuilt: point it at a scratch database). For each:

* A fresh county: ``hotline demo generate --grids N`` (once per run), ``hotline grids import``,
  then ``hotline demo`` (the demo loader sees the county 210124 already there, so it loads no
  demo grids and only mints the centre's keys into ``demo-keys.json``; the agent's key is used).
  One grid worker on duty is inserted per grid (there is no bulk staff API), so every routed
  ticket gets an assignee, as in a staffed county. Then ``hotline serve --demo --workers W`` on
  127.0.0.1 with the sweeper and webhook loops on, as in production.
* Bodies: ``--bodies`` of them (20,000) are generated once, deterministically from their
  number, into a file that ``bench/intake.lua`` reads: Chinese content of 15 to about 1,700
  characters (median 60) by category, callers with mobile numbers in the formats agents type
  (some landlines, some anonymous), every kind, urgency and line in realistic shares, ~10% with
  the provincial platform's ``external_id``, and locations read from the generated GeoJSON:
  WGS-84, GCJ-02 or BD-09 points inside a synthetic grid, addresses naming its township,
  village and grid, addresses naming only a village, or no location. wrk's thread k of T cycles
  through the bodies whose number is k modulo T. Every request carries a fresh
  ``Idempotency-Key`` (``<phase>-<thread>-<counter>-b<body>-<random>``), as the call-centre
  client does, and an external_id made unique per request (the body's, suffixed with the phase,
  thread and counter), so a body sent again is a new ticket, never a replay; answers marked
  ``Idempotent-Replayed`` are counted as errors.
* Load: ``wrk`` (Debian's package, installed with ``apt-get install -y wrk`` when missing). A
  Python load generator on the same 2 cores caps the bare stack at ~240 req/s: it measured
  itself; wrk spends 0.1–0.2 ms of CPU per request here. Each server gets, one after the other:
  1. warm-up, 3 s closed loop, not measured (each process builds its routing index of the whole
     county on its first ticket);
  2. **closed loop** ``wrk -t2 -c{--clients} -d{--seconds}``: every connection sends its next
     request when the previous is answered. Tickets/s is the 2xx answers in wrk's window ÷ its
     length;
  3. **open loop** at a fixed offered rate well below the ceiling's saturation (``--sqlite-rate``
     100/s, ``--postgresql-rate`` 200/s) for ``--seconds``: Debian's wrk is closed-loop (wrk2,
     which schedules requests, is not packaged; Debian's other tools, ab, siege, hey, h2load,
     are closed-loop too or cap a rate per worker; httperf opens connections at a rate but
     gives no percentiles), so the open loop is wrk with its Lua ``delay()`` hook and one
     connection per thread (``-t64 -c64``): each connection has its own schedule, 64/rate
     seconds apart on average, each gap uniform in 0.5–1.5 times that. Latency is taken in Lua
     (CLOCK_MONOTONIC) from the request's slot, not from when it was written, to its answer,
     so a server that falls behind is charged for the sends it held up (no coordinated
     omission); sends that left more than 2 ms after their slot are counted (``late_sends``,
     ``max_lag_ms``). Reported: p50/p99/max, the answered rate against the offered one.
  Between windows the benchmark waits until the server is idle again.
* Figures per window: answers by status, errors (non-2xx answers by status and problem code,
  counted by the Lua ``response()`` hook; wrk's socket errors: connect, read, write, timeout;
  replays), the server's CPU time (its process group, from /proc) from the window's start until
  it is idle again ÷ the rows inserted over that span (``server_cpu_ms_per_row``: CPU per
  ticket), wrk's own CPU time, the 1-minute load average before and after, and on PostgreSQL
  what the database's backends were doing (``pg_stat_activity`` sampled every 100 ms during
  the closed window: the average number active, idle in transaction and waiting per wait
  event) and their CPU time per row (a lower bound: a backend is counted from when a sample
  first saw it). The closed loop's ``wrk_latency_ms`` is wrk's own, which includes wrk's
  coordinated-omission correction (stats_correct); it is not the open loop's figure.
* After the run, from the database: the route methods of the measured tickets and the share of
  those whose body named a grid that were routed to it (the Idempotency-Key names the body),
  and the rows of ``ticket`` and ``ticket_event``.
* The ceiling then runs on the same database kind with the same worker count, bodies, tool and
  windows. ``of_ceiling`` is the closed-loop tickets/s ÷ the ceiling's requests/s.

Everything listens on 127.0.0.1, each phase is bounded in time, and each server is stopped at the
end (SIGTERM to its process group, SIGKILL after 10 s); data directories are temporary.

``--profile DIR`` also records each ``hotline serve`` closed window with ``py-spy`` (on PATH or
next to the Python interpreter) into ``DIR/intake-<db>-w<W>.txt`` (collapsed stacks).

``run(seconds, clients, database_url, …)`` returns one dict per server and configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import prcoords

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hotline.config import async_url

BENCH = Path(__file__).resolve().parent
STARTUP = 120  # seconds for a server to migrate, load and answer /readyz
WARMUP = 3.0  # seconds of unmeasured load before the window
DRAIN = 60.0  # seconds past its window that a wrk run may take before it is killed
REQUEST_TIMEOUT = 30.0  # wrk's --timeout
LUA = BENCH / "intake.lua"
BODIES = 20_000  # distinct bodies, cycled through
CLOSED_THREADS = 2  # wrk -t of the closed loop (-c is --clients)
OPEN_CONNECTIONS = 64  # the open loop's connections, one wrk thread each
SQLITE_RATE = 100.0  # the open loop's offered requests/s
POSTGRESQL_RATE = 200.0
DEFAULT_CONFIGS = "sqlite:1,postgresql:1,postgresql:2"

# ---------------------------------------------------------------------------------------------
# Bodies
# ---------------------------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕建国志德福顺海波"
OPENINGS = (
    "市民来电反映：",
    "来电人称，",
    "群众反映，",
    "来电人反映：",
    "市民来电称，",
    "",
)
PLACES = ("小区门口", "楼下", "村口", "路口", "学校附近", "菜市场旁边", "单元门前", "主路上")
DETAILS = (
    "该问题已经持续{n}天了",
    "多次向物业反映未果",
    "之前打过{n}次电话，一直没有人来处理",
    "晚上出行很不安全，老人孩子容易摔倒",
    "周边居民意见很大",
    "社区工作人员来看过，说不归他们管",
    "附近有{n}户人家受到影响",
    "天气转冷，情况越来越严重",
    "已经拍了照片，可以提供给工作人员",
    "来电人情绪比较激动",
    "希望能有个明确的答复",
    "去年也出现过同样的问题",
)
ASKS = (
    "希望相关部门尽快处理。",
    "请尽快派人到现场查看。",
    "要求给予答复。",
    "请核实处理并回复来电人。",
    "希望有关部门重视。",
)
PROBLEMS: dict[str, tuple[str, ...]] = {
    "utility.water": ("停水已经{n}天，没有任何通知", "自来水发黄有异味", "水压太低，楼上用不上水"),
    "utility.power": ("频繁停电，家里电器被烧坏", "电压不稳，灯忽明忽暗"),
    "utility.heating": ("暖气不热，室温只有{n}度", "供暖管道漏水"),
    "urban.road": ("路面塌陷出现一个大坑", "井盖丢失，非常危险", "道路坑洼不平，雨天积水"),
    "urban.lighting": ("路灯不亮已有{n}天", "一排路灯全部损坏"),
    "urban.drainage": ("下水道堵塞，污水外溢", "雨后积水严重，无法通行"),
    "urban.construction": ("有人私搭乱建，占用公共通道", "楼顶违建影响采光"),
    "environment.sanitation": ("垃圾没人清运，气味难闻", "垃圾箱满了好几天"),
    "environment.noise": ("夜间施工噪音扰民", "广场舞音响声音太大"),
    "housing.property": ("物业不作为，电梯经常坏", "物业乱收费"),
    "market.food": ("饭店卖过期食品", "超市销售的食品有质量问题"),
    "labour.wages": ("工地拖欠农民工工资{n}个月", "单位拖欠工资不给"),
    "traffic.parking": ("车辆乱停乱放，堵住消防通道", "占道经营严重"),
    "civil.assistance": ("咨询低保申请条件", "家庭困难，申请救助"),
    "safety.hazard": ("电动车在楼道充电，有火灾隐患", "老旧电线裸露，存在安全隐患"),
    "public.policy": ("咨询养老保险缴费政策", "咨询新生儿落户需要哪些材料"),
}
CATEGORY_WEIGHTS = (6, 3, 4, 8, 4, 4, 2, 6, 4, 5, 2, 3, 3, 2, 2, 3)
KINDS = ("complaint", "help", "consult", "report", "suggestion", "praise", "other")
KIND_WEIGHTS = (40, 25, 20, 5, 6, 2, 2)


@dataclass(frozen=True)
class Grid:
    code: str
    name: str
    alias: str
    village: str
    township: str
    corners: tuple[tuple[float, float], ...]  # SW, SE, NE, NW (lon, lat)


def load_grids(path: Path) -> list[Grid]:
    """The synthetic grids of a ``hotline demo generate`` file, with their village and township
    names (addresses name them)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    names = {f["properties"]["code"]: f["properties"]["name"] for f in doc["features"]}
    parents = {f["properties"]["code"]: f["properties"]["parent_code"] for f in doc["features"]}
    grids = []
    for f in doc["features"]:
        p = f["properties"]
        if p["kind"] != "grid":
            continue
        village = p["parent_code"]
        ring = f["geometry"]["coordinates"][0][:4]
        grids.append(
            Grid(
                code=p["code"],
                name=p["name"],
                alias=p["aliases"][0] if p["aliases"] else p["name"],
                village=names[village],
                township=names[parents[village]],
                corners=tuple((float(x), float(y)) for x, y in ring),
            )
        )
    return grids


def point_in(grid: Grid, rnd: random.Random) -> tuple[float, float]:
    """A point inside the grid (lat, lon): bilinear in its convex quadrilateral, away from the
    edges."""
    u, v = rnd.uniform(0.15, 0.85), rnd.uniform(0.15, 0.85)
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = grid.corners
    lon = (1 - u) * (1 - v) * x0 + u * (1 - v) * x1 + u * v * x2 + (1 - u) * v * x3
    lat = (1 - u) * (1 - v) * y0 + u * (1 - v) * y1 + u * v * y2 + (1 - u) * v * y3
    return round(lat, 6), round(lon, 6)


def phone(rnd: random.Random) -> str:
    prefix = rnd.choice(("138", "139", "135", "150", "158", "186", "187", "131", "177", "199"))
    rest = f"{rnd.randrange(10**8):08d}"
    number = prefix + rest
    style = rnd.random()
    if style < 0.5:
        return number
    if style < 0.75:
        return f"{prefix} {rest[:4]} {rest[4:]}"
    if style < 0.85:
        return f"+86 {prefix}-{rest[:4]}-{rest[4:]}"
    return f"024-{rnd.randrange(2, 9)}{rnd.randrange(10**6):06d}"  # a Shenyang landline


def content(category: str, rnd: random.Random) -> str:
    n = rnd.randint(2, 30)
    problem = rnd.choice(PROBLEMS[category]).format(n=n)
    parts = [rnd.choice(OPENINGS), rnd.choice(PLACES), problem, "，"]
    size = rnd.random()
    if size < 0.2:
        count = 0
    elif size < 0.85:
        count = rnd.randint(1, 4)
    elif size < 0.98:
        count = rnd.randint(8, 40)
    else:  # a long story
        count = rnd.randint(60, 120)
    for _ in range(count):
        parts.append(rnd.choice(DETAILS).format(n=rnd.randint(2, 30)))
        parts.append(rnd.choice("，。"))
    parts.append(rnd.choice(ASKS))
    return "".join(parts)


def make_body(n: int, grids: list[Grid], seed: int = 12345) -> tuple[dict[str, Any], str | None]:
    """Request ``n``'s body and the grid it was written for (None: it names no grid)."""
    rnd = random.Random(seed * 1_000_003 + n)
    category = rnd.choices(tuple(PROBLEMS), CATEGORY_WEIGHTS)[0]
    kind = rnd.choices(KINDS, KIND_WEIGHTS)[0]
    if category == "public.policy":
        kind = "consult"
    body: dict[str, Any] = {"kind": kind, "category": category, "content": content(category, rnd)}
    r = rnd.random()
    if r < 0.02:
        body["urgency"] = "emergency"
    elif r < 0.08 or category.startswith("utility."):
        body["urgency"] = "utility"
    r = rnd.random()
    if r < 0.05:
        body["line"] = "enterprise"
    elif r < 0.08:
        body["line"] = "relief"
    caller: dict[str, Any] = {}
    if rnd.random() < 0.9:
        caller["name"] = rnd.choice(SURNAMES) + "".join(rnd.choices(GIVEN, k=rnd.choice((1, 2))))
        caller["phone"] = phone(rnd)
    if rnd.random() < 0.05:
        caller["confidential"] = True
    if caller:
        body["caller"] = caller
    grid = rnd.choice(grids)
    room = (
        f"{rnd.randint(1, 30)}号楼{rnd.randint(1, 6)}单元{rnd.randint(1, 18)}0{rnd.randint(1, 4)}室"
    )
    address = rnd.choice(
        (
            f"法库县{grid.township}{grid.village}{grid.alias}{room}",
            f"{grid.village}{grid.alias}{room}",
            f"辽宁省沈阳市法库县{grid.township}{grid.village}{grid.name}",
            f"{grid.township}{grid.alias}东门",
        )
    )
    meant: str | None = grid.code
    r = rnd.random()
    if r < 0.45:
        lat, lon = point_in(grid, rnd)
        body["location"] = {"lat": lat, "lon": lon, "address": address}
    elif r < 0.60:  # Amap / Tencent shares
        lat, lon = point_in(grid, rnd)
        gcj = prcoords.wgs_gcj(prcoords.Coords(lat, lon))
        body["location"] = {"lat": round(gcj.lat, 6), "lon": round(gcj.lon, 6), "crs": "gcj02"}
    elif r < 0.65:  # Baidu shares
        lat, lon = point_in(grid, rnd)
        bd = prcoords.wgs_bd(prcoords.Coords(lat, lon))
        body["location"] = {"lat": round(bd.lat, 6), "lon": round(bd.lon, 6), "crs": "bd09"}
    elif r < 0.88:
        body["location"] = {"address": address}
    elif r < 0.93:  # names only a village of many grids: left to triage
        body["location"] = {"address": f"法库县{grid.township}{grid.village}村委会附近"}
        meant = None
    else:  # a question without a place
        meant = None
    if rnd.random() < 0.1:
        body["external_id"] = f"SY{20260000 + seed % 10000}{n:09d}"
    return body, meant


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_DATA_DIR"] = str(data_dir)
    if database_url:
        env["HOTLINE_DATABASE__URL"] = database_url
    return env


def hotline_cmd(*args: str, env: dict[str, str], timeout: float = 300) -> None:
    subprocess.run(
        [sys.executable, "-m", "hotline", *args],
        env=env,
        check=True,
        timeout=timeout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


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


def staff_grids(data_dir: Path, database_url: str | None) -> int:
    """One worker on duty per grid, in one bulk insert (there is no bulk staff API)."""
    from sqlalchemy import insert, select

    from hotline.config import Settings
    from hotline.db.engine import create_engine
    from hotline.org.models import Staff, Unit

    settings = Settings(data_dir=data_dir, database={"url": database_url})

    async def go() -> int:
        engine = create_engine(settings)
        try:
            async with engine.begin() as conn:
                codes = (await conn.scalars(select(Unit.code).where(Unit.kind == "grid"))).all()
                now = datetime.now(UTC)
                rows = [
                    {
                        "name": f"网格员{n:05d}",
                        "role": "worker",
                        "unit_code": code,
                        "phone": f"139{n:08d}",
                        "active": True,
                        "on_duty": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n, code in enumerate(codes)
                ]
                await conn.execute(insert(Staff), rows)
            return len(codes)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def count_rows(database_url: str, table: str) -> int:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def go() -> int:
        engine = create_async_engine(async_url(database_url))
        try:
            async with engine.connect() as conn:
                return int(await conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
        finally:
            await engine.dispose()

    return asyncio.run(go())


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]
    log: Path


@contextlib.contextmanager
def server(cmd: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[Server]:
    """Start ``cmd`` in its own process group until /readyz answers; stop the group on exit."""
    with log.open("wb") as out:  # a file: a full pipe would stall the server
        process = subprocess.Popen(
            cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + STARTUP
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"server exited: {log.read_text()[-3000:]}")
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"server did not become ready: {log.read_text()[-3000:]}")
                time.sleep(0.2)
            yield Server(base, process, log)
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    # Workers may outlive the supervisor by a moment; the group goes in any case.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def group_cpu_seconds(pgid: int) -> float:
    """User plus system CPU time of every live process of the group, from /proc."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # pgrp
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


# ---------------------------------------------------------------------------------------------
# Load: wrk
# ---------------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """wrk's path; installed from Debian (``apt-get install -y wrk``) when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("== wrk is missing: apt-get install -y wrk", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    attempts = (
        ["apt-get", "install", "-y", "-qq", "wrk"],
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "wrk"],
    )
    problems = []
    for cmd in attempts:
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            problems.append(f"{' '.join(cmd)}: {exc}")
            continue
        if done.returncode != 0:
            problems.append(
                f"{' '.join(cmd)}: exit {done.returncode}: {done.stderr.strip()[-500:]}"
            )
        if shutil.which("wrk"):
            return str(shutil.which("wrk"))
    raise SystemExit(
        "bench/intake.py drives its load with wrk (Debian's package `wrk`), which is not on PATH "
        "and could not be installed:\n  " + "\n  ".join(problems)
    )


def write_bodies(
    prefix: Path, grids: list[Grid], count: int, thread_counts: tuple[int, ...]
) -> list[str | None]:
    """``count`` bodies for intake.lua: for each T of ``thread_counts``, thread k's file
    ``<prefix>-<T>-<k>.tsv`` holds the bodies numbered k modulo T, one a line:
    ``number<TAB>external_id<TAB>JSON without it`` (the script makes each external_id unique
    per request). The grid each body was written for, by number."""
    meant: list[str | None] = []
    lines = []
    for n in range(count):
        body, grid = make_body(n, grids)
        external = body.pop("external_id", "")
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        lines.append(f"{n}\t{external}\t{text}\n")
        meant.append(grid)
    for threads in thread_counts:
        for k in range(threads):
            path = Path(f"{prefix}-{threads}-{k}.tsv")
            path.write_text("".join(lines[k::threads]), encoding="utf-8")
    return meant


@dataclass(frozen=True)
class Load:
    """What is sent: the bodies' files (their prefix), the key and where wrk writes."""

    wrk: str
    bodies: Path
    key: str
    tmp: Path


async def wrk_run(
    srv: Server,
    load: Load,
    phase: str,
    seconds: float,
    *,
    connections: int,
    threads: int,
    rate: float | None = None,
) -> dict[str, Any]:
    """One wrk run of ``seconds`` (closed loop, or open at ``rate`` with one connection per
    thread); intake.lua's findings, and wrk's own CPU time."""
    out = load.tmp / f"wrk-{phase}.json"
    env = {
        **os.environ,
        "INTAKE_BODIES": str(load.bodies),
        "INTAKE_KEY": load.key,
        "INTAKE_PHASE": phase,
        "INTAKE_THREADS": str(threads),
        "INTAKE_OUT": str(out),
    }
    env.pop("INTAKE_RATE", None)
    env.pop("INTAKE_START", None)
    duration = math.ceil(seconds)
    if rate is not None:
        if connections != threads:
            raise ValueError("the open loop needs one connection per thread")
        # wrk starts its threads one after the other, each reading its bodies: the schedules
        # all begin once the last has started, and wrk runs that much longer.
        margin = 0.5 + 0.01 * threads
        env["INTAKE_RATE"] = str(rate)
        env["INTAKE_START"] = f"{time.monotonic() + margin:.6f}"
        duration = math.ceil(seconds + margin)
    cmd = [load.wrk, "-t", str(threads), "-c", str(connections), "-d", f"{duration}s"]
    cmd += ["--timeout", f"{REQUEST_TIMEOUT:.0f}s", "-s", str(LUA), f"{srv.base}/v1/tickets"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = await asyncio.create_subprocess_exec(
        *cmd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), seconds + DRAIN)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise RuntimeError(f"wrk ({phase}) did not finish in {seconds + DRAIN:.0f} s") from None
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0 or not out.exists():
        raise RuntimeError(
            f"wrk ({phase}) failed with status {process.returncode}: "
            f"{stderr.decode(errors='replace')[-2000:]} {stdout.decode(errors='replace')[-2000:]}"
        )
    doc: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    doc["client_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    doc["summary_text"] = stdout.decode(errors="replace")
    return doc


def wrk_figures(doc: dict[str, Any]) -> dict[str, Any]:
    """Answers, errors (non-2xx answers and socket errors) and rates of one wrk run."""
    elapsed = doc["duration_us"] / 1e6
    statuses = {int(k): v for k, v in doc["statuses"].items()}
    ok = sum(v for k, v in statuses.items() if 200 <= k < 300) - doc["replayed"]
    kinds = {f"HTTP {k}".strip(): v for k, v in sorted(doc["problems"].items())}
    kinds.update({f"socket {k}": v for k, v in doc["socket_errors"].items() if v})
    if doc["replayed"]:  # a fresh Idempotency-Key and external_id must never replay
        kinds["replayed"] = doc["replayed"]
    return {
        "seconds": round(elapsed, 2),
        "answered": sum(statuses.values()),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "ok": ok,
        "replayed": doc["replayed"],
        "rps": round(ok / elapsed, 1) if elapsed else 0.0,
        "errors": sum(kinds.values()),
        "error_kinds": kinds,
        "client_cpu_s": round(doc["client_cpu_s"], 2),
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def settle(pgid: int, limit: float = 15.0) -> float:
    """Until the server's group has used (nearly) no CPU for half a second: the requests left in
    flight by the last window are done. Seconds waited."""
    started = time.monotonic()
    quiet = 0
    before = group_cpu_seconds(pgid)
    while time.monotonic() - started < limit and quiet < 2:
        await asyncio.sleep(0.25)
        now = group_cpu_seconds(pgid)
        quiet = quiet + 1 if now - before <= 0.03 else 0
        before = now
    return time.monotonic() - started


async def sample_pg(database_url: str, stop: asyncio.Event) -> dict[str, Any]:
    """Every 100 ms until ``stop``: what the database's other backends are doing, and their CPU.

    Returns the average number of backends per state (``active``, ``idle in transaction``), and
    of those waiting, per wait event (``Lock:transactionid`` is a row lock held by another
    transaction); and ``cpu_s``, the CPU time the backends used between the first and the last
    sample that saw them (from /proc: a lower bound, as a backend started mid-window is counted
    from when it was first seen)."""
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    totals: Counter[str] = Counter()
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    samples = 0
    try:
        while not stop.is_set():
            rows = await conn.fetch(
                "SELECT pid, state, wait_event_type, wait_event FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend'"
            )
            samples += 1
            for r in rows:
                cpu = process_cpu_seconds(int(r["pid"]))
                if cpu is not None:
                    first.setdefault(int(r["pid"]), cpu)
                    last[int(r["pid"])] = cpu
                if r["state"] == "idle":
                    continue
                totals[str(r["state"])] += 1
                if r["wait_event_type"] in ("Lock", "LWLock", "IO"):
                    totals[f"waiting {r['wait_event_type']}:{r['wait_event']}"] += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.1)
    finally:
        await conn.close()
    found: dict[str, Any] = (
        {k: round(v / samples, 2) for k, v in sorted(totals.items())} if samples else {}
    )
    found["cpu_s"] = round(sum(last[p] - first[p] for p in last), 2)
    found["backends_seen"] = len(last)
    return found


def process_cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def count_async(database_url: str, table: str) -> int:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(async_url(database_url))
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
    finally:
        await engine.dispose()


async def window(
    srv: Server,
    load: Load,
    phase: str,
    seconds: float,
    *,
    connections: int,
    threads: int,
    rate: float | None,
    database_url: str,
    table: str,
    sample: bool,
) -> dict[str, Any]:
    """One measured wrk run, then until the server is quiet: its figures, the server's CPU (its
    process group, from /proc) over the run and the drain after it, divided by the rows that
    span inserted; on PostgreSQL what the backends were doing (and their CPU)."""
    pgid = srv.process.pid
    load_before = os.getloadavg()[0]
    stop_sampling = asyncio.Event()
    pg = database_url.startswith("postgresql")
    sampler = asyncio.create_task(sample_pg(database_url, stop_sampling)) if pg and sample else None
    rows_before = await count_async(database_url, table)
    cpu_before = group_cpu_seconds(pgid)
    doc = await wrk_run(
        srv, load, phase, seconds, connections=connections, threads=threads, rate=rate
    )
    drained = await settle(pgid)
    cpu = group_cpu_seconds(pgid) - cpu_before
    stop_sampling.set()
    backends = await sampler if sampler is not None else None
    inserted = await count_async(database_url, table) - rows_before
    result = wrk_figures(doc)
    result["connections"] = connections
    result["threads"] = threads
    result["rows_inserted"] = inserted
    result["drain_s"] = round(drained, 1)
    result["server_cpu_s"] = round(cpu, 2)
    result["server_cpu_ms_per_row"] = round(cpu * 1000 / inserted, 2) if inserted else None
    result["loadavg_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    if backends is not None:
        db_cpu = backends.pop("cpu_s")
        result["pg_backends"] = backends
        result["db_cpu_s"] = db_cpu
        result["db_cpu_ms_per_row"] = round(db_cpu * 1000 / inserted, 2) if inserted else None
    if rate is None:
        result["wrk_latency_ms"] = doc["wrk_latency_ms"]
    else:
        ms = doc["latencies_ms"]
        result.update(
            {
                "offered_rps": rate,
                "answered_rps": round(len(ms) / span, 1) if (span := doc["open_span_s"]) else 0,
                "open_span_s": doc["open_span_s"],
                "p50_ms": round(percentile(ms, 0.5), 1),
                "p90_ms": round(percentile(ms, 0.9), 1),
                "p99_ms": round(percentile(ms, 0.99), 1),
                "max_ms": round(max(ms), 1) if ms else float("nan"),
                "mean_ms": round(sum(ms) / len(ms), 1) if ms else float("nan"),
                "over_100ms": sum(1 for v in ms if v > 100),
                "sent": doc["sent"],
                "late_sends": doc["late"],
                "max_lag_ms": doc["max_lag_ms"],
            }
        )
    return result


async def measure(
    srv: Server,
    load: Load,
    *,
    tag: str,
    seconds: float,
    clients: int,
    rate: float,
    database_url: str,
    table: str,
    spy: list[str] | None = None,
) -> dict[str, Any]:
    """Warm-up (unmeasured: each process builds its routing index of the whole county on its
    first ticket), the closed-loop window, then the open loop at ``rate``."""
    threads = min(CLOSED_THREADS, clients)  # wrk wants at least a connection per thread
    warm = await wrk_run(srv, load, f"{tag}w", WARMUP, connections=clients, threads=threads)
    await settle(srv.process.pid)
    spy_process = None
    if spy is not None:
        spy_process = subprocess.Popen(spy, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    closed = await window(
        srv,
        load,
        f"{tag}c",
        seconds,
        connections=clients,
        threads=threads,
        rate=None,
        database_url=database_url,
        table=table,
        sample=True,
    )
    if spy_process is not None:
        try:
            spy_process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy_process.kill()
            spy_process.wait()
    opened = await window(
        srv,
        load,
        f"{tag}o",
        seconds,
        connections=OPEN_CONNECTIONS,
        threads=OPEN_CONNECTIONS,
        rate=rate,
        database_url=database_url,
        table=table,
        sample=False,
    )
    warm_figures = wrk_figures(warm)
    return {
        "warmup": {k: warm_figures[k] for k in ("seconds", "ok", "errors", "error_kinds")},
        "closed": closed,
        "open": opened,
    }


# ---------------------------------------------------------------------------------------------
# One configuration
# ---------------------------------------------------------------------------------------------


def route_facts(database_url: str, meant: list[str | None], phases: tuple[str, ...]) -> Any:
    """From the database after the run: the route methods of the tickets of ``phases`` and the
    share of those whose body named a grid that were routed to it (each ticket is found by its
    Idempotency-Key, which names its body)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def go() -> list[Any]:
        engine = create_async_engine(async_url(database_url))
        try:
            async with engine.connect() as conn:
                result = await conn.execute(
                    text(
                        "SELECT r.key, t.grid_code, t.route FROM idempotency_record r"
                        " JOIN ticket t ON t.id = r.ticket_id"
                    )
                )
                return list(result.all())
        finally:
            await engine.dispose()

    methods: Counter[str] = Counter()
    intended = named = 0
    for key, grid_code, route in asyncio.run(go()):
        phase, _, rest = str(key).partition("-")
        if phase not in phases or "-b" not in rest:
            continue
        n = int(rest.split("-b", 1)[1].split("-", 1)[0])
        if isinstance(route, str):
            route = json.loads(route)
        methods[str((route or {}).get("method"))] += 1
        if meant[n] is not None:
            named += 1
            intended += grid_code == meant[n]
    return {
        "route_methods": dict(methods.most_common()),
        "routed_as_written": round(intended / named, 3) if named else None,
    }


def measure_service(
    tmp: Path,
    county: Path,
    load: Load,
    meant: list[str | None],
    *,
    database_url: str | None,
    workers: int,
    seconds: float,
    clients: int,
    rate: float,
    profile: Path | None,
) -> dict[str, Any]:
    db = "postgresql" if database_url else "sqlite"
    data_dir = tmp / f"hotline-{db}-w{workers}"
    data_dir.mkdir()
    if database_url:
        reset_schema(database_url)
    env = clean_env(data_dir, database_url)
    started = time.monotonic()
    hotline_cmd("grids", "import", str(county), env=env)
    hotline_cmd("demo", env=env)
    staffed = staff_grids(data_dir, database_url)
    prepared = time.monotonic() - started
    people = json.loads((data_dir / "demo-keys.json").read_text(encoding="utf-8"))
    key = next(p["key"] for p in people if p["role"] == "agent")
    port = free_port()
    cmd = [sys.executable, "-m", "hotline", "serve", "--demo", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--workers", str(workers)]
    url = database_url or f"sqlite:///{data_dir / 'hotline.db'}"
    tag = f"{db[0]}{workers}{os.urandom(2).hex()}"
    with server(cmd, env, port, data_dir / "server.log") as srv:
        spy = None
        if profile is not None and (exe := py_spy()):
            profile.mkdir(parents=True, exist_ok=True)
            out = profile / f"intake-{db}-w{workers}.txt"
            spy = [exe, "record", "--pid", str(srv.process.pid), "--subprocesses"]
            spy += ["--duration", str(int(seconds)), "--format", "raw", "-o", str(out)]
            spy += ["--nonblocking", "--rate", "200"]
        result = asyncio.run(
            measure(
                srv,
                Load(load.wrk, load.bodies, key, load.tmp),
                tag=tag,
                seconds=seconds,
                clients=clients,
                rate=rate,
                database_url=url,
                table="ticket",
                spy=spy,
            )
        )
    try:
        result.update(route_facts(url, meant, (f"{tag}c", f"{tag}o")))
    except Exception as exc:  # the schema moved under the benchmark: say so, keep the rest
        result["route_facts_error"] = f"{type(exc).__name__}: {exc}"
    result["rows"] = count_rows(url, "ticket")
    result["events"] = count_rows(url, "ticket_event")
    result.update({"server": "hotline", "database": db, "workers": workers, "clients": clients})
    result["grids"] = staffed
    result["prepare_s"] = round(prepared, 1)
    return result


def measure_ceiling(
    tmp: Path,
    load: Load,
    *,
    database_url: str | None,
    workers: int,
    seconds: float,
    clients: int,
    rate: float,
) -> dict[str, Any]:
    import ceiling_app

    db = "postgresql" if database_url else "sqlite"
    work = tmp / f"ceiling-{db}-w{workers}"
    work.mkdir()
    url = database_url or f"sqlite:///{work / 'ceiling.db'}"
    ceiling_app.prepare(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["CEILING_DATABASE_URL"] = url
    port = free_port()
    cmd = [sys.executable, "-m", "uvicorn", "ceiling_app:create_app", "--factory"]
    cmd += ["--app-dir", str(BENCH), "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--workers", str(workers), "--log-level", "info", "--proxy-headers"]
    tag = f"x{db[0]}{workers}{os.urandom(2).hex()}"
    with server(cmd, env, port, work / "server.log") as srv:
        result = asyncio.run(
            measure(
                srv,
                Load(load.wrk, load.bodies, "none", load.tmp),
                tag=tag,
                seconds=seconds,
                clients=clients,
                rate=rate,
                database_url=url,
                table="ceiling_ticket",
            )
        )
    result["rows"] = count_rows(url, "ceiling_ticket")
    result.update({"server": "ceiling", "database": db, "workers": workers, "clients": clients})
    return result


def parse_configs(text: str) -> list[tuple[str, int]]:
    """``sqlite:1,postgresql:2`` → [("sqlite", 1), ("postgresql", 2)]."""
    configs = []
    for part in text.split(","):
        db, _, workers = part.strip().partition(":")
        if db not in ("sqlite", "postgresql") or not workers.isdigit():
            raise ValueError(f"not a configuration: {part!r} (sqlite:N or postgresql:N)")
        configs.append((db, int(workers)))
    return configs


def run(
    seconds: float = 20.0,
    clients: int = 32,
    database_url: str | None = None,
    *,
    grids: int = 10_000,
    configs: str = DEFAULT_CONFIGS,
    sqlite_rate: float = SQLITE_RATE,
    postgresql_rate: float = POSTGRESQL_RATE,
    bodies: int = BODIES,
    profile: Path | None = None,
) -> list[dict[str, Any]]:
    """Every configuration (PostgreSQL ones only with ``database_url``): hotline, then the
    ceiling, each closed loop then open loop."""
    wrk = ensure_wrk()
    results: list[dict[str, Any]] = []
    chosen = [(db, w) for db, w in parse_configs(configs) if db == "sqlite" or database_url]
    with tempfile.TemporaryDirectory(prefix="hotline-intake-") as name:
        tmp = Path(name)
        county = tmp / "county.geojson"
        env = clean_env(tmp / "unused", None)
        hotline_cmd("demo", "generate", "--grids", str(grids), "--output", str(county), env=env)
        synthetic = load_grids(county)
        load = Load(wrk, tmp / "bodies", "", tmp)
        meant = write_bodies(load.bodies, synthetic, bodies, (1, CLOSED_THREADS, OPEN_CONNECTIONS))
        for db, w in chosen:
            url = database_url if db == "postgresql" else None
            rate = postgresql_rate if url else sqlite_rate
            common = {"database_url": url, "workers": w, "seconds": seconds, "clients": clients}
            service = measure_service(
                tmp, county, load, meant, **common, rate=rate, profile=profile
            )
            ceiling = measure_ceiling(tmp, load, **common, rate=rate)
            for r in (service, ceiling):
                r["bodies"] = bodies
            closed, top = service["closed"], ceiling["closed"]
            service["ceiling_rps"] = top["rps"]
            service["of_ceiling"] = round(closed["rps"] / top["rps"], 3) if top["rps"] else None
            results += [service, ceiling]
            print(_line(service), file=sys.stderr, flush=True)
            print(_line(ceiling), file=sys.stderr, flush=True)
    return results


def _line(r: dict[str, Any]) -> str:
    c, o = r["closed"], r["open"]
    ratio = f"  {r['of_ceiling']:.2f} of ceiling" if r.get("of_ceiling") is not None else ""
    return (
        f"{r['server']:<8} {r['database']:<10} w{r['workers']}  closed {c['rps']:>6.1f}/s "
        f"{c['server_cpu_ms_per_row']} ms CPU/row errors {c['errors']}{ratio} | "
        f"open {o['offered_rps']:.0f}/s: p50 {o['p50_ms']} p99 {o['p99_ms']} max {o['max_ms']} ms "
        f"errors {o['errors']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="each measured window")
    parser.add_argument("--clients", type=int, default=32, help="closed-loop connections")
    parser.add_argument("--grids", type=int, default=10_000)
    parser.add_argument(
        "--configs",
        default=DEFAULT_CONFIGS,
        help=f"database:workers, comma-separated (default {DEFAULT_CONFIGS})",
    )
    parser.add_argument("--sqlite-rate", type=float, default=SQLITE_RATE, help="open loop, /s")
    parser.add_argument(
        "--postgresql-rate", type=float, default=POSTGRESQL_RATE, help="open loop, /s"
    )
    parser.add_argument("--bodies", type=int, default=BODIES, help="distinct bodies")
    parser.add_argument("--database-url", help="PostgreSQL; its public schema is dropped first")
    parser.add_argument("--profile", type=Path, help="record the service with py-spy into DIR")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    results = run(
        args.seconds,
        args.clients,
        args.database_url,
        grids=args.grids,
        configs=args.configs,
        sqlite_rate=args.sqlite_rate,
        postgresql_rate=args.postgresql_rate,
        bodies=args.bodies,
        profile=args.profile,
    )
    for r in results:
        print(_line(r))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
