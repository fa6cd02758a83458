"""The dashboard end to end: `hotline serve --demo`, a few tickets through the API, then the page
in headless Chromium (check.mjs, playwright-core driving Debian's chromium) must show the same
figures as the JSON. It saves docs/dashboard.png (desktop) and a phone-sized screenshot.

Skipped where chromium, node or tests/dashboard/node_modules/playwright-core is missing, except
under CI=true, where that is a failure. Install: `apt-get install -y chromium fonts-noto-cjk` and
`npm ci --prefix tests/dashboard`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline.config import Settings
from tests.server import serve

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCREENSHOT = ROOT / "docs" / "dashboard.png"
CALLER = {"name": "欧阳秀兰", "phone": "13812345678"}
ROAD = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "路面塌陷",
    "caller": CALLER,
    "location": {"address": "东湖公园北侧"},
}
# Elsewhere in the county, so that the map has more than one coloured grid.
ELSEWHERE = [
    ("environment.sanitation", "北关社区新华小区垃圾无人清运", "北关新华小区"),
    ("urban.drainage", "南关小区雨后积水", "南关小区"),
    ("environment.noise", "站前小区夜间施工噪声", "大孤家子站前小区"),
    ("rural.agriculture", "灌溉渠堵塞", "八家子东屯"),
    ("utility.water", "停水两天", "叶茂台屯"),
    ("urban.road", "路面坑洼", "秀水河子中心街"),
]
# Three alike in one village: a hot spot once the detector runs.
LIGHTS = "东湖花园小区路灯不亮，晚上出行不便"
SATISFIED = {"reached": True, "resolution": "resolved", "satisfaction": "satisfied"}
RATES = ("completion", "response", "resolution", "satisfaction")
COUNTS = (
    "received",
    "dispatched",
    "answered_directly",
    "closed",
    "backlog",
    "overdue_now",
    "merged",
    "staged",
    "terminated",
)


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
                "playwright-core (npm ci --prefix tests/dashboard)",
                (HERE / "node_modules" / "playwright-core").is_dir(),
            ),
        )
        if not ok
    ]
    if missing:
        message = "dashboard browser test needs " + ", ".join(missing)
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

    def call(self, method: str, path: str, role: str, unit: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.key(role, unit)}"}
        r = self.http.request(method, path, headers=headers, **kw)
        assert r.status_code in (200, 201), (path, r.status_code, r.text)
        return r.json()

    def ticket(self, **fields: Any) -> dict[str, Any]:
        return dict(self.call("POST", "/v1/tickets", "agent", json={**ROAD, **fields}))

    def act(self, ticket: dict[str, Any], action: str, role: str, body: dict[str, Any]) -> None:
        unit = ticket["route"]["unit_code"] if role == "worker" else None
        self.call("POST", f"/v1/tickets/{ticket['id']}/{action}", role, unit, json=body)


def seed(api: Api) -> None:
    """Some of each: closed after a satisfied callback, answered directly, signed, waiting, a
    merged repeat, a staged answer, a termination."""
    done = api.ticket()
    api.act(done, "sign", "worker", {})
    api.act(done, "reply", "worker", {"text": "已修复"})
    api.act(done, "callback", "agent", SATISFIED)
    api.act(api.ticket(), "answer", "agent", {"text": "已答复"})
    api.act(api.ticket(), "sign", "worker", {})
    waiting = api.ticket()
    api.act(api.ticket(), "merge", "agent", {"into": waiting["id"]})
    staged = api.ticket()
    api.act(staged, "sign", "worker", {})
    later = {"plan": "列入维修计划", "next_check": "2099-01-01"}
    api.act(staged, "staged-answer", "worker", later)
    api.act(staged, "staged-answer-decision", "dispatcher", {"approve": True})
    ended = api.ticket()
    api.act(ended, "sign", "worker", {})
    api.act(ended, "terminate", "worker", {"reason_code": "unreachable", "reason": "联系不上"})
    api.act(ended, "terminate-decision", "dispatcher", {"approve": True})
    for category, content, address in ELSEWHERE:
        api.ticket(category=category, content=content, location={"address": address})
    for _ in range(3):
        api.ticket(category="urban.lighting", content=LIGHTS, location={"address": "东湖花园"})
    api.call("POST", "/v1/clusters/detect", "dispatcher")


def run_page(tools: dict[str, str], base: str, key: str, phone: Path) -> dict[str, Any]:
    config = {
        "base": base,
        "key": key,
        "chromium": tools["chromium"],
        "screenshot": str(SCREENSHOT),
        "phoneScreenshot": str(phone),
    }
    done = subprocess.run(
        [tools["node"], str(HERE / "check.mjs")],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        cwd=HERE,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    shown: dict[str, Any] = json.loads(done.stdout)
    assert "failure" not in shown, shown["failure"]
    return shown


def expect_rates(shown: dict[str, Any], summary: dict[str, Any]) -> None:
    for name in RATES:
        rate, page = summary["rates"][name], shown["rates"][name]
        assert page["numerator"] == str(rate["numerator"]), name
        assert page["denominator"] == str(rate["denominator"]), name
        if rate["value"] is None:
            assert (page["value"], page["shown"]) == ("", "—"), name
        else:
            assert float(page["value"]) == rate["value"], name
            assert abs(float(page["shown"].rstrip("%")) - rate["value"] * 100) <= 0.05, name


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"])  # the page reads the same JSON on either
def test_the_page_shows_the_figures_of_the_json(settings: Settings, tmp_path: Path) -> None:
    tools = browser_or_skip()
    with serve(settings, "--demo") as server:
        people = json.loads((server.data_dir / "demo-keys.json").read_text())
        api = Api(server.base, people)
        page = api.http.get("/dashboard")
        assert page.status_code == 200, "is the dashboard router included in hotline/api.py?"
        seed(api)
        viewer = api.key("viewer")
        phone = tmp_path / "dashboard-phone.png"
        shown = run_page(tools, server.base, viewer, phone)
        period = shown["period"]

        def read(path: str, **params: Any) -> Any:
            return api.call("GET", path, "viewer", params=params)

        summary = read("/v1/metrics/summary")
        assert {k: str(v) for k, v in summary["period"].items()} == period
        expect_rates(shown, summary)
        assert summary["rates"]["completion"]["numerator"] == 3
        assert [summary["counts"][n] for n in ("merged", "staged", "terminated")] == [1, 1, 1]
        assert summary["rates"]["satisfaction"]["value"] == 1.0
        for name in COUNTS:
            assert shown["counts"][name] == str(summary["counts"][name]), name
        assert shown["counts"]["clusters"] == str(summary["clusters"]["open"])

        grids = read("/v1/grids", limit=1000)["features"]
        by_grid = read("/v1/metrics/breakdown", by="grid", **period)["items"]
        assert shown["map"]["grids"] == len(grids) == 60
        assert shown["map"]["canvases"] >= 1
        assert shown["map"]["coloured"] == sum(1 for g in by_grid if g["counts"]["backlog"] > 0)
        assert shown["map"]["coloured"] >= 5

        townships = read("/v1/metrics/breakdown", by="township", **period)["items"]
        assert sorted(shown["table"]["keys"]) == sorted(t["key"] or "" for t in townships)
        received = shown["table"]["receivedAscending"]
        assert received == sorted(received) and sum(received) == summary["counts"]["received"]
        values = [float(v) for v in shown["table"]["completionDescending"] if v != ""]
        assert values == sorted(values, reverse=True)
        clusters = [c for c in read("/v1/clusters") if c["status"] != "closed"]
        assert shown["clusters"] == len(clusters) == summary["clusters"]["open"] >= 1

        assert shown["afterReload"] == shown["rates"]["completion"]
        assert shown["phone"] == {**shown["rates"]["completion"], "scrollWidth": 390}
        # The 下载通报 button: this month's report, as GET /v1/reports/month names it.
        month = period["from"][:7]
        assert shown["report"]["name"] == f"通报-{month}.xlsx"
        assert shown["report"]["zip"] == "PK" and shown["report"]["bytes"] > 5000
        assert shown["english"] == {
            "title": "12345 Hotline Dashboard",
            "completion": "Completion rate",
            "lang": "en",
        }

    # Never personal data: no caller, no staff name, no phone number, in either language.
    for text in (shown["textZh"], shown["textEn"]):
        for secret in (CALLER["name"], CALLER["phone"], *(p["name"] for p in people)):
            assert secret not in text
    assert all(url.startswith(server.base + "/") for url in shown["requests"]), shown["requests"]
    assert shown["errors"] == []
    assert SCREENSHOT.stat().st_size > 20_000 and phone.stat().st_size > 20_000
    print(f"\nscreenshots: {SCREENSHOT} {phone}")
