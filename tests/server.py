"""Running the real server (`hotline serve`) in a subprocess, for tests across processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from hotline.config import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base: str
    process: subprocess.Popen[str]
    data_dir: Path
    output: str = ""  # everything the server printed, once it has stopped


@contextmanager
def serve(settings: Settings, *args: str, workers: int = 1) -> Iterator[Server]:
    """Start `hotline serve` on the test's database and wait until /readyz says ready."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env["HOTLINE_DATA_DIR"] = str(settings.data_dir)
    if settings.database.url:
        env["HOTLINE_DATABASE__URL"] = settings.database.url
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hotline",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            *args,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    server = Server(base, process, settings.data_dir)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"server exited: {process.stdout.read() if process.stdout else ''}"
                )
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("server did not become ready")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            server.output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            server.output, _ = process.communicate()
