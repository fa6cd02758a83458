"""The `hotline` command, as an operator uses it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from hotline.cli import app

runner = CliRunner()


def _commands() -> list[list[str]]:
    """Every command of the CLI, groups walked down to their leaves (a new one is covered)."""
    import click
    import typer.main

    found: list[list[str]] = []

    def walk(command: click.Command, path: list[str]) -> None:
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, [*path, name])
        else:
            found.append(path)

    walk(typer.main.get_command(app), [])
    return sorted(found)


COMMANDS = _commands()


class TestHelp:
    def test_top_level_help_lists_every_command(self) -> None:
        r = runner.invoke(app, ["--help"])
        assert r.exit_code == 0
        for name in ("serve", "migrate", "demo", "keys", "openapi"):
            assert name in r.output

    @pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
    def test_every_command_has_help_text(self, command: list[str]) -> None:
        r = runner.invoke(app, [*command, "--help"])
        assert r.exit_code == 0
        assert "Usage" in r.output
        assert len(r.output.split("Usage", 1)[1].strip().splitlines()) > 2, r.output


@pytest.fixture(autouse=True)
def _restore_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CLI exports its settings for server worker processes; keep that out of other tests.
    monkeypatch.setenv("HOTLINE_DATA_DIR", "unused")
    monkeypatch.setenv("HOTLINE_DATABASE__URL", "")


class TestKeys:
    def test_create_prints_the_key_once_and_stores_its_hash(self, tmp_path: Path) -> None:
        r = runner.invoke(
            app,
            ["keys", "create", "--role", "agent", "--name", "话务员", "--data-dir", str(tmp_path)],
        )
        assert r.exit_code == 0, r.output
        key = r.stdout.strip().splitlines()[-1]
        assert key.startswith("hl_")
        assert key.encode() not in (tmp_path / "hotline.db").read_bytes()

    def test_unknown_role_is_refused(self, tmp_path: Path) -> None:
        r = runner.invoke(
            app, ["keys", "create", "--role", "mayor", "--name", "x", "--data-dir", str(tmp_path)]
        )
        assert r.exit_code == 2
        assert "Unknown role" in r.output

    def test_an_officer_key_belongs_to_a_unit_above_the_grid(self, tmp_path: Path) -> None:
        assert runner.invoke(app, ["demo", "--data-dir", str(tmp_path)]).exit_code == 0
        base = ["keys", "create", "--role", "officer", "--name", "东湖社区书记"]
        where = ["--data-dir", str(tmp_path)]
        r = runner.invoke(app, [*base, "--unit", "210124100002", *where])
        assert r.exit_code == 0, r.output
        assert r.stdout.strip().splitlines()[-1].startswith("hl_")
        r = runner.invoke(app, [*base, "--unit", "210124100002001", *where])
        assert r.exit_code == 2
        assert "grid has workers" in r.output
        assert runner.invoke(app, [*base, *where]).exit_code == 2
        assert runner.invoke(app, [*base, "--unit", "nowhere", *where]).exit_code == 2
        listed = runner.invoke(app, ["keys", "list", *where]).stdout
        assert "officer" in listed and "东湖社区书记" in listed

    def test_qr_opens_the_field_page_signed_in_with_the_key_in_the_fragment(
        self, tmp_path: Path
    ) -> None:
        import io

        import qrcode

        where = ["--data-dir", str(tmp_path)]
        assert runner.invoke(app, ["demo", *where]).exit_code == 0
        worker = ["keys", "create", "--role", "worker", "--name", "陈建华"]
        worker += ["--unit", "210124100002001", "--staff-id", "4", "--qr", *where]
        r = runner.invoke(app, [*worker, "--url", "http://192.168.1.20:8000/"])
        assert r.exit_code == 0, r.output
        key = r.stdout.strip().splitlines()[-1]
        assert key.startswith("hl_")
        # The code printed is the code of the page's address with this key in the fragment.
        code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
        code.add_data(f"http://192.168.1.20:8000/m#key={key}")
        drawn = io.StringIO()
        code.print_ascii(out=drawn, invert=True)
        assert drawn.getvalue() in r.stdout
        assert "http://192.168.1.20:8000/m" in r.output and f"?key={key}" not in r.output
        # Without --url, the address `hotline serve` listens on by default.
        default = runner.invoke(app, worker)
        assert default.exit_code == 0 and "http://127.0.0.1:8000/m" in default.output
        refused = runner.invoke(app, [*worker, "--url", "ftp://example.org"])
        assert refused.exit_code == 2 and "--url" in refused.output
        agent = ["keys", "create", "--role", "agent", "--name", "x", "--qr", *where]
        assert runner.invoke(app, agent).exit_code == 2


class TestOpenapi:
    def test_check_passes_on_the_committed_file(self) -> None:
        root = Path(__file__).resolve().parents[1]
        r = runner.invoke(app, ["openapi", "--check", "--output", str(root / "openapi.yaml")])
        assert r.exit_code == 0, r.output

    def test_check_fails_on_drift(self, tmp_path: Path) -> None:
        stale = tmp_path / "openapi.yaml"
        stale.write_text("openapi: 3.1.0\n")
        r = runner.invoke(app, ["openapi", "--check", "--output", str(stale)])
        assert r.exit_code == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
class TestServeDemo:
    def test_fresh_data_dir_serves_demo_and_an_agent_key_creates_a_ticket(
        self, tmp_path: Path
    ) -> None:
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hotline",
                "serve",
                "--demo",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path / "data"),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            people = json.loads((tmp_path / "data" / "demo-keys.json").read_text())
            assert {p["role"] for p in people} >= {"agent", "dispatcher", "viewer", "admin"}
            assert all(set(p) >= {"name", "role", "unit", "key"} for p in people)
            agent = next(p["key"] for p in people if p["role"] == "agent")
            headers = {"Authorization": f"Bearer {agent}"}
            r = httpx.post(
                f"{base}/v1/tickets",
                headers=headers,
                json={"kind": "help", "category": "utility.heating", "content": "暖气不热"},
            )
            assert r.status_code == 201, r.text
            got = httpx.get(f"{base}/v1/tickets/{r.json()['id']}", headers=headers)
            assert got.json()["content"] == "暖气不热"
        finally:
            proc.terminate()
            out, _ = proc.communicate(timeout=20)
        assert "demo-keys.json" in out

    def test_demo_keys_are_new_for_every_fresh_data_dir(self, tmp_path: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        keys = []
        for name in ("a", "b"):
            subprocess.run(
                [sys.executable, "-m", "hotline", "demo", "--data-dir", str(tmp_path / name)],
                env=env,
                check=True,
                capture_output=True,
            )
            keys.append(json.loads((tmp_path / name / "demo-keys.json").read_text())[0]["key"])
        again = subprocess.run(
            [sys.executable, "-m", "hotline", "demo", "--data-dir", str(tmp_path / "a")],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        assert "already loaded" in again.stderr
        assert keys[0] != keys[1]
        assert json.loads((tmp_path / "a" / "demo-keys.json").read_text())[0]["key"] == keys[0]


class TestCalendarAndSweep:
    def test_a_year_set_in_the_database_is_known(self, tmp_path: Path) -> None:
        import asyncio

        from hotline.config import Settings
        from hotline.db import migrate
        from hotline.db.engine import create_engine, create_sessionmaker
        from hotline.db.session import unit_of_work
        from hotline.kit.clock import utcnow
        from hotline.sla.models import CalendarYear

        settings = Settings(data_dir=tmp_path)
        migrate.upgrade(settings.database_url)

        async def put() -> None:
            engine = create_engine(settings)
            async with unit_of_work(create_sessionmaker(engine)) as session:
                session.add(
                    CalendarYear(
                        year=2031,
                        holidays=["2031-01-01", "2031-01-02"],
                        workdays=["2031-01-05"],
                        revision=1,
                        updated_at=utcnow(),
                    )
                )
            await engine.dispose()

        asyncio.run(put())
        r = runner.invoke(app, ["calendar", "show", "2031", "--data-dir", str(tmp_path)])
        assert r.exit_code == 0, r.output
        assert "(database)" in r.output and "2031-01-05" in r.output

    def test_calendar_show_lists_holidays_and_make_up_days(self, tmp_path: Path) -> None:
        r = runner.invoke(app, ["calendar", "show", "2026", "--data-dir", str(tmp_path)])
        assert r.exit_code == 0, r.output
        assert "2026-10-01" in r.output and "holiday" in r.output
        assert "2026-10-10" in r.output and "makeup-workday" in r.output

    def test_calendar_show_fails_for_an_unknown_year(self, tmp_path: Path) -> None:
        r = runner.invoke(app, ["calendar", "show", "2031", "--data-dir", str(tmp_path)])
        assert r.exit_code == 1
        assert "not in the official calendar" in r.output

    def test_a_calendar_file_adds_a_year(self, tmp_path: Path) -> None:
        (tmp_path / "calendar.json").write_text(
            '{"years": {"2031": {"holidays": ["2031-01-01"], "workdays": ["2031-01-04"]}}}'
        )
        r = runner.invoke(app, ["calendar", "show", "2031", "--data-dir", str(tmp_path)])
        assert "not in the official calendar" not in r.output
        assert "2031-01-04" in r.output

    def test_sweep_needs_an_offset_on_now(self, tmp_path: Path) -> None:
        r = runner.invoke(app, ["sweep", "--now", "2026-10-01T09:00", "--data-dir", str(tmp_path)])
        assert r.exit_code == 2

    def test_sweep_runs_a_pass(self, tmp_path: Path) -> None:
        r = runner.invoke(
            app, ["sweep", "--now", "2026-10-01T09:00:00+08:00", "--data-dir", str(tmp_path)]
        )
        assert r.exit_code == 0, r.output
        assert "0 overdue" in r.output


@pytest.mark.slow
def test_demo_into_a_database_that_has_it_mints_new_keys(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_DATABASE__URL"] = f"sqlite:///{tmp_path / 'shared.db'}"
    first = tmp_path / "one"
    second = tmp_path / "two"
    for data_dir in (first, second):
        subprocess.run(
            [sys.executable, "-m", "hotline", "demo", "--data-dir", str(data_dir)],
            env=env,
            check=True,
            capture_output=True,
        )
    one = json.loads((first / "demo-keys.json").read_text())
    two = json.loads((second / "demo-keys.json").read_text())
    assert [(p["name"], p["role"]) for p in one] == [(p["name"], p["role"]) for p in two]
    assert one[0]["key"] != two[0]["key"]
