"""Benchmark of intake: ``POST /v1/tickets`` at 32 concurrent clients against ``hotline serve``,
beside the ceiling of the stack (``bench/ceiling_app.py``) on the same database kind.

Usage: ``python bench/intake.py [--seconds 20] [--clients 32] [--grids 10000] [--workers 1,2]
[--database-url URL] [--no-sqlite] [--profile DIR] [--json out.json]``

For each database (SQLite in a temporary data directory; and PostgreSQL when ``--database-url``
is given: its ``public`` schema is dropped and rebuilt, so point it at a scratch database) and
each worker count:

* A fresh county: ``hotline demo generate --grids N`` (once per run), ``hotline grids import``,
  then ``hotline demo`` (the demo loader sees the county 210124 already there, so it loads no
  demo grids and only mints the centre's keys into ``demo-keys.json``; the agent's key is used).
  One grid worker on duty is inserted per grid (there is no bulk staff API), so every routed
  ticket gets an assignee, as in a staffed county. Then ``hotline serve --demo --workers W`` on
  127.0.0.1 with the sweeper and webhook loops on, as in production.
* Bodies are generated deterministically from the request number: Chinese content of 15 to
  about 1,700 characters (median 60) by category, callers with mobile numbers in the formats
  agents type (some landlines, some anonymous), every kind, urgency and line in realistic
  shares, ~10% with the provincial platform's ``external_id``, and locations read from the
  generated GeoJSON: WGS-84, GCJ-02 or BD-09 points inside a synthetic grid, addresses naming
  its township, village and grid, addresses naming only a village, or no location. Every
  request carries a fresh ``Idempotency-Key``, as the call-centre client does.
* ``--clients`` tasks, each with its own ``httpx.AsyncClient`` (one keep-alive connection), send
  their next request as soon as the previous one is answered. A warm-up (each process builds its
  routing index of the whole county on its first ticket) is not measured. Then ``--seconds`` of
  load; the figures are requests/s (answers received in the window ÷ its length), p50/p99/max
  latency and errors (non-2xx answers and exceptions), plus the route methods and the share of
  tickets routed to the grid the body was written for, and the rows in the database afterwards.
  Also the server's CPU time (its process group, from /proc) per answered request, the client's
  CPU time, the 1-minute load average before and after, and on PostgreSQL what the database's
  backends were doing (``pg_stat_activity`` sampled every 100 ms: the average number active,
  idle in transaction, and waiting per wait event).
* The ceiling then runs on the same database kind with the same worker count, bodies and client.

Everything listens on 127.0.0.1, each phase is bounded in time, and each server is stopped at the
end (SIGTERM to its process group, SIGKILL after 10 s); data directories are temporary.

``--profile DIR`` also records each ``hotline serve`` run with ``py-spy`` (on PATH or next to the
Python interpreter) for the measured window, into ``DIR/intake-<db>-w<W>.txt`` (collapsed stacks).

``run(seconds, clients, database_url)`` returns one dict per configuration for other scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
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
DRAIN = 30.0  # seconds the requests in flight at the end of the window may take
REQUEST_TIMEOUT = 30.0

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
# Load
# ---------------------------------------------------------------------------------------------


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)
    intended: int = 0
    meant: int = 0
    ok: int = 0
    last: float = 0.0


async def load(
    base: str,
    key: str,
    grids: list[Grid],
    *,
    clients: int,
    seconds: float,
    warmup: float,
    start_n: int,
    run_id: str,
) -> tuple[Tally, Tally, float, int]:
    """Warm up, then load for ``seconds``; (warm-up tally, window tally, window seconds, next
    request number)."""
    # One client (one connection) per task: httpcore's pool does work proportional to its
    # connections on every request, and one pool of 32 costs the client ~4x the CPU per request.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    counter = iter(range(start_n, 10**12))
    async with contextlib.AsyncExitStack() as stack:
        pool = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=base, limits=limits, timeout=REQUEST_TIMEOUT, headers=headers
                )
            )
            for _ in range(clients)
        ]

        async def client(http: httpx.AsyncClient, tally: Tally, until: float) -> None:
            while time.perf_counter() < until:
                n = next(counter)
                body, meant = make_body(n, grids)
                payload = json.dumps(body, ensure_ascii=False).encode()
                extra = {"Idempotency-Key": f"bench-{run_id}-{n}"}
                sent = time.perf_counter()
                try:
                    r = await http.post("/v1/tickets", content=payload, headers=extra)
                except httpx.HTTPError as exc:
                    tally.errors[type(exc).__name__] += 1
                    tally.last = time.perf_counter()
                    continue
                done = time.perf_counter()
                tally.latencies.append(done - sent)
                tally.last = done
                if not 200 <= r.status_code < 300:
                    code = ""
                    with contextlib.suppress(ValueError, AttributeError):
                        code = r.json().get("code", "")
                    tally.errors[f"{r.status_code} {code}".strip()] += 1
                    continue
                tally.ok += 1
                route = r.json().get("route")
                if route is not None:  # the service (the ceiling has no routing)
                    tally.methods[route["method"]] += 1
                    if meant is not None:
                        tally.meant += 1
                        tally.intended += route["grid_code"] == meant

        warm = Tally()
        if warmup > 0:
            until = time.perf_counter() + warmup
            await asyncio.wait_for(
                asyncio.gather(*(client(http, warm, until) for http in pool)),
                warmup + DRAIN,
            )
        window = Tally()
        started = time.perf_counter()
        until = started + seconds
        await asyncio.wait_for(
            asyncio.gather(*(client(http, window, until) for http in pool)), seconds + DRAIN
        )
        elapsed = max(window.last, until) - started
        return warm, window, elapsed, next(counter)


async def sample_pg(database_url: str, stop: asyncio.Event) -> dict[str, float]:
    """Every 100 ms until ``stop``: what the database's other backends are doing. Returns the
    average number of backends per state (``active``, ``idle in transaction``), and of those
    waiting, per wait event (``Lock:transactionid`` is a row lock held by another
    transaction)."""
    import asyncpg

    conn = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    totals: Counter[str] = Counter()
    samples = 0
    try:
        while not stop.is_set():
            rows = await conn.fetch(
                "SELECT state, wait_event_type, wait_event, count(*) AS n FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND backend_type = 'client backend' GROUP BY 1, 2, 3"
            )
            samples += 1
            for r in rows:
                if r["state"] == "idle":
                    continue
                totals[str(r["state"])] += r["n"]
                if r["wait_event_type"] in ("Lock", "LWLock", "IO"):
                    totals[f"waiting {r['wait_event_type']}:{r['wait_event']}"] += r["n"]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.1)
    finally:
        await conn.close()
    return {k: round(v / samples, 2) for k, v in sorted(totals.items())} if samples else {}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figures(tally: Tally, elapsed: float) -> dict[str, Any]:
    ms = [v * 1000 for v in tally.latencies]
    answered = len(ms)
    errors = sum(tally.errors.values())
    return {
        "requests": answered + sum(v for k, v in tally.errors.items() if not k[0].isdigit()),
        "ok": tally.ok,
        "seconds": round(elapsed, 2),
        "rps": round(tally.ok / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(ms, 0.5), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
        "max_ms": round(max(ms), 1) if ms else float("nan"),
        "mean_ms": round(sum(ms) / answered, 1) if answered else float("nan"),
        "errors": errors,
        "error_kinds": dict(tally.errors),
    }


# ---------------------------------------------------------------------------------------------
# One configuration
# ---------------------------------------------------------------------------------------------


def measure_service(
    tmp: Path,
    county: Path,
    grids: list[Grid],
    *,
    database_url: str | None,
    workers: int,
    seconds: float,
    clients: int,
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
    run_id = f"{db}-w{workers}-{int(time.time())}"
    with server(cmd, env, port, data_dir / "server.log") as srv:
        spy = None
        if profile is not None and (exe := py_spy()):
            profile.mkdir(parents=True, exist_ok=True)
            out = profile / f"intake-{db}-w{workers}.txt"
            spy_cmd = [exe, "record", "--pid", str(srv.process.pid), "--subprocesses"]
            spy_cmd += ["--duration", str(int(seconds)), "--format", "raw", "-o", str(out)]
            spy_cmd += ["--nonblocking", "--rate", "200"]
            spy = spy_cmd
        result = asyncio.run(
            _timed(
                srv,
                key,
                grids,
                clients,
                seconds,
                run_id,
                spy=spy,
                pgid=srv.process.pid,
                database_url=database_url,
            )
        )
    url = database_url or f"sqlite:///{data_dir / 'hotline.db'}"
    result["rows"] = count_rows(url, "ticket")
    result["events"] = count_rows(url, "ticket_event")
    result.update({"server": "hotline", "database": db, "workers": workers, "clients": clients})
    result["grids"] = staffed
    result["prepare_s"] = round(prepared, 1)
    return result


async def _timed(
    srv: Server,
    key: str,
    grids: list[Grid],
    clients: int,
    seconds: float,
    run_id: str,
    *,
    spy: list[str] | None,
    pgid: int,
    database_url: str | None,
) -> dict[str, Any]:
    """Warm-up, then the window with the server's and the client's CPU time, what PostgreSQL's
    backends were doing (and py-spy)."""
    warm_until = time.perf_counter()
    warm, _, _, n = await load(
        srv.base, key, grids, clients=clients, seconds=0, warmup=WARMUP, start_n=0, run_id=run_id
    )
    warm_s = time.perf_counter() - warm_until
    spy_process = None
    if spy is not None:
        spy_process = subprocess.Popen(spy, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    load_before = os.getloadavg()[0]
    stop_sampling = asyncio.Event()
    sampler = asyncio.create_task(sample_pg(database_url, stop_sampling)) if database_url else None
    cpu_before, client_before = group_cpu_seconds(pgid), time.process_time()
    _, window, elapsed, _ = await load(
        srv.base, key, grids, clients=clients, seconds=seconds, warmup=0, start_n=n, run_id=run_id
    )
    cpu = group_cpu_seconds(pgid) - cpu_before
    client_cpu = time.process_time() - client_before
    stop_sampling.set()
    backends = await sampler if sampler is not None else None
    if spy_process is not None:
        try:
            spy_process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy_process.kill()
            spy_process.wait()
    result = figures(window, elapsed)
    result["warmup_requests"] = len(warm.latencies) + sum(warm.errors.values())
    result["warmup_errors"] = dict(warm.errors)
    result["warmup_s"] = round(warm_s, 1)
    result["warmup_max_ms"] = round(max(warm.latencies) * 1000, 1) if warm.latencies else None
    result["server_cpu_s"] = round(cpu, 1)
    result["server_cpu_ms_per_request"] = round(cpu * 1000 / result["ok"], 2) if window.ok else None
    result["client_cpu_s"] = round(client_cpu, 1)
    result["loadavg_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    if backends is not None:
        result["pg_backends"] = backends
    if window.methods:
        result["route_methods"] = dict(window.methods.most_common())
        result["routed_as_written"] = (
            round(window.intended / window.meant, 3) if window.meant else None
        )
    return result


def measure_ceiling(
    tmp: Path,
    grids: list[Grid],
    *,
    database_url: str | None,
    workers: int,
    seconds: float,
    clients: int,
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
    run_id = f"ceiling-{db}-w{workers}"
    with server(cmd, env, port, work / "server.log") as srv:
        result = asyncio.run(
            _timed(
                srv,
                "none",
                grids,
                clients,
                seconds,
                run_id,
                spy=None,
                pgid=srv.process.pid,
                database_url=database_url,
            )
        )
    result["rows"] = count_rows(url, "ceiling_ticket")
    result.update({"server": "ceiling", "database": db, "workers": workers, "clients": clients})
    return result


def run(
    seconds: float = 20.0,
    clients: int = 32,
    database_url: str | None = None,
    *,
    grids: int = 10_000,
    workers: tuple[int, ...] = (1, 2),
    sqlite: bool = True,
    profile: Path | None = None,
) -> list[dict[str, Any]]:
    """Every configuration: hotline then the ceiling, per database and worker count."""
    results: list[dict[str, Any]] = []
    databases: list[str | None] = ([None] if sqlite else []) + (
        [database_url] if database_url else []
    )
    with tempfile.TemporaryDirectory(prefix="hotline-intake-") as name:
        tmp = Path(name)
        county = tmp / "county.geojson"
        env = clean_env(tmp / "unused", None)
        hotline_cmd("demo", "generate", "--grids", str(grids), "--output", str(county), env=env)
        synthetic = load_grids(county)
        for url in databases:
            for w in workers:
                service = measure_service(
                    tmp,
                    county,
                    synthetic,
                    database_url=url,
                    workers=w,
                    seconds=seconds,
                    clients=clients,
                    profile=profile,
                )
                ceiling = measure_ceiling(
                    tmp, synthetic, database_url=url, workers=w, seconds=seconds, clients=clients
                )
                service["ceiling_rps"] = ceiling["rps"]
                service["of_ceiling"] = (
                    round(service["rps"] / ceiling["rps"], 3) if ceiling["rps"] else None
                )
                results += [service, ceiling]
                print(_line(service), file=sys.stderr, flush=True)
                print(_line(ceiling), file=sys.stderr, flush=True)
    return results


def _line(r: dict[str, Any]) -> str:
    ratio = f"  {r['of_ceiling']:.2f} of ceiling" if r.get("of_ceiling") is not None else ""
    return (
        f"{r['server']:<8} {r['database']:<10} w{r['workers']}  {r['rps']:>7.1f} req/s  "
        f"p50 {r['p50_ms']:>6.1f}  p99 {r['p99_ms']:>7.1f}  max {r['max_ms']:>7.1f} ms  "
        f"errors {r['errors']}{ratio}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--grids", type=int, default=10_000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--database-url", help="PostgreSQL; its public schema is dropped first")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--profile", type=Path, help="record the service with py-spy into DIR")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    results = run(
        args.seconds,
        args.clients,
        args.database_url,
        grids=args.grids,
        workers=tuple(int(w) for w in args.workers.split(",")),
        sqlite=not args.no_sqlite,
        profile=args.profile,
    )
    for r in results:
        print(_line(r))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
