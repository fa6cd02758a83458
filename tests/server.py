"""Running the real server (`hotline serve`) in a subprocess, for tests across processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        """What the server printed so far (stdout and stderr)."""
        return "".join(self.lines)


@contextmanager
def serve(
    settings: Settings, *args: str, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """Start `hotline serve` on the test's database and wait until /readyz says ready.

    ``env`` adds settings (``HOTLINE_SWEEPER__INTERVAL`` …). The output is read all along by a
    thread: a server logging into a full pipe would block.
    """
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    environ["HOTLINE_DATA_DIR"] = str(settings.data_dir)
    if settings.database.url:
        environ["HOTLINE_DATABASE__URL"] = settings.database.url
    if settings.webhooks.allow_private_targets:  # the tests' receivers listen on 127.0.0.1
        environ["HOTLINE_WEBHOOKS__ALLOW_PRIVATE_TARGETS"] = "true"
    environ.update(env or {})
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
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: what it starts is stopped with it
    )
    server = Server(f"http://127.0.0.1:{port}", process, settings.data_dir)
    stdout = process.stdout
    assert stdout is not None

    def read() -> None:
        for line in stdout:
            server.lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                reader.join(5)
                raise RuntimeError(f"server exited: {server.output()}")
            try:
                if httpx.get(f"{server.base}/readyz", timeout=2).status_code == 200:
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
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        # Whatever of the group outlived the server (a test may SIGKILL it) goes too: a child
        # still holding the output pipe would keep the reader, and this, waiting for ever.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        reader.join(10)
        if not reader.is_alive():
            stdout.close()


@contextmanager
def together(*servers: AbstractContextManager[Server]) -> Iterator[list[Server]]:
    """Enter several ``serve(...)`` at once, so their start-ups overlap; leave them all."""
    with ExitStack() as stack:
        with ThreadPoolExecutor(len(servers)) as pool:
            futures = [pool.submit(s.__enter__) for s in servers]
        for server, future in zip(servers, futures, strict=True):
            if future.exception() is None:
                stack.push(server.__exit__)
        yield [f.result() for f in futures]


@dataclass(frozen=True)
class Received:
    msg_id: str
    type: str
    ticket_id: int | None
    at: float  # time.monotonic()


class Receiver:
    """A webhook endpoint on a local port that answers 204 and records every delivery.

    Use as a context manager; ``url`` is what to subscribe.
    """

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body: dict[str, Any] = json.loads(
                    self.rfile.read(int(self.headers["Content-Length"]))
                )
                ticket = body.get("data", {}).get("ticket") or {}
                with receiver._lock:
                    receiver.received.append(
                        Received(
                            self.headers["webhook-id"],
                            body["type"],
                            ticket.get("id"),
                            time.monotonic(),
                        )
                    )
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            # A deliverer posts a batch of 50 at once: a backlog of 5 would drop connections.
            request_queue_size = 256

        self._server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)
