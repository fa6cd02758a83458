"""The field page as a grid worker uses it: `hotline serve --demo`, then /m in headless Chromium
at a phone's size (check.mjs, playwright-core driving Debian's chromium). The worker signs in,
sees a new ticket arrive without reloading, signs it, whistles for a department member (who
reports in from the member's phone, the position in the note), adds a note with a photo from a
file, replies with an `after` photo, queues a note with the network cut that arrives once it is
back, and loses the answer to another note, which the outbox sends again with the same
Idempotency-Key. The API must then hold each action exactly once. It saves docs/field-list.png
and docs/field-ticket.png.

Skipped where chromium, node or tests/field/node_modules/playwright-core is missing, except under
CI=true, where that is a failure. Install: `apt-get install -y chromium fonts-noto-cjk` and
`npm ci --prefix tests/field`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline.config import Settings
from tests.server import serve

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LIST_SHOT = ROOT / "docs" / "field-list.png"
TICKET_SHOT = ROOT / "docs" / "field-ticket.png"
# As check.mjs writes them.
NOTE = "已到现场，井口已临时围挡"
OFFLINE_NOTE = "断网时记录：已联系物业，明早施工"
LOST_NOTE = "回执丢失的进展：围挡已设置"
# A point inside 东湖社区第一网格 of the demo county: routed to that grid's worker.
SPOT = {"lat": 42.515, "lon": 123.41}
CALLER = {"name": "欧阳秀兰", "phone": "13812345678"}
MANHOLE = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "东湖路12号门前井盖缺失，夜里有人差点掉进去",
    "caller": CALLER,
    "location": {**SPOT, "address": "东湖路12号"},
}
# Waiting on the worker's list already: one that will be late (a one-minute sign-for policy).
EARLIER = [
    {
        "kind": "complaint",
        "category": "urban.drainage",
        "content": "东湖路北段雨水井堵塞，路面积水",
        "location": {"lat": 42.52, "lon": 123.405, "address": "东湖路北段"},
    },
    {
        "kind": "help",
        "category": "urban.lighting",
        "content": "东湖花园小区3号楼前路灯不亮",
        "caller": {"name": "王先生", "phone": "13912345678"},
        "location": {"lat": 42.51, "lon": 123.415, "address": "东湖花园3号楼"},
    },
]
# What the test does on purpose: cut the network, drop an answer, ask for more time twice.
EXPECTED_ERRORS = ("ERR_INTERNET_DISCONNECTED", "ERR_CONNECTION_RESET", "status of 409")


def browser_or_skip() -> dict[str, str]:
    """Where chromium and node are; skip (fail under CI=true) when either is missing."""
    chromium = os.environ.get("HOTLINE_CHROMIUM") or shutil.which("chromium") or ""
    node = shutil.which("node") or ""
    missing = [
        what
        for what, ok in (
            ("chromium (apt-get install chromium)", chromium),
            ("node", node),
            (
                "playwright-core (npm ci --prefix tests/field)",
                (HERE / "node_modules" / "playwright-core").is_dir(),
            ),
        )
        if not ok
    ]
    if missing:
        message = "field page browser test needs " + ", ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {message}")
        pytest.skip(message)
    return {"chromium": chromium, "node": node}


class Api:
    def __init__(self, base: str, people: list[dict[str, Any]]) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)
        self.people = people

    def key(self, role: str, unit: str | None = None) -> str:
        return str(
            next(
                p["key"]
                for p in self.people
                if p["role"] == role and (unit is None or p["unit"] == unit)
            )
        )

    def call(self, method: str, path: str, key: str, **kw: Any) -> Any:
        r = self.http.request(method, path, headers={"Authorization": f"Bearer {key}"}, **kw)
        assert r.status_code in (200, 201), (path, r.status_code, r.text)
        return r.json()


def run_page(tools: dict[str, str], config: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [tools["node"], str(HERE / "check.mjs")],
        input=json.dumps({**config, "chromium": tools["chromium"]}),
        capture_output=True,
        text=True,
        cwd=HERE,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shown: dict[str, Any] = json.loads(done.stdout)
    assert "failure" not in shown, (shown["failure"], shown["steps"])
    return shown


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])  # the page reads the same JSON on either
def test_a_workers_morning_on_the_phone(settings: Settings, tmp_path: Path) -> None:
    tools = browser_or_skip()
    with serve(settings, "--demo") as server:
        people = json.loads((server.data_dir / "demo-keys.json").read_text())
        api = Api(server.base, people)
        assert api.http.get("/m").status_code == 200, "is the field router in hotline/api.py?"
        agent, admin = api.key("agent"), api.key("admin")
        late = {"clock": "sign", "amount": 1, "unit": "minutes", "category": "urban.drainage"}
        api.call("POST", "/v1/policies", admin, json=late)
        earlier = [api.call("POST", "/v1/tickets", agent, json=body) for body in EARLIER]
        grid = earlier[0]["route"]["grid_code"]
        assert grid and all(t["route"]["grid_code"] == grid for t in earlier)
        worker = api.key("worker", grid)
        summoned = api.call("GET", f"/v1/grids/{grid}", worker)["properties"]["members"][0]
        member = next(p for p in people if p.get("staff_id") == summoned["id"])
        shown = run_page(
            tools,
            {
                "base": server.base,
                "workerKey": worker,
                "agentKey": agent,
                "memberKey": member["key"],
                "memberId": summoned["id"],
                "returnId": earlier[1]["id"],
                "ticket": MANHOLE,
                "listShot": str(LIST_SHOT),
                "ticketShot": str(TICKET_SHOT),
                "photoDir": str(tmp_path),
            },
        )
        ticket_id = shown["ticket"]["id"]
        ticket = api.call("GET", f"/v1/tickets/{ticket_id}", agent)
        events = api.call("GET", f"/v1/tickets/{ticket_id}/events", agent)
        photos = api.call("GET", f"/v1/tickets/{ticket_id}/attachments", agent)
        extensions = api.call("GET", "/v1/extensions", api.key("dispatcher"))["items"]
        returns = api.call("GET", "/v1/returns", api.key("dispatcher"))["items"]

    assert ticket["route"]["grid_code"] == grid and ticket["status"] == "replied"
    assert ticket["reply"]["text"] == "井盖已补装，路面恢复通行"
    # Nothing done twice, nothing lost: one sign-for, one reply, each note once.
    actions = Counter(e["action"] for e in events)
    assert actions["signed"] == 1 and actions["replied"] == 1
    # The requests wait for the centre: three more days for the manhole, the light returned.
    assert [(r["ticket"]["id"], r["days"]) for r in extensions] == [(ticket_id, 3)]
    assert [(r["ticket"]["id"], r["reason_code"]) for r in returns] == [
        (earlier[1]["id"], "not_our_area")
    ]
    # A second request for more time is refused for good: its Chinese detail is shown.
    (refusal,) = shown["refused"]
    assert refusal.startswith("申请延期未能办理：") and re.search(r"[\u4e00-\u9fff]", refusal[9:])
    assert actions["extension_requested"] == 1
    # The whistle summoned the member chosen, who reported in with the phone's position.
    (whistled,) = [e for e in events if e["action"] == "whistled"]
    assert whistled["details"]["members"] == [summoned["id"]]
    (reported,) = [e for e in events if e["action"] == "reported_in"]
    assert reported["actor"]["name"] == member["name"]
    where = "报到位置：北纬 42.515000，东经 123.410000"
    assert reported["details"]["note"].startswith(f"供水所已到场\n{where}")
    assert "吹哨待报到" in shown["member"]["card"]
    assert shown["member"]["actions"] == ["report-in", "note"]
    notes = Counter(e["details"]["text"] for e in events if e["action"] == "noted")
    assert notes == {NOTE: 1, OFFLINE_NOTE: 1, LOST_NOTE: 1}
    assert shown["noteRequests"] == 2 and shown["lostAnswerStatus"] == 200
    assert sorted(p["stage"] for p in photos) == ["after", "during"]
    assert sorted(shown["photos"]) == ["after", "during"]
    offline = {"badge": "待发送 1 条", "count": 1, "pendingInTimeline": 1, "afterReload": 1}
    assert shown["offline"] == offline

    # The list updated itself, fits the phone, counts down, and shows the late one in red.
    assert shown["serviceWorker"] == f"{server.base}/m"
    assert shown["manifest"]["status"] == 200
    assert shown["arrived"]["sameDocument"] is True
    assert shown["before"] == len(EARLIER) and shown["arrived"]["cards"] == len(EARLIER) + 1
    assert shown["arrived"]["due"].startswith("距签收截止")
    assert shown["arrived"]["scrollWidth"] == shown["list"]["scrollWidth"] == 390
    assert shown["list"]["smallestButton"] >= 48
    assert shown["list"]["overdue"] == 1 and shown["list"]["overdueText"].startswith("签收已超时")
    assert shown["list"]["overdueColour"] == "rgb(176, 0, 32)"
    assert "1 件已超时" in shown["list"]["status"]
    # Categories by their names, not their codes.
    assert all(not p.startswith(("urban.", "utility.")) for p in shown["list"]["places"])

    # The assignee of a ticket that is not confidential may call; the pin is on the map.
    assert shown["page"]["call"] == f"tel:{CALLER['phone']}"
    assert shown["page"]["pin"] == 1 and MANHOLE["content"] == shown["page"]["content"]
    assert {"signed", "noted", "attachment_added", "replied"} <= set(shown["timeline"])

    # The QR code's URL signs in and the key leaves the address bar; signing out forgets it.
    assert shown["qr"] == {"hash": "", "cards": shown["list"]["cards"], "keyAfterSignout": None}
    # Photos are shown from blob: URLs; every request over the network goes to this origin.
    network = [u for u in shown["requests"] if not u.startswith(("blob:", "data:"))]
    assert [u for u in network if not u.startswith(server.base + "/")] == []
    unexpected = [e for e in shown["errors"] if not any(x in e for x in EXPECTED_ERRORS)]
    assert unexpected == []
    assert sum("status of 409" in e for e in shown["errors"]) == 1  # the second extension
    assert LIST_SHOT.stat().st_size > 20_000 and TICKET_SHOT.stat().st_size > 20_000
    print(f"\nscreenshots: {LIST_SHOT} {TICKET_SHOT}")
