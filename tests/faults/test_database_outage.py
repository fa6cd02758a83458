"""PostgreSQL stopped for a few seconds under load: requests fail fast with a 503 problem,
/readyz says why, and the service recovers by itself when the database returns.

The test runs its own throwaway PostgreSQL cluster (initdb on a free port, as the postgres
user), so stopping it disturbs nothing else.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hotline.config import Settings
from tests.server import free_port, serve

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
    # -l: the server must not inherit our pipes, or waiting for pg_ctl never ends.
    start = [
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
    _as_postgres(*start)
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


@pytest.mark.slow
def test_an_outage_is_503_fast_and_the_service_recovers(
    cluster: tuple[str, Path, int], tmp_path: Path, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("runs once, on its own PostgreSQL cluster")
    url, data, port = cluster
    settings = Settings(data_dir=tmp_path / "data", database={"url": url})
    with serve(settings, "--demo") as server:
        agent = next(
            p["key"]
            for p in json.loads((server.data_dir / "demo-keys.json").read_text())
            if p["role"] == "agent"
        )
        http = httpx.Client(
            base_url=server.base, headers={"Authorization": f"Bearer {agent}"}, timeout=30
        )
        assert http.post("/v1/tickets", json=BODY).status_code == 201
        _as_postgres(str(BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop")
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
        time.sleep(3)
        _as_postgres(
            str(BIN / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(data / "server.log"),
            "-o",
            f"-p {port} -k {data}",
            "-w",
            "start",
        )
        deadline = time.monotonic() + 30
        while http.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the service did not recover"
            time.sleep(0.5)
        assert http.post("/v1/tickets", json=BODY).status_code == 201
        http.close()
