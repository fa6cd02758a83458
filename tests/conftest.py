"""Fixtures: every database test runs on SQLite and, when HOTLINE_TEST_DATABASE_URL is set, on
PostgreSQL.

The schema is built by running the migrations once per backend. Tests drive the real app over
HTTP, including concurrent requests that commit on several connections, so isolation is by a
fresh copy of the migrated SQLite file per test and by truncating PostgreSQL before each test
(not by a rolled-back outer transaction, which concurrent connections could not see into).

Under pytest-xdist (the default: ``-n auto``) each worker process has its own SQLite templates
and its own PostgreSQL database beside the configured one (``test_gw0``, ``test_gw1``, …).

The demo county is loaded once per backend and session, not per test: a test that uses ``demo``
starts from a copy of a SQLite file that holds it, or from PostgreSQL tables refilled with the
rows it left (the same keys for the whole session).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from hotline.app import create_app
from hotline.auth.roles import Role
from hotline.auth.service import create_key
from hotline.config import Settings, async_url
from hotline.db import migrate
from hotline.db.models import metadata
from hotline.db.session import unit_of_work

# Test webhook receivers are local (127.0.0.1 servers, MockTransport hosts that resolve nowhere):
# every Settings of the test process allows them, and so does get_settings(), which the outbox
# reads when it is drained directly. tests/webhook/test_targets.py turns it off.
os.environ["HOTLINE_WEBHOOKS__ALLOW_PRIVATE_TARGETS"] = "true"
PG_URL = os.environ.get("HOTLINE_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
# Tables the migrations seed: restored to their seeded rows after every test.
SEEDED = ("category", "config_state", "change_counter", "sla_policy", "ladder_rung", "hotspot_rule")
_seeded_rows: dict[str, list[dict[str, Any]]] = {}

if os.environ.get("CI") == "true" and not PG_URL:
    raise RuntimeError("CI=true but HOTLINE_TEST_DATABASE_URL is not set: PostgreSQL is required")


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture(autouse=True)
def _hotline_environment() -> Iterator[None]:
    """Each test ends with the HOTLINE_ variables it started with: the CLI exports its settings
    (for server worker processes), and a test that runs a command in process (CliRunner) would
    otherwise point every later test's Settings at its data directory and database."""
    before = {k: v for k, v in os.environ.items() if k.startswith("HOTLINE_")}
    yield
    for key in [k for k in os.environ if k.startswith("HOTLINE_")]:
        if key not in before:
            del os.environ[key]
    os.environ.update(before)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "hotline.db"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


async def _own_database(url: str, worker: str) -> str:
    """Under pytest-xdist each worker gets its own database beside the configured one."""
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        exists = await conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    assert PG_URL
    url = async_url(PG_URL)
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        url = _run(_own_database(url, worker))

    async def reset() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    async def snapshot() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            for name in SEEDED:
                rows = await conn.execute(metadata.tables[name].select())
                _seeded_rows[name] = [dict(r._mapping) for r in rows]
        await engine.dispose()

    _run(reset())
    migrate.upgrade(url)
    _run(snapshot())
    return url


async def _refill(url: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Empty every table, then insert ``rows`` (per table) and move the id sequences past them."""
    tables = [t.name for t in metadata.sorted_tables]
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        for table in metadata.sorted_tables:
            if not rows.get(table.name):
                continue
            await conn.execute(table.insert(), rows[table.name])
            if "id" in table.c:
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"
                    )
                )
    await engine.dispose()


async def _truncate(url: str) -> None:
    await _refill(url, _seeded_rows)


@dataclass(frozen=True)
class DemoTemplate:
    """The demo county as loaded once: its keys file, and its database (a SQLite file, or the
    rows of every PostgreSQL table)."""

    keys_file: Path
    sqlite_file: Path | None = None
    rows: dict[str, list[dict[str, Any]]] | None = None


@pytest.fixture(scope="session")
def sqlite_demo(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> DemoTemplate:
    from hotline.demo.loader import load_demo

    data_dir = tmp_path_factory.mktemp("demo-sqlite")
    shutil.copy(sqlite_template, data_dir / "hotline.db")
    keys_file, _ = _run(load_demo(Settings(data_dir=data_dir)))
    return DemoTemplate(keys_file, sqlite_file=data_dir / "hotline.db")


@pytest.fixture(scope="session")
def postgres_demo(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> DemoTemplate:
    """Loaded into the emptied database between two tests, then copied row by row."""
    from hotline.demo.loader import load_demo

    data_dir = tmp_path_factory.mktemp("demo-postgresql")
    _run(_truncate(postgres_url))
    keys_file, _ = _run(load_demo(Settings(data_dir=data_dir, database={"url": postgres_url})))

    async def snapshot() -> dict[str, list[dict[str, Any]]]:
        engine = create_async_engine(postgres_url)
        async with engine.connect() as conn:
            rows = {}
            for table in metadata.sorted_tables:
                result = await conn.execute(table.select())
                rows[table.name] = [dict(r._mapping) for r in result]
        await engine.dispose()
        return rows

    rows = _run(snapshot())
    _run(_truncate(postgres_url))
    return DemoTemplate(keys_file, rows=rows)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    from hotline.demo.loader import DEMO_KEYS_FILE

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with_demo = "demo" in request.fixturenames
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        if with_demo:
            demo: DemoTemplate = request.getfixturevalue("sqlite_demo")
            assert demo.sqlite_file is not None
            template = demo.sqlite_file
            shutil.copy(demo.keys_file, data_dir / DEMO_KEYS_FILE)
        shutil.copy(template, data_dir / "hotline.db")
        yield Settings(data_dir=data_dir, sweeper={"enabled": False}, webhooks={"enabled": False})
        return
    url = request.getfixturevalue("postgres_url")
    if with_demo:
        demo = request.getfixturevalue("postgres_demo")
        assert demo.rows is not None
        shutil.copy(demo.keys_file, data_dir / DEMO_KEYS_FILE)
        _run(_refill(url, demo.rows))
    else:
        _run(_truncate(url))
    yield Settings(
        data_dir=data_dir,
        database={"url": url},
        sweeper={"enabled": False},
        webhooks={"enabled": False},
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@dataclass
class Keys:
    """Authorization headers per role, for one person each."""

    headers: dict[Role, dict[str, str]]
    ids: dict[Role, int]

    def __getitem__(self, role: Role) -> dict[str, str]:
        return self.headers[role]


async def mint(
    app: Any, role: Role, name: str, unit: str | None = None, staff_id: int | None = None
) -> tuple[dict[str, str], int]:
    async with unit_of_work(app.state.sessionmaker) as session:
        minted = await create_key(session, name=name, role=role, unit_code=unit, staff_id=staff_id)
    return {"Authorization": f"Bearer {minted.key}"}, minted.row.id


@pytest.fixture
async def keys(app: Any) -> Keys:
    headers: dict[Role, dict[str, str]] = {}
    ids: dict[Role, int] = {}
    for role in Role:
        headers[role], ids[role] = await mint(app, role, f"测试{role.value}")
    return Keys(headers, ids)


def ticket_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "complaint",
        "category": "utility.water",
        "content": "东湖小区3号楼停水两天，无人处理",
        "caller": {"name": "张三", "phone": "13812345678"},
        "location": {"address": "法库镇东湖村东湖小区3号楼"},
    }
    body.update(overrides)
    return body


@dataclass
class Demo:
    """The demo county loaded into the test's database, with every demo person's key."""

    people: list[dict[str, Any]]

    def headers(self, role: str, unit: str | None = None) -> dict[str, str]:
        person = self.person(role, unit)
        return {"Authorization": f"Bearer {person['key']}"}

    def person(self, role: str, unit: str | None = None) -> dict[str, Any]:
        return next(
            p for p in self.people if p["role"] == role and (unit is None or p["unit"] == unit)
        )


@pytest.fixture
async def demo(app: Any, settings: Settings) -> Demo:
    """The demo county, put in place by ``settings`` before the app started."""
    import json

    from hotline.demo.loader import DEMO_KEYS_FILE

    return Demo(json.loads((settings.data_dir / DEMO_KEYS_FILE).read_text()))


class Clock:
    """The app's clock (``app.state.clock``), set by hand for drills (DESIGN.md §6)."""

    def __init__(self, app: Any) -> None:
        from datetime import UTC, datetime

        self._clock = app.state.clock
        self._clock.set(datetime(2026, 6, 1, tzinfo=UTC))

    @property
    def now(self) -> Any:
        return self._clock.now()

    def set(self, iso: str) -> Any:
        return self._clock.set(iso)


@pytest.fixture
def clock(app: Any) -> Clock:
    return Clock(app)
