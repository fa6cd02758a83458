"""The real server's log and its real webhook deliveries carry no caller (DESIGN.md §8).

`hotline serve --demo` in a subprocess, a local HTTP receiver subscribed to every event type;
tickets posted over REST and Open311, read, acted on, refused; then everything the server printed
and everything it delivered is searched for the callers' names and phones.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from hotline.webhook.outbox import EVENT_TYPES
from tests.server import serve

GRID = "210124100002001"
CALLERS = [("欧阳日志", "13700009901"), ("司马日志", "13700009902"), ("Ann Log", "13700009903")]


def traces(text: str) -> list[str]:
    """Every caller's name, phone or masked phone found in ``text``."""
    found = []
    for name, phone in CALLERS:
        for token in (name, phone, f"{phone[:3]}****{phone[-4:]}", phone[3:]):
            if token in text:
                found.append(token)
    return found


@dataclass
class Receiver:
    url: str
    bodies: list[str]


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A local webhook endpoint that records the bodies it receives."""
    bodies: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["content-length"])).decode())
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{http.server_address[1]}/hook", bodies)
    finally:
        http.shutdown()
        http.server_close()


@pytest.mark.slow
def test_the_servers_log_and_deliveries_carry_no_caller(settings: Any) -> None:
    with receiver() as hook, serve(settings, "--demo") as server:
        people = json.loads((server.data_dir / "demo-keys.json").read_text())

        def key(role: str, unit: str | None = None) -> str:
            return next(
                p["key"]
                for p in people
                if p["role"] == role and (unit is None or p["unit"] == unit)
            )

        def auth(role: str, unit: str | None = None) -> dict[str, str]:
            return {"Authorization": f"Bearer {key(role, unit)}"}

        with httpx.Client(base_url=server.base, timeout=10) as http:
            r = http.post(
                "/v1/webhooks",
                json={"url": hook.url, "event_types": list(EVENT_TYPES)},
                headers=auth("admin"),
            )
            assert r.status_code == 201, r.text
            ids = []
            for (name, phone), extra in zip(CALLERS[:2], ({}, {"confidential": True}), strict=True):
                body = {
                    "kind": "complaint",
                    "category": "urban.road",
                    "content": "东湖公园北侧路面坑洼",
                    "caller": {"name": name, "phone": phone, **extra},
                    "location": {"address": "东湖公园北侧"},
                }
                r = http.post("/v1/tickets", json=body, headers=auth("agent"))
                assert r.status_code == 201, r.text
                ids.append(r.json()["id"])
            # Refused bodies that carry a caller: an empty content, an unknown field.
            for bad in ({"content": ""}, {"surprise": 1}):
                r = http.post("/v1/tickets", json={**body, **bad}, headers=auth("agent"))
                assert r.status_code == 422
            name, phone = CALLERS[2]
            r = http.post(
                "/open311/v2/requests.json",
                data={
                    "api_key": key("agent"),
                    "service_code": "urban.road",
                    "description": "路灯不亮",
                    "address_string": "东湖公园北侧",
                    "first_name": name.split()[0],
                    "last_name": name.split()[1],
                    "phone": phone,
                },
            )
            assert r.status_code == 200, r.text
            worker = auth("worker", GRID)
            for ticket_id in ids:
                assert (
                    http.get(f"/v1/tickets/{ticket_id}", headers=auth("agent")).status_code == 200
                )
                r = http.post(f"/v1/tickets/{ticket_id}/sign", json={}, headers=worker)
                assert r.status_code == 200, r.text
            assert http.get("/v1/tickets", headers=auth("dispatcher")).status_code == 200
            assert http.get("/open311/v2/requests.xml").status_code == 200
            # Open311 lets a reader send its key in the query: the access log must not keep it.
            secret = key("agent").split("_", 2)[2]
            for query in (
                f"api_key={key('agent')}",
                f"api%5Fkey={key('agent')}&jurisdiction_id=210124",
            ):
                assert http.get(f"/open311/v2/services.json?{query}").status_code == 200
            # The caller history takes the phone in the query: the access log must not keep it.
            for _name, phone in CALLERS:
                r = http.get("/v1/callers/history", params={"phone": phone}, headers=auth("agent"))
                assert r.status_code == 200, r.text
            deadline = time.monotonic() + 20
            while len(hook.bodies) < 6 and time.monotonic() < deadline:
                time.sleep(0.2)
    assert len(hook.bodies) >= 6, hook.bodies  # created and dispatched ×3, signed ×2
    assert [b for b in hook.bodies if traces(b)] == []
    assert "POST /v1/tickets" in server.output()  # the access log was there to search
    assert traces(server.output()) == []
    assert "GET /open311/v2/services.json?api_key=" in server.output()
    assert secret not in server.output()
    assert "GET /v1/callers/history?phone=***" in server.output()
