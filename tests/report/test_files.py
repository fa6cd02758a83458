"""The report as an Excel file: read back with openpyxl and every cell compared with the JSON;
the same file from ``hotline report``; and LibreOffice opens it."""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from hotline.cli import app as cli
from hotline.config import Settings
from hotline.report.excel import XLSX, width
from tests.conftest import Clock, Demo
from tests.report.history import november

URL = "/v1/reports/month?start=2026-11-01"
SHEETS = ["单位考核", "满意度未达标", "热点", "类别排行", "考核标准"]


@pytest.fixture
async def month(client: httpx.AsyncClient, demo: Demo, clock: Clock) -> dict[str, Any]:
    await november(client, demo, clock)
    r = await client.post("/v1/clusters/detect", headers=demo.headers("dispatcher"))
    assert r.status_code == 200
    r = await client.get(URL, headers=demo.headers("viewer"))
    assert r.status_code == 200, r.text
    return dict(r.json())


def tables(report: dict[str, Any]) -> dict[str, tuple[list[str], list[list[Any]], list[str]]]:
    """Each sheet's headers, rows and column kinds, as the JSON says them."""
    columns = report["columns"]
    units = [
        [
            u["name"],
            u["kind_zh"] or None,
            *(u["figures"][c["key"]]["value"] for c in columns),
            u["grade"],
        ]
        for u in [*report["units"], report["total"]]
    ]
    g = report["grades"]
    return {
        "单位考核": (
            ["单位", "类型", *(c["header"] for c in columns), "等级"],
            units,
            ["text", "text", *(c["kind"] for c in columns), "text"],
        ),
        "满意度未达标": (
            ["单位", "类型", "满意率", "回访接通", "不满意数"],
            [
                [
                    b["name"],
                    b["kind_zh"],
                    b["satisfaction"]["value"],
                    b["satisfaction"]["denominator"],
                    b["unsatisfied"]["value"],
                ]
                for b in report["below_floor"]
            ],
            ["text", "text", "rate", "count", "count"],
        ),
        "热点": (
            [
                "编号",
                "分类",
                "地点",
                "工单数",
                "首次出现",
                "最近出现",
                "状态",
                "牵头单位",
                "关键词",
            ],
            [
                [
                    h["id"],
                    h["category_name"],
                    h["place_name"],
                    h["size"],
                    h["first_seen"],
                    h["last_seen"],
                    h["status_zh"],
                    h["lead_unit_name"],
                    "、".join(h["keywords"]) or None,
                ]
                for h in report["hotspots"]
            ],
            ["count", "text", "text", "count", "text", "text", "text", "text", "text"],
        ),
        "类别排行": (
            ["排名", "分类", "受理量", "占比", "办结率", "满意率"],
            [
                [
                    c["rank"],
                    c["name"],
                    c["received"]["value"],
                    c["share"]["value"],
                    c["completion"]["value"],
                    c["satisfaction"]["value"],
                ]
                for c in report["categories"]
            ],
            ["count", "text", "count", "rate", "rate", "rate"],
        ),
        "考核标准": (
            ["等级", "按时办结率不低于", "满意率不低于"],
            [
                ["A", g["a"]["on_time_completion"], g["a"]["satisfaction"]],
                ["B", g["b"]["on_time_completion"], g["b"]["satisfaction"]],
                ["C", g["c"]["on_time_completion"], g["c"]["satisfaction"]],
                ["D（其余）", None, None],
                ["满意度底线", None, g["satisfaction_floor"]],
            ],
            ["text", "rate", "rate"],
        ),
    }


def assert_same_as_json(body: bytes, report: dict[str, Any]) -> None:
    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames == SHEETS
    for name, (headers, rows, kinds) in tables(report).items():
        sheet = book[name]
        assert str(sheet["A1"].value).startswith(report["title"]), name
        assert [c.value for c in sheet[2]] == headers, name
        assert sheet.freeze_panes in ("A3", "B3"), name
        got = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
        assert got == rows, name
        for row in sheet.iter_rows(min_row=3):
            for cell, kind in zip(row, kinds, strict=True):
                if kind == "rate":
                    assert cell.number_format == "0.0%", (name, cell.coordinate)
        for col, header in enumerate(headers):
            letter = sheet.cell(2, col + 1).column_letter
            assert sheet.column_dimensions[letter].width >= width(header), (name, header)


class TestExcel:
    async def test_every_cell_is_the_json(
        self, client: httpx.AsyncClient, demo: Demo, month: dict[str, Any]
    ) -> None:
        assert month["hotspots"] and month["below_floor"] and month["categories"]
        r = await client.get(URL + "&format=xlsx", headers=demo.headers("viewer"))
        assert r.status_code == 200
        assert r.headers["content-type"] == XLSX
        disposition = r.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''%E9%80%9A%E6%8A%A5-2026-11.xlsx" in disposition
        assert_same_as_json(r.content, month)
        r = await client.get(URL, headers={**demo.headers("admin"), "Accept": XLSX})
        assert r.headers["content-type"] == XLSX
        assert_same_as_json(r.content, month)

    async def test_the_unit_names_stay_in_view_and_the_total_row_is_last(
        self, client: httpx.AsyncClient, demo: Demo, month: dict[str, Any]
    ) -> None:
        r = await client.get(URL + "&format=xlsx", headers=demo.headers("viewer"))
        sheet = load_workbook(io.BytesIO(r.content))["单位考核"]
        assert sheet.freeze_panes == "B3"
        assert sheet.cell(sheet.max_row, 1).value == "合计"
        # The widest unit name fits: a CJK character is two columns.
        names = [u["name"] for u in month["units"]]
        assert sheet.column_dimensions["A"].width >= max(width(n) for n in names)

    async def test_a_week_without_tickets_still_has_every_sheet(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        r = await client.get(
            "/v1/reports/week?start=2026-11-02&format=xlsx", headers=demo.headers("viewer")
        )
        assert "%E9%80%9A%E6%8A%A5-2026-W45.xlsx" in r.headers["content-disposition"]
        r2 = await client.get("/v1/reports/week?start=2026-11-02", headers=demo.headers("viewer"))
        assert_same_as_json(r.content, r2.json())


def _cli_args(settings: Settings) -> list[str]:
    args = ["--data-dir", str(settings.data_dir)]
    if settings.database.url and not settings.database.url.startswith("sqlite"):
        args += ["--database-url", settings.database.url]
    return args


class TestCommand:
    async def test_hotline_report_writes_the_same_file(
        self,
        client: httpx.AsyncClient,
        demo: Demo,
        month: dict[str, Any],
        settings: Settings,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # The command exports its settings for worker processes; keep that out of other tests.
        monkeypatch.setenv("HOTLINE_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("HOTLINE_DATABASE__URL", settings.database.url or "")
        out = tmp_path / "通报-2026-11.xlsx"
        args = ["report", "--period", "month", "--start", "2026-11-01", "--output", str(out)]
        done = await asyncio.to_thread(CliRunner().invoke, cli, [*args, *_cli_args(settings)])
        assert done.exit_code == 0, done.output
        assert_same_as_json(out.read_bytes(), month)
        r = await client.get(URL + "&format=xlsx", headers=demo.headers("viewer"))
        served = load_workbook(io.BytesIO(r.content))
        written = load_workbook(out)
        for name in SHEETS:
            assert [[c.value for c in row] for row in served[name].iter_rows()] == [
                [c.value for c in row] for row in written[name].iter_rows()
            ]
        csv_out = tmp_path / "units.csv"
        args = ["report", "--period", "month", "--start", "2026-11-01", "-o", str(csv_out)]
        done = await asyncio.to_thread(CliRunner().invoke, cli, [*args, *_cli_args(settings)])
        assert done.exit_code == 0, done.output
        r = await client.get(URL + "&format=csv", headers=demo.headers("viewer"))
        assert csv_out.read_bytes() == r.content

    def test_a_misaligned_start_or_unknown_format_exits_2(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HOTLINE_DATA_DIR", "unused")
        monkeypatch.setenv("HOTLINE_DATABASE__URL", "")
        base = ["report", "--data-dir", str(tmp_path)]
        done = CliRunner().invoke(
            cli, [*base, "--period", "month", "--start", "2026-11-02", "-o", "x.xlsx"]
        )
        assert done.exit_code == 2 and ("1日" in done.output or "1st" in done.output)
        done = CliRunner().invoke(
            cli, [*base, "--period", "month", "--start", "2026-11-01", "-o", "x.pdf"]
        )
        assert done.exit_code == 2 and "--format" in done.output
        done = CliRunner().invoke(cli, ["report", "--help"])
        assert done.exit_code == 0 and "--period" in done.output


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice is not installed")
async def test_libreoffice_opens_the_file(
    client: httpx.AsyncClient, demo: Demo, month: dict[str, Any], tmp_path: Path
) -> None:
    r = await client.get(URL + "&format=xlsx", headers=demo.headers("viewer"))
    source = tmp_path / "report.xlsx"
    source.write_bytes(r.content)
    done = await asyncio.to_thread(
        subprocess.run,
        [
            "libreoffice",
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    pdf = (tmp_path / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
