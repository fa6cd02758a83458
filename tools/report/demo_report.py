"""Make docs/report.png: a month of tickets in the demo county, its report, the first sheet as
LibreOffice renders it.

Usage: .venv/bin/python tools/report/demo_report.py [--keep DIR]

Loads the demo county into a fresh SQLite data directory, works November 2026 through the API
(signs, replies, callbacks, a return asked, answers on the phone, a hot spot), writes the month's
report with `hotline report`, converts it with `libreoffice --headless --convert-to pdf` and the
first page with `pdftoppm -png -r 80 -singlefile` (Debian's libreoffice and poppler-utils), its
margins cut away (with Pillow, when installed).
"""

# ruff: noqa: S603, S607 - fixed commands: our own CLI, libreoffice, pdftoppm
from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
PICTURE = ROOT / "docs" / "report.png"
# (address, category, outcomes): per ticket "ok" (signed and replied on time, satisfied),
# "basic" (on time, basically satisfied), "late" (replied late, satisfied), "unsat" (on time,
# unsatisfied), "open" (signed, not replied), "return" (a return asked and refused, then ok).
PLAN: list[tuple[str, str, list[str]]] = [
    ("法库镇东湖村东湖小区3号楼", "urban.road", ["ok", "ok", "ok", "basic"]),
    ("北关新华小区", "environment.sanitation", ["ok", "ok", "ok", "ok"]),
    ("大孤家子站前小区", "environment.noise", ["ok", "ok", "late", "ok", "unsat"]),
    ("三面船镇河东村河东屯", "urban.road", ["ok", "late", "unsat", "return"]),
    ("秀水河子镇红旗村红旗屯", "urban.drainage", ["ok", "basic", "open"]),
    ("叶茂台镇西山村西山屯", "urban.lighting", ["ok", "late", "late", "ok"]),
    ("依牛堡子镇朝阳村朝阳屯", "urban.road", ["ok", "ok", "ok"]),
    ("法库镇南关小区", "utility.water", ["ok", "ok", "unsat", "unsat"]),
    ("北关新华小区", "utility.power", ["ok", "ok", "ok"]),
    ("南关小区", "market.food", ["ok", "late", "ok"]),
    ("大孤家子站前小区", "environment.pollution", ["basic", "ok"]),
]
CALLBACK = {
    "ok": {"reached": True, "resolution": "resolved", "satisfaction": "satisfied"},
    "basic": {"reached": True, "resolution": "resolved", "satisfaction": "basic"},
    "unsat": {"reached": True, "resolution": "unresolved", "satisfaction": "unsatisfied"},
}


class County:
    def __init__(self, client: httpx.AsyncClient, app: Any, people: list[dict[str, Any]]) -> None:
        self.client, self.app, self.people = client, app, people

    def key(self, role: str, unit: str | None = None) -> dict[str, str]:
        person = next(
            p for p in self.people if p["role"] == role and (unit is None or p["unit"] == unit)
        )
        return {"Authorization": f"Bearer {person['key']}"}

    async def at(
        self,
        when: str,
        method: str,
        path: str,
        role: str,
        unit: str | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        self.app.state.clock.set(when)
        r = await self.client.request(
            method, path, json=body if body is not None else {}, headers=self.key(role, unit)
        )
        if r.status_code not in (200, 201):
            raise RuntimeError(f"{method} {path} at {when}: {r.status_code} {r.text}")
        return dict(r.json())

    async def ticket(self, day: int, n: int, address: str, category: str, outcome: str) -> None:
        t0 = f"2026-11-{day:02d}T09:{n:02d}:00+08:00"
        made = await self.at(
            t0,
            "POST",
            "/v1/tickets",
            "agent",
            body={
                "kind": "complaint",
                "category": category,
                "content": f"{address}附近问题反映，请尽快处理（{n}）",
                "caller": {"name": "市民", "phone": f"1380000{day:02d}{n:02d}"},
                "location": {"address": address},
            },
        )
        unit = made["route"]["unit_code"]
        if unit is None:
            print(f"  {address} {category}: not routed, left in triage", file=sys.stderr)
            return
        kind = "member" if unit.startswith("210124-D-") else "worker"
        path = f"/v1/tickets/{made['id']}"
        if outcome == "return":
            await self.at(
                f"2026-11-{day:02d}T09:{n + 5:02d}:00+08:00",
                "POST",
                f"{path}/return",
                kind,
                unit,
                {"reason_code": "not_our_area", "reason": "不属本网格"},
            )
            await self.at(
                f"2026-11-{day:02d}T10:{n:02d}:00+08:00",
                "POST",
                f"{path}/return-decision",
                "dispatcher",
                body={"approve": False, "note": "属本网格"},
            )
        await self.at(
            f"2026-11-{day:02d}T09:{n + 10:02d}:00+08:00", "POST", f"{path}/sign", kind, unit
        )
        if outcome == "open":
            return
        replied = day + (12 if outcome == "late" else 1)
        await self.at(
            f"2026-11-{replied:02d}T15:00:00+08:00",
            "POST",
            f"{path}/reply",
            kind,
            unit,
            {"text": "已处理完毕"},
        )
        callback = CALLBACK.get(outcome, CALLBACK["ok"])
        await self.at(
            f"2026-11-{replied + 1:02d}T10:00:00+08:00",
            "POST",
            f"{path}/callback",
            "agent",
            body=callback,
        )


async def month(data_dir: Path) -> None:
    from hotline.app import create_app
    from hotline.config import Settings
    from hotline.demo.loader import DEMO_KEYS_FILE, load_demo

    settings = Settings(data_dir=data_dir, sweeper={"enabled": False}, webhooks={"enabled": False})
    await load_demo(settings)
    people = json.loads((data_dir / DEMO_KEYS_FILE).read_text())
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
            county = County(client, app, people)
            weekdays = [2, 3, 4, 5, 6, 9, 10, 11, 12, 13]
            n = 0
            for address, category, outcomes in PLAN:
                for outcome in outcomes:
                    await county.ticket(
                        weekdays[n % len(weekdays)], n % 40, address, category, outcome
                    )
                    n += 1
            for k, day in enumerate((16, 17)):
                made = await county.at(
                    f"2026-11-{day}T11:0{k}:00+08:00",
                    "POST",
                    "/v1/tickets",
                    "agent",
                    body={
                        "kind": "consult",
                        "category": "urban.road",
                        "content": "咨询办事时间",
                        "caller": {"name": "市民", "phone": f"139000001{k}0"},
                        "location": {"address": "东湖小区"},
                    },
                )
                await county.at(
                    f"2026-11-{day}T11:1{k}:00+08:00",
                    "POST",
                    f"/v1/tickets/{made['id']}/answer",
                    "agent",
                    body={"text": "已电话答复"},
                )
            for k in range(3):  # the same road again and again: a hot spot
                await county.at(
                    f"2026-11-2{k}T10:00:00+08:00",
                    "POST",
                    "/v1/tickets",
                    "agent",
                    body={
                        "kind": "complaint",
                        "category": "urban.road",
                        "content": "东湖公园北门路面塌陷，车辆无法通行",
                        "caller": {"name": "市民", "phone": f"139000002{k}0"},
                        "location": {"address": "东湖公园北侧"},
                    },
                )
            await county.at(
                "2026-11-30T18:00:00+08:00", "POST", "/v1/clusters/detect", "dispatcher"
            )


def _crop(path: Path, margin: int = 12) -> None:
    """Cut the page's empty margins away (with Pillow, when it is installed)."""
    try:
        from PIL import Image, ImageChops
    except ImportError:
        return
    page = Image.open(path).convert("RGB")
    box = ImageChops.difference(page, Image.new("RGB", page.size, "white")).getbbox()
    if box:
        left, top, right, bottom = box
        page.crop(
            (
                max(left - margin, 0),
                max(top - margin, 0),
                min(right + margin, page.width),
                min(bottom + margin, page.height),
            )
        ).save(path, optimize=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="Keep the data directory and files here.")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="hotline-report-"))
    data_dir = work / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(ROOT / ".venv/bin/hotline"), "migrate", "--data-dir", str(data_dir)], check=True
    )
    asyncio.run(month(data_dir))
    xlsx = work / "通报-2026-11.xlsx"
    subprocess.run(
        [
            str(ROOT / ".venv/bin/hotline"),
            "report",
            "--period",
            "month",
            "--start",
            "2026-11-01",
            "--output",
            str(xlsx),
            "--data-dir",
            str(data_dir),
        ],
        check=True,
    )
    subprocess.run(
        [
            "libreoffice",
            f"-env:UserInstallation=file://{work}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(work),
            str(xlsx),
        ],
        check=True,
        capture_output=True,
    )
    pdf = xlsx.with_suffix(".pdf")
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "80",
            "-singlefile",
            "-f",
            "1",
            "-l",
            "1",
            str(pdf),
            str(work / "report"),
        ],
        check=True,
    )
    shutil.copy(work / "report.png", PICTURE)
    _crop(PICTURE)
    print(f"wrote {PICTURE} (from {xlsx})")
    if not args.keep:
        shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
