"""A year the calendar does not know is loud, and admins make it known through the API: stored
in the database so every process agrees, and the clocks that guessed it are counted again."""

from __future__ import annotations

from typing import Any

import httpx

from hotline.app import create_app
from hotline.config import Settings
from tests.conftest import Clock, Demo

ROAD = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "路面塌陷",
    "location": {"address": "东湖公园北侧"},
}
GRID = "210124100002001"
# 2027 as the State Council might announce it: New Year 1–3 January, Spring Festival 6–12
# February with make-up Sundays.
YEAR_2027 = {
    "holidays": [
        "2027-01-01",
        "2027-01-02",
        "2027-01-03",
        "2027-01-04",
        "2027-05-01",
        "2027-05-02",
        "2027-10-01",
        "2027-10-02",
        "2027-10-03",
    ],
    "workdays": ["2027-02-20"],
    "note": "国务院办公厅通知（示例）",
}


async def put_2027(client: httpx.AsyncClient, demo: Demo) -> httpx.Response:
    return await client.put("/v1/calendar/2027", json=YEAR_2027, headers=demo.headers("admin"))


class TestCalendarYears:
    async def test_a_year_reads_where_it_comes_from(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        r = await client.get("/v1/calendar/2026", headers=demo.headers("dispatcher"))
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["known"], body["source"]) == (True, "package")
        assert "2026-10-01" in body["holidays"] and "2026-09-20" in body["workdays"]
        r = await client.get("/v1/calendar/2031", headers=demo.headers("dispatcher"))
        assert (r.json()["known"], r.json()["source"]) == (False, None)
        # Fixed-date holidays are days off even in a year nobody announced.
        assert {"2031-01-01", "2031-05-01", "2031-10-01"} <= set(r.json()["holidays"])
        r = await client.get("/v1/calendar/2026", headers=demo.headers("viewer"))
        assert r.status_code == 403

    async def test_only_an_admin_sets_a_year_and_bad_dates_are_422(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        r = await client.put("/v1/calendar/2027", json=YEAR_2027, headers=demo.headers("agent"))
        assert r.status_code == 403
        admin = demo.headers("admin")
        r = await client.put("/v1/calendar/2027", json={"holidays": ["2028-01-01"]}, headers=admin)
        assert (r.status_code, r.json()["field"]) == (422, "holidays")
        r = await client.put(
            "/v1/calendar/2027",
            json={"holidays": YEAR_2027["holidays"], "workdays": ["2027-01-01"]},
            headers=admin,
        )
        assert r.status_code == 422
        r = await client.put("/v1/calendar/2027", json={"holidays": ["2027-01-01"]}, headers=admin)
        assert r.status_code == 422
        assert "2027-10-01" in r.json()["detail"]
        assert (await client.get("/v1/calendar/2027", headers=admin)).json()["known"] is False

    async def test_readyz_and_metrics_say_so_until_the_year_is_set(
        self, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        r = await client.get("/readyz")
        assert r.status_code == 200
        assert 2027 in r.json()["checks"]["calendar"]["unknown_years"]
        assert any("2027" in w for w in r.json()["warnings"])
        text = (await client.get("/metrics")).text
        assert 'hotline_calendar_year_known{year="2027"} 0.0' in text
        r = await put_2027(client, demo)
        assert r.status_code == 200, r.text
        assert (r.json()["known"], r.json()["source"]) == (True, "database")
        r = await client.get("/readyz")
        assert 2027 not in r.json()["checks"]["calendar"]["unknown_years"]
        assert not any("2027" in w for w in r.json()["warnings"])
        text = (await client.get("/metrics")).text
        assert 'hotline_calendar_year_known{year="2027"} 1.0' in text

    async def test_every_process_sees_the_year_at_once(
        self, client: httpx.AsyncClient, demo: Demo, settings: Settings
    ) -> None:
        other = create_app(settings)
        async with other.router.lifespan_context(other):
            transport = httpx.ASGITransport(app=other)
            async with httpx.AsyncClient(transport=transport, base_url="http://b") as second:
                admin = demo.headers("admin")
                r = await second.get("/v1/calendar/2027", headers=admin)
                assert r.json()["known"] is False
                assert (await put_2027(client, demo)).status_code == 200
                r = await second.get("/v1/calendar/2027", headers=admin)
                assert (r.json()["known"], r.json()["holidays"]) == (
                    True,
                    YEAR_2027["holidays"],
                )

    async def test_clocks_that_guessed_the_year_are_counted_again(
        self, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        clock.set("2026-12-30T10:00:00+08:00")
        ticket = (await client.post("/v1/tickets", json=ROAD, headers=demo.headers("agent"))).json()
        clock.set("2026-12-31T10:00:00+08:00")
        r = await client.post(
            f"/v1/tickets/{ticket['id']}/sign", json={}, headers=demo.headers("worker", GRID)
        )
        signed: dict[str, Any] = r.json()
        # Guessed: 1 January is a fixed holiday, then Monday to Friday: 4, 5, 6, 7, 8 January.
        assert signed["deadlines"]["reply_due_at"] == "2027-01-09T00:00:00+08:00"
        assert signed["deadlines"]["calendar_unknown_years"] == [2027]
        r = await put_2027(client, demo)
        assert r.json()["recounted"] == 1
        now = (
            await client.get(f"/v1/tickets/{ticket['id']}", headers=demo.headers("agent"))
        ).json()
        # Known: 1–4 January off, so 5, 6, 7, 8 and 11 January.
        assert now["deadlines"]["reply_due_at"] == "2027-01-12T00:00:00+08:00"
        assert now["deadlines"]["calendar_unknown_years"] == []
        events = (
            await client.get(f"/v1/tickets/{ticket['id']}/events", headers=demo.headers("admin"))
        ).json()
        recounted = [e for e in events if e["action"] == "deadlines_recounted"]
        assert recounted[0]["details"]["changed"]["reply_due_at"] == {
            "from": "2027-01-09T00:00:00+08:00",
            "to": "2027-01-12T00:00:00+08:00",
        }
