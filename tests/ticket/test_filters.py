"""GET /v1/tickets's filters for the centre (issue 17): the owner, the place, several states,
the flags (overdue, escalated, supervised, designated, repeat) and the closing dates, each on
both databases, combined with AND, and never beyond what a field role may read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from hotline.db.session import unit_of_work
from hotline.ticket.models import Ticket
from tests.conftest import Demo

GRID = "210124100002001"  # 东湖社区第一网格 (法库镇 210124100, 东湖社区 210124100002)
ELSEWHERE = "210124100001001"  # a grid of another village of the same township
WATER = "210124-D-WATER"


async def post(
    client: httpx.AsyncClient, demo: Demo, grid: str = GRID, **fields: Any
) -> dict[str, Any]:
    body = {
        "kind": "complaint",
        "category": "urban.road",
        "content": "路面坑洼",
        "location": {"grid_code": grid},
        **fields,
    }
    r = await client.post("/v1/tickets", json=body, headers=demo.headers("agent"))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def alter(app: Any, ticket: dict[str, Any], **values: Any) -> None:
    async with unit_of_work(app.state.sessionmaker) as session:
        await session.execute(update(Ticket).where(Ticket.id == ticket["id"]).values(**values))


async def listed(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[int]:
    r = await client.get("/v1/tickets", params={"limit": 200, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return sorted(t["id"] for t in r.json()["items"])


@pytest.fixture
async def county(app: Any, client: httpx.AsyncClient, demo: Demo) -> dict[str, Any]:
    """Six tickets, each set apart by one property."""
    plain = await post(client, demo)
    elsewhere = await post(client, demo, ELSEWHERE)
    water = await post(client, demo, category="utility.water")
    late = await post(client, demo)
    marked = await post(client, demo)
    done = await post(client, demo)
    now = datetime.now(UTC)
    await alter(app, late, sign_due_at=now - timedelta(hours=1))
    await alter(
        app,
        marked,
        escalation_level=1,
        supervised_at=now,
        designated=True,
        possible_repeat_of_id=plain["id"],
        status="signed",
    )
    await alter(app, done, status="closed", closed_at=datetime(2026, 3, 5, 4, 0, tzinfo=UTC))
    return {
        "plain": plain["id"],
        "elsewhere": elsewhere["id"],
        "water": water["id"],
        "late": late["id"],
        "marked": marked["id"],
        "done": done["id"],
        "all": sorted(t["id"] for t in (plain, elsewhere, water, late, marked, done)),
        "owner": water["route"]["unit_code"],
        "water_grid": water["route"]["grid_code"],
    }


async def test_each_filter_keeps_exactly_its_tickets(
    client: httpx.AsyncClient, demo: Demo, county: dict[str, Any]
) -> None:
    c, agent = county, demo.headers("dispatcher")
    mine = [c[k] for k in ("plain", "late", "marked", "done")]
    # The water department owns its ticket (no owning grid); it still lies in the village.
    assert c["water_grid"] is None
    assert await listed(client, agent) == c["all"]
    assert await listed(client, agent, grid=GRID) == sorted(mine)
    assert await listed(client, agent, village="210124100002") == sorted([*mine, c["water"]])
    assert c["elsewhere"] in await listed(client, agent, township="210124100")
    assert await listed(client, agent, village="210124100001") == [c["elsewhere"]]
    assert await listed(client, agent, unit=c["owner"]) == [c["water"]]
    assert await listed(client, agent, overdue="true") == [c["late"]]
    assert c["late"] not in await listed(client, agent, overdue="false")
    for flag in ("escalated", "supervised", "designated", "repeat"):
        assert await listed(client, agent, **{flag: "true"}) == [c["marked"]], flag
        assert c["marked"] not in await listed(client, agent, **{flag: "false"}), flag
    assert await listed(client, agent, status="closed") == [c["done"]]
    both = sorted([c["done"], c["marked"]])
    assert await listed(client, agent, status="closed,signed") == both
    r = await client.get(
        "/v1/tickets", params=[("status", "closed"), ("status", "signed")], headers=agent
    )
    assert sorted(t["id"] for t in r.json()["items"]) == both
    closed_range = {"closed_after": "2026-03-05T00:00:00Z", "closed_before": "2026-03-06T00:00:00Z"}
    assert await listed(client, agent, **closed_range) == [c["done"]]
    assert await listed(client, agent, closed_after="2026-03-06T00:00:00Z") == []


async def test_filters_combine_with_and(
    client: httpx.AsyncClient, demo: Demo, county: dict[str, Any]
) -> None:
    agent = demo.headers("agent")
    assert await listed(client, agent, grid=GRID, status="signed", designated="true") == [
        county["marked"]
    ]
    assert await listed(client, agent, grid=ELSEWHERE, designated="true") == []


async def test_a_field_role_filters_only_what_it_may_read(
    client: httpx.AsyncClient, demo: Demo, county: dict[str, Any]
) -> None:
    worker = demo.headers("worker", ELSEWHERE)
    assert await listed(client, worker) == [county["elsewhere"]]
    assert await listed(client, worker, township="210124100") == [county["elsewhere"]]
    assert await listed(client, worker, grid=GRID) == []


@pytest.mark.parametrize(
    "params",
    [
        {"status": "open"},
        {"status": "signed,nonsense"},
        {"overdue": "maybe"},
        {"closed_after": "2026-03-05"},
        {"township": "法库镇"},
    ],
)
async def test_a_bad_filter_is_a_422_naming_it(
    client: httpx.AsyncClient, demo: Demo, params: dict[str, str]
) -> None:
    r = await client.get("/v1/tickets", params=params, headers=demo.headers("agent"))
    assert r.status_code == 422, r.text
    [name] = params
    assert any(name in e["field"] for e in r.json()["errors"]), r.json()
