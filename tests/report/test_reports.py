"""GET /v1/reports/{period}: every figure against /v1/metrics for the same days, the grades, the
alignment of ``start``, who may read it, and the CSV (docs/metrics.md, "Reports")."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import httpx
import pytest

from tests.conftest import Clock, Demo
from tests.report.history import OTHER_TOWNSHIP, TOWNSHIP, WATER, november

MONTH = {"from": "2026-11-01", "to": "2026-11-30"}
URL = "/v1/reports/month?start=2026-11-01"


@pytest.fixture
async def month(client: httpx.AsyncClient, demo: Demo, clock: Clock) -> dict[str, Any]:
    await november(client, demo, clock)
    r = await client.get(URL, headers=demo.headers("viewer"))
    assert r.status_code == 200, r.text
    return dict(r.json())


def expected(c: dict[str, int], rates: dict[str, Any]) -> dict[str, tuple[Any, int, int]]:
    """Each column as the metrics' counts and rates make it (docs/metrics.md)."""

    def rate(name: str) -> tuple[Any, int, int]:
        return rates[name]["value"], rates[name]["numerator"], rates[name]["denominator"]

    base = c["dispatched"] + c["answered_directly"]
    late = c["replied"] - c["replied_on_time"]
    unsatisfied = c["callbacks_reached"] - c["satisfied"]
    reached = c["callbacks_reached"]
    return {
        "dispatched": (c["dispatched"], c["dispatched"], c["received"]),
        "signed_on_time": (c["signed_on_time"], c["signed_on_time"], c["dispatched"]),
        "completed_on_time": (c["replied_on_time"], c["replied_on_time"], c["replied"]),
        "completed_late": (late, late, c["replied"]),
        "open": (base - c["completed"], base - c["completed"], base),
        "completion": rate("completion"),
        "on_time_completion": rate("on_time_completion"),
        "unsatisfied": (unsatisfied, unsatisfied, reached),
        "unsatisfaction": (
            round(unsatisfied / reached, 4) if reached else None,
            unsatisfied,
            reached,
        ),
        "satisfaction": rate("satisfaction"),
        "reworked": (c["reworked"], c["reworked"], c["replied"]),
        "returned": (c["returned"], c["returned"], c["dispatched"]),
    }


def shown(row: dict[str, Any]) -> dict[str, tuple[Any, int, int]]:
    return {k: (f["value"], f["numerator"], f["denominator"]) for k, f in row["figures"].items()}


async def metrics_of(
    client: httpx.AsyncClient, demo: Demo, code: str, kind: str
) -> tuple[dict[str, int], dict[str, Any]]:
    """The counts /v1/metrics gives for a unit's tickets: a department's own, a township's
    those of every unit under it (their codes begin with the township's)."""
    viewer = demo.headers("viewer")
    if kind == "department":
        r = await client.get("/v1/metrics/summary", params={**MONTH, "unit": code}, headers=viewer)
        return r.json()["counts"], r.json()["rates"]
    r = await client.get("/v1/metrics/breakdown", params={**MONTH, "by": "unit"}, headers=viewer)
    parts = [g["counts"] for g in r.json()["items"] if g["key"] and g["key"].startswith(code)]
    counted = {n: sum(p[n] for p in parts) for n in parts[0]}
    return counted, rates_of(counted)


def rates_of(c: dict[str, int]) -> dict[str, Any]:
    def r(n: int, d: int) -> dict[str, Any]:
        return {"value": round(n / d, 4) if d else None, "numerator": n, "denominator": d}

    return {
        "completion": r(c["completed"], c["dispatched"] + c["answered_directly"]),
        "on_time_completion": r(c["replied_on_time"], c["replied"]),
        "satisfaction": r(c["satisfied"], c["callbacks_reached"]),
    }


class TestFigures:
    async def test_every_figure_equals_the_metrics_of_the_same_days(
        self, client: httpx.AsyncClient, demo: Demo, month: dict[str, Any]
    ) -> None:
        units = {u["code"]: u for u in month["units"]}
        assert set(units) == {TOWNSHIP, OTHER_TOWNSHIP, WATER}
        for code, row in units.items():
            counted, rates = await metrics_of(client, demo, code, row["kind"])
            assert shown(row) == expected(counted, rates), row["name"]
        r = await client.get("/v1/metrics/summary", params=MONTH, headers=demo.headers("viewer"))
        everything = r.json()["counts"]
        total = shown(month["total"])
        # Every ticket of the month has a handling unit (T5 was routed, then answered directly).
        assert total["dispatched"] == (4, everything["dispatched"], everything["received"])
        assert total["open"][2] == everything["dispatched"] + everything["answered_directly"]
        assert total["unsatisfied"][0] == sum(shown(u)["unsatisfied"][0] for u in units.values())

    async def test_the_hand_count(self, month: dict[str, Any]) -> None:
        units = {u["code"]: u for u in month["units"]}
        town, water, other = units[TOWNSHIP], units[WATER], units[OTHER_TOWNSHIP]
        assert (town["name"], town["kind_zh"], water["kind_zh"]) == ("法库镇", "乡镇", "部门")
        assert shown(town)["dispatched"][0] == 2  # T1, T2 of a grid of 法库镇
        assert shown(town)["reworked"] == (1, 1, 2)
        assert shown(town)["satisfaction"] == (1.0, 2, 2)  # T2's latest callback: basic
        assert shown(water)["unsatisfied"] == (1, 1, 1)
        assert shown(water)["satisfaction"] == (0.0, 0, 1)
        assert water["grade"] == "D"
        assert shown(other)["open"] == (1, 1, 1) and shown(other)["returned"] == (1, 1, 1)
        assert other["grade"] is None  # nothing replied, no callback: not graded
        assert [u["code"] for u in month["units"]][-1] == OTHER_TOWNSHIP  # ungraded last
        assert [b["code"] for b in month["below_floor"]] == [WATER]
        assert month["title"] == "12345热线2026年11月通报"
        assert month["period"] == {
            "kind": "month",
            "start": "2026-11-01",
            "end": "2026-12-01",
            "last": "2026-11-30",
            "label": "2026年11月",
        }

    async def test_top_categories_and_hot_spots(
        self, client: httpx.AsyncClient, demo: Demo, month: dict[str, Any]
    ) -> None:
        top = [(c["category"], c["received"]["value"], c["share"]) for c in month["categories"]]
        # T6 (October) is outside; the merged and answered count as received where they are.
        assert top == [
            ("urban.road", 4, {"value": 0.8, "numerator": 4, "denominator": 5}),
            ("utility.water", 1, {"value": 0.2, "numerator": 1, "denominator": 5}),
        ]
        r = await client.post("/v1/clusters/detect", headers=demo.headers("dispatcher"))
        assert r.status_code == 200 and r.json()["created"] >= 1, r.text
        r = await client.get(URL, headers=demo.headers("viewer"))
        spots = r.json()["hotspots"]
        assert spots and spots[0]["category"] == "urban.road"
        assert spots[0]["size"] >= 3 and spots[0]["category_name"]
        assert "张三" not in str(spots)
        # A week before any of them: none.
        r = await client.get("/v1/reports/week?start=2026-10-26", headers=demo.headers("viewer"))
        assert r.json()["hotspots"] == [] and r.json()["units"] == []

    async def test_grades_follow_the_stored_policy(
        self, client: httpx.AsyncClient, demo: Demo, month: dict[str, Any]
    ) -> None:
        assert {u["code"]: u["grade"] for u in month["units"]}[TOWNSHIP] in "ABCD"
        lenient = {
            "a": {"on_time_completion": 0, "satisfaction": 0},
            "b": {"on_time_completion": 0, "satisfaction": 0},
            "c": {"on_time_completion": 0, "satisfaction": 0},
            "satisfaction_floor": 0,
        }
        r = await client.put("/v1/reports/grades", json=lenient, headers=demo.headers("admin"))
        assert r.status_code == 200, r.text
        r = await client.get(URL, headers=demo.headers("viewer"))
        graded = {u["code"]: u["grade"] for u in r.json()["units"]}
        assert graded == {TOWNSHIP: "A", WATER: "A", OTHER_TOWNSHIP: None}
        assert r.json()["below_floor"] == [] and r.json()["grades"] == lenient


class TestPeriods:
    @pytest.mark.parametrize(
        ("path", "words"),
        [
            ("week?start=2026-11-03", "星期一"),
            ("month?start=2026-11-02", "1日"),
            ("quarter?start=2026-11-01", "10月1日"),
            ("month?start=2026-02-30", "有效日期"),
        ],
    )
    async def test_a_misaligned_start_is_422_naming_the_rule(
        self, client: httpx.AsyncClient, demo: Demo, path: str, words: str
    ) -> None:
        r = await client.get(f"/v1/reports/{path}", headers=demo.headers("viewer"))
        assert r.status_code == 422, r.text
        assert words in r.json()["detail"] and r.json()["field"] == "start"

    @pytest.mark.parametrize("path", ["year?start=2026-01-01", "month", "month?start=2026-1-1"])
    async def test_unknown_periods_and_missing_or_malformed_starts_are_422(
        self, client: httpx.AsyncClient, demo: Demo, path: str
    ) -> None:
        r = await client.get(f"/v1/reports/{path}", headers=demo.headers("viewer"))
        assert r.status_code == 422


class TestAccess:
    @pytest.mark.parametrize("role", ["viewer", "dispatcher", "admin"])
    async def test_the_viewer_and_the_centre_read_reports(
        self, client: httpx.AsyncClient, demo: Demo, role: str
    ) -> None:
        for path in (URL, "/v1/reports/grades"):
            r = await client.get(path, headers=demo.headers(role))
            assert r.status_code == 200, (path, r.text)

    @pytest.mark.parametrize("role", ["worker", "member", "officer", "agent"])
    async def test_field_roles_and_agents_get_403(
        self, client: httpx.AsyncClient, demo: Demo, role: str
    ) -> None:
        for path in (URL, "/v1/reports/grades"):
            r = await client.get(path, headers=demo.headers(role))
            assert r.status_code == 403, (path, r.text)

    async def test_without_a_key_401(self, client: httpx.AsyncClient, demo: Demo) -> None:
        assert (await client.get(URL)).status_code == 401


class TestGradesPolicy:
    async def test_defaults_until_an_admin_sets_them(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        r = await client.get("/v1/reports/grades", headers=demo.headers("viewer"))
        assert r.json() == {
            "a": {"on_time_completion": 0.95, "satisfaction": 0.9},
            "b": {"on_time_completion": 0.9, "satisfaction": 0.85},
            "c": {"on_time_completion": 0.8, "satisfaction": 0.75},
            "satisfaction_floor": 0.8,
            "updated_at": None,
        }
        policy = {
            "a": {"on_time_completion": 0.98, "satisfaction": 0.95},
            "b": {"on_time_completion": 0.9, "satisfaction": 0.9},
            "c": {"on_time_completion": 0.9, "satisfaction": 0.6},
            "satisfaction_floor": 0.7,
        }
        for role in ("dispatcher", "viewer"):
            r = await client.put("/v1/reports/grades", json=policy, headers=demo.headers(role))
            assert r.status_code == 403
        r = await client.put("/v1/reports/grades", json=policy, headers=demo.headers("admin"))
        assert r.status_code == 200, r.text
        r = await client.get("/v1/reports/grades", headers=demo.headers("dispatcher"))
        got = r.json()
        assert got.pop("updated_at") is not None and got == policy

    async def test_two_admins_setting_the_first_policy_at_once_both_succeed(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        def policy(floor: float) -> dict[str, Any]:
            t = {"on_time_completion": 0.5, "satisfaction": 0.5}
            return {"a": t, "b": t, "c": t, "satisfaction_floor": floor}

        answers = await asyncio.gather(
            *(
                client.put("/v1/reports/grades", json=policy(f), headers=demo.headers("admin"))
                for f in (0.6, 0.7)
            )
        )
        assert [r.status_code for r in answers] == [200, 200], [r.text for r in answers]
        r = await client.get("/v1/reports/grades", headers=demo.headers("admin"))
        assert r.json()["satisfaction_floor"] in (0.6, 0.7)

    @pytest.mark.parametrize(
        "change",
        [
            {"b": {"on_time_completion": 0.99, "satisfaction": 0.8}},  # B above A
            {"c": {"on_time_completion": 0.5, "satisfaction": 0.95}},  # C above B
            {"satisfaction_floor": 1.5},
            {"a": {"on_time_completion": -0.1, "satisfaction": 0.9}},
            {"d": {"on_time_completion": 0, "satisfaction": 0}},
            # A rate is a number: booleans and numeric strings are not read as one.
            {"satisfaction_floor": False},
            {"a": {"on_time_completion": True, "satisfaction": 0.9}},
            {"c": {"on_time_completion": "0.8", "satisfaction": 0.75}},
        ],
    )
    async def test_a_policy_out_of_order_or_range_is_422(
        self, client: httpx.AsyncClient, demo: Demo, change: dict[str, Any]
    ) -> None:
        policy = {
            "a": {"on_time_completion": 0.95, "satisfaction": 0.9},
            "b": {"on_time_completion": 0.9, "satisfaction": 0.85},
            "c": {"on_time_completion": 0.8, "satisfaction": 0.75},
            "satisfaction_floor": 0.8,
            **change,
        }
        r = await client.put("/v1/reports/grades", json=policy, headers=demo.headers("admin"))
        assert r.status_code == 422, r.text
        r = await client.get("/v1/reports/grades", headers=demo.headers("admin"))
        assert r.json()["updated_at"] is None


class TestCsv:
    async def test_the_unit_table_with_a_byte_order_mark(
        self, client: httpx.AsyncClient, demo: Demo, month: dict[str, Any]
    ) -> None:
        for query, accept in (("&format=csv", {}), ("", {"Accept": "text/csv"})):
            r = await client.get(URL + query, headers={**demo.headers("viewer"), **accept})
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/csv")
            assert (
                "filename*=UTF-8''%E9%80%9A%E6%8A%A5-2026-11.csv"
                in r.headers["content-disposition"]
            )
            assert r.content.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        headers = ["单位", "类型", *(c["header"] for c in month["columns"]), "等级"]
        assert rows[0] == headers
        assert len(rows) == len(month["units"]) + 2  # the header, the units, the total
        for line, unit in zip(rows[1:], [*month["units"], month["total"]], strict=True):
            assert line[:2] == [unit["name"], unit["kind_zh"]]
            for cell, column in zip(line[2:-1], month["columns"], strict=True):
                value = unit["figures"][column["key"]]["value"]
                if value is None:
                    assert cell == ""
                elif column["kind"] == "rate":
                    assert float(cell.rstrip("%")) / 100 == pytest.approx(value, abs=1e-9)
                else:
                    assert int(cell) == value
            assert line[-1] == (unit["grade"] or "")

    async def test_format_wins_over_accept(self, client: httpx.AsyncClient, demo: Demo) -> None:
        headers = {**demo.headers("viewer"), "Accept": "text/csv"}
        r = await client.get(URL + "&format=json", headers=headers)
        assert r.headers["content-type"].startswith("application/json")
        r = await client.get(URL + "&format=pdf", headers=headers)
        assert r.status_code == 422
