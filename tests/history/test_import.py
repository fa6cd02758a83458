"""History import (issue 16): JSON Lines, CSV and Excel; every bad row reported with its line
and field and nothing written; a seen external_id skipped and counted; imported tickets start
no clocks, send no webhooks, stay out of the metrics, and the `imported` filter finds them.
Both databases."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from hotline.cli import app as cli
from hotline.config import Settings
from hotline.db.session import unit_of_work
from hotline.history import service
from hotline.kit.clock import utcnow
from hotline.metrics import rollup
from hotline.ticket.models import Ticket, TicketEvent
from hotline.webhook import outbox
from hotline.webhook.models import Delivery, Webhook
from tests.conftest import Demo

GRID = "210124100002001"  # 东湖社区第一网格 (东湖社区 210124100002, 法库镇 210124100)
ROWS: list[dict[str, Any]] = [
    {
        "content": "路灯不亮三天了",
        "category": "urban.road",
        "created_at": "2024-03-05T09:30:00+08:00",
        "closed_at": "2024-03-07T10:00:00+08:00",
        "unit_code": GRID,
        "reply": "已更换灯泡",
        "external_id": "SY-2024-0001",
        "kind": "complaint",
    },
    # No offset: the county's time; no status: closed.
    {"content": "小区停水", "category": "utility.water", "created_at": "2024-03-06 08:00:00"},
]


def jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def as_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    names = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", encoding="utf-8-sig", newline="") as out:  # with a BOM, as Excel writes
        writer = csv.DictWriter(out, names)
        writer.writeheader()
        writer.writerows(rows)
    return path


def as_xlsx(path: Path, rows: list[dict[str, Any]]) -> Path:
    from openpyxl import Workbook

    names = list(dict.fromkeys(k for r in rows for k in r))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(names)
    for r in rows:
        sheet.append([r.get(n) for n in names])
    book.save(path)
    return path


async def run(app: Any, path: Path, **kw: Any) -> service.Imported:
    return await service.import_file(app.state.sessionmaker, path, now=utcnow(), **kw)


async def count(app: Any, model: Any = Ticket) -> int:
    async with unit_of_work(app.state.sessionmaker, read_only=True) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def imported(app: Any) -> list[Ticket]:
    async with unit_of_work(app.state.sessionmaker, read_only=True) as session:
        rows = await session.scalars(select(Ticket).where(Ticket.imported).order_by(Ticket.id))
        return list(rows)


class TestFormats:
    @pytest.mark.parametrize("write", [jsonl, as_csv, as_xlsx], ids=["jsonl", "csv", "xlsx"])
    async def test_each_format_makes_the_same_closed_history(
        self, app: Any, demo: Demo, tmp_path: Path, write: Any
    ) -> None:
        suffix = {"jsonl": ".jsonl", "as_csv": ".csv", "as_xlsx": ".xlsx"}[write.__name__]
        done = await run(app, write(tmp_path / f"history{suffix}", ROWS))
        assert (done.rows, done.written, done.skipped) == (2, 2, 0)
        first, second = await imported(app)
        assert first.number == f"20240305{first.id:06d}"
        assert first.status == "closed" and first.kind == "complaint"
        assert first.created_at.isoformat() == "2024-03-05T01:30:00+00:00"
        assert (
            first.closed_at is not None
            and first.closed_at.isoformat() == "2024-03-07T02:00:00+00:00"
        )
        assert first.unit_code == GRID and first.grid_code == GRID and first.area_code == GRID
        assert (first.village_code, first.township_code) == ("210124100002", "210124100")
        assert first.reply is not None and first.reply["text"] == "已更换灯泡"
        assert first.external_id == "SY-2024-0001"
        # Naive: the county's time (Asia/Shanghai); defaults: closed, other, normal.
        assert second.created_at.isoformat() == "2024-03-06T00:00:00+00:00"
        assert (second.status, second.kind, second.urgency) == ("closed", "other", "normal")
        assert second.closed_at is None and second.external_id is None


class TestChecks:
    async def test_every_bad_row_is_reported_with_line_and_field_and_nothing_written(
        self, app: Any, demo: Demo, tmp_path: Path
    ) -> None:
        before = await count(app)
        path = tmp_path / "bad.jsonl"
        path.write_text(
            "\n".join(
                [
                    json.dumps(ROWS[0], ensure_ascii=False),
                    json.dumps({"content": "x", "category": "no.such", "created_at": "yesterday"}),
                    "not json",
                    "",
                    json.dumps(
                        {
                            "content": "y",
                            "category": "urban.road",
                            "created_at": "2024-03-06T08:00:00+08:00",
                            "closed_at": "2024-03-01T08:00:00+08:00",
                            "unit_code": "nowhere",
                            "kind": "rant",
                            "colour": "red",
                        }
                    ),
                    json.dumps(
                        {"category": "urban.road", "status": "signed", "created_at": "2024-01-01"}
                    ),
                    json.dumps({**ROWS[0], "content": "again"}),
                    json.dumps(
                        {
                            "content": "z",
                            "category": "urban.road",
                            "created_at": "2099-01-01T00:00:00+08:00",
                        }
                    ),
                ]
            ),
            "utf-8",
        )
        with pytest.raises(service.Refused) as refused:
            await run(app, path)
        found = {(p.line, p.field) for p in refused.value.problems}
        assert found == {
            (2, "category"),
            (2, "created_at"),
            (3, "-"),
            (5, "closed_at"),
            (5, "unit_code"),
            (5, "kind"),
            (5, "colour"),
            (6, "content"),
            (6, "unit_code"),  # signed: someone owns it
            (7, "external_id"),  # the same as line 1's
            (8, "created_at"),  # in the future
        }
        assert await count(app) == before

    async def test_a_header_with_an_unknown_column_refuses_the_file(
        self, app: Any, demo: Demo, tmp_path: Path
    ) -> None:
        with pytest.raises(service.Refused) as refused:
            await run(app, as_csv(tmp_path / "h.csv", [{**ROWS[1], "Content": "typo"}]))
        (problem,) = refused.value.problems
        assert "Content" in problem.problem
        assert await imported(app) == []

    async def test_an_open_ticket_may_not_have_closed_at_and_a_status_must_be_known(
        self, app: Any, demo: Demo, tmp_path: Path
    ) -> None:
        rows = [
            {**ROWS[0], "status": "signed"},
            {**ROWS[1], "status": "arbitration"},
        ]
        with pytest.raises(service.Refused) as refused:
            await run(app, jsonl(tmp_path / "s.jsonl", rows))
        assert {(p.line, p.field) for p in refused.value.problems} == {
            (1, "closed_at"),
            (2, "status"),
        }


class TestRerun:
    async def test_a_seen_external_id_is_skipped_and_counted(
        self, app: Any, demo: Demo, tmp_path: Path
    ) -> None:
        path = jsonl(tmp_path / "h.jsonl", ROWS)
        await run(app, path)
        again = await run(app, path)
        # The row with an external id is skipped; the one without is written again.
        assert (again.rows, again.written, again.skipped) == (2, 1, 1)
        assert again.skipped_ids == ["SY-2024-0001"]
        assert len(await imported(app)) == 3

    async def test_batches_commit_one_by_one_and_a_rerun_finishes_the_file(
        self, app: Any, demo: Demo, tmp_path: Path
    ) -> None:
        rows = [{**ROWS[1], "external_id": f"B-{n}", "content": f"第{n}件"} for n in range(25)]
        path = jsonl(tmp_path / "h.jsonl", rows)
        seen: list[tuple[str, int, int]] = []
        done = await run(app, path, batch=10, progress=lambda *a: seen.append(a))
        assert done.written == 25
        assert [s for s in seen if s[0] == "writing"] == [
            ("writing", 10, 25),
            ("writing", 20, 25),
            ("writing", 25, 25),
        ]
        again = await run(app, path, batch=10)
        assert (again.written, again.skipped) == (0, 25)


class TestHistoryIsQuiet:
    async def test_no_clock_no_webhook_no_change_number_one_event(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, tmp_path: Path
    ) -> None:
        r = await client.post(
            "/v1/webhooks",
            json={"url": "http://127.0.0.1:9/hook", "event_types": outbox.EVENT_TYPES},
            headers=demo.headers("admin"),
        )
        assert r.status_code == 201, r.text
        assert await count(app, Webhook) == 1
        await run(
            app,
            jsonl(
                tmp_path / "h.jsonl",
                [*ROWS, {**ROWS[1], "status": "dispatched", "unit_code": GRID}],
            ),
        )
        assert await count(app, Delivery) == 0
        tickets = await imported(app)
        assert len(tickets) == 3
        for t in tickets:
            assert t.change_seq == 0
            assert t.next_check_at is None
            assert (t.sign_due_at, t.reply_due_at, t.triage_due_at, t.callback_due_at) == (
                None,
            ) * 4
            assert t.created_by is None
        timeline = await client.get(
            f"/v1/tickets/{tickets[0].id}/events", headers=demo.headers("agent")
        )
        assert [e["action"] for e in timeline.json()] == ["imported"]
        assert timeline.json()[0]["details"]["external_id"] == "SY-2024-0001"
        assert await count(app, TicketEvent) == 3
        # The subscription does hear a ticket taken now.
        body = {"kind": "complaint", "category": "urban.road", "content": "路面坑洼"}
        assert (
            await client.post("/v1/tickets", json=body, headers=demo.headers("agent"))
        ).status_code == 201
        assert await count(app, Delivery) > 0


class TestFilter:
    async def test_imported_true_and_false(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, tmp_path: Path
    ) -> None:
        body = {
            "kind": "complaint",
            "category": "urban.road",
            "content": "路面坑洼",
            "location": {"grid_code": GRID},
        }
        live = await client.post("/v1/tickets", json=body, headers=demo.headers("agent"))
        assert live.status_code == 201, live.text
        assert live.json()["imported"] is False
        await run(app, jsonl(tmp_path / "h.jsonl", ROWS))
        old = sorted(t.id for t in await imported(app))

        async def listed(**params: Any) -> list[int]:
            r = await client.get(
                "/v1/tickets", params={"limit": 200, **params}, headers=demo.headers("agent")
            )
            assert r.status_code == 200, r.text
            return sorted(t["id"] for t in r.json()["items"])

        assert await listed(imported="true") == old
        assert await listed(imported="false") == [live.json()["id"]]
        assert await listed(imported="true", status="closed", category="urban.road") == old[:1]
        assert await listed(q="路灯") == old[:1]  # its words are searched as intake's
        assert await listed(q="灯泡") == old[:1]  # and its reply's
        one = await client.get(f"/v1/tickets/{old[0]}", headers=demo.headers("agent"))
        assert one.json()["imported"] is True
        assert (
            await client.get(
                "/v1/tickets", params={"imported": "maybe"}, headers=demo.headers("agent")
            )
        ).status_code == 422


class TestMetrics:
    async def test_imported_tickets_change_no_figure(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, tmp_path: Path
    ) -> None:
        period = {"from": "2024-03-01", "to": "2024-03-31"}
        headers = demo.headers("viewer")
        before = (await client.get("/v1/metrics/summary", params=period, headers=headers)).json()
        await run(app, jsonl(tmp_path / "h.jsonl", ROWS))
        live = (await client.get("/v1/metrics/summary", params=period, headers=headers)).json()
        assert live["counts"] == before["counts"]
        async with unit_of_work(app.state.sessionmaker) as session:
            await rollup.refresh(session, utcnow(), full=True)
        rolled = (await client.get("/v1/metrics/summary", params=period, headers=headers)).json()
        assert rolled["counts"] == before["counts"]
        assert sum(v for v in rolled["counts"].values() if isinstance(v, int)) == 0


class TestCommand:
    def test_refusal_exits_1_naming_line_and_field_then_a_good_file_imports(
        self, settings: Settings, demo: Demo, tmp_path: Path
    ) -> None:
        options = ["--data-dir", str(settings.data_dir)]
        if settings.database.url:
            options += ["--database-url", settings.database.url]
        bad = jsonl(tmp_path / "bad.jsonl", [{**ROWS[1], "category": "no.such"}])
        r = CliRunner().invoke(cli, ["tickets", "import", str(bad), *options])
        assert r.exit_code == 1
        assert "Nothing imported: 1 problem(s)" in r.output
        assert "line 1, category: unknown category no.such" in r.output
        good = jsonl(tmp_path / "good.jsonl", ROWS)
        r = CliRunner().invoke(cli, ["tickets", "import", str(good), *options])
        assert r.exit_code == 0, r.output
        assert "imported 2 ticket(s) of 2; 0 skipped" in r.output
        r = CliRunner().invoke(cli, ["tickets", "import", str(good), *options])
        assert "imported 1 ticket(s) of 2; 1 skipped" in r.output
