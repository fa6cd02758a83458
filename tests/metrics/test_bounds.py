"""Figures that cannot lie: every rate's numerator is a subset of its denominator, whatever the
ticket rows hold (random rows, also impossible ones), so no rate leaves [0, 1]; the roll-up
gives what the plain query gives; merged duplicates and closures from triage count apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from hotline.db.session import unit_of_work
from hotline.metrics import rollup
from hotline.ticket.models import Ticket
from tests.conftest import Clock, Demo
from tests.metrics.test_rollup import assert_as_plain, refresh

PERIOD = {"from": "2026-03-01", "to": "2026-03-31"}
START = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
ROAD = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "路面塌陷",
    "caller": {"name": "张三", "phone": "13812345678"},
    "location": {"address": "东湖公园北侧"},
}
STATES = [
    "triage",
    "dispatched",
    "return_requested",
    "signed",
    "arbitration",
    "replied",
    "closed",
    "rework",
]
REASONS = [None, "resolved", "answered", "merged", "redirected", "terminated"]


def instant() -> st.SearchStrategy[datetime | None]:
    return st.one_of(
        st.none(), st.integers(0, 40 * 24 * 60).map(lambda m: START + timedelta(minutes=m))
    )


ROW = st.fixed_dictionaries(
    {
        "status": st.sampled_from(STATES),
        "close_reason": st.sampled_from(REASONS),
        "created": st.integers(0, 29 * 24 * 60),
        "dispatched_at": instant(),
        "signed_at": instant(),
        "replied_at": instant(),
        "closed_at": instant(),
        "sign_due_at": instant(),
        "reply_due_at": instant(),
        "callback_reached": st.sampled_from([None, True, False]),
        "callback_resolution": st.sampled_from([None, "resolved", "partly", "unresolved"]),
        "callback_satisfaction": st.sampled_from([None, "satisfied", "basic", "unsatisfied"]),
        "return_count": st.integers(0, 3),
        "rework_count": st.integers(0, 3),
        "escalation_peak": st.sampled_from(
            [None, "village", "township", "county", "department", "line", "group"]
        ),
        "designated": st.booleans(),
        "supervised_at": instant(),
        "staged_at": instant(),
        "township_code": st.sampled_from([None, "210124100", "210124101"]),
    }
)


def ticket_row(row: dict[str, Any], n: int) -> Ticket:
    created = START + timedelta(minutes=row.pop("created"))
    return Ticket(
        kind="complaint",
        category_code="urban.road",
        urgency="normal",
        line="main",
        content=f"随机工单 {n}",
        route={"method": "triage"},
        created_at=created,
        updated_at=created,
        change_seq=10_000 + n,
        **row,
    )


def check_rates(body: dict[str, Any]) -> None:
    for name, rate in body["rates"].items():
        assert 0 <= rate["numerator"] <= rate["denominator"], (name, rate)
        if rate["denominator"]:
            assert 0.0 <= rate["value"] <= 1.0, (name, rate)
        else:
            assert rate["value"] is None, (name, rate)


async def summary(client: httpx.AsyncClient, demo: Demo, **params: str) -> dict[str, Any]:
    r = await client.get(
        "/v1/metrics/summary", params={**PERIOD, **params}, headers=demo.headers("viewer")
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


class TestBounds:
    @settings(
        max_examples=25,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(rows=st.lists(ROW, min_size=1, max_size=12))
    async def test_random_rows_keep_every_rate_in_bounds_and_the_roll_up_exact(
        self,
        app: Any,
        client: httpx.AsyncClient,
        demo: Demo,
        monkeypatch: pytest.MonkeyPatch,
        rows: list[dict[str, Any]],
    ) -> None:
        # Rows accumulate over the examples: the property holds for any set of tickets.
        async with unit_of_work(app.state.sessionmaker) as session:
            start = int(await session.scalar(select(func.max(Ticket.id))) or 0)
            session.add_all(ticket_row(dict(r), start + i + 1) for i, r in enumerate(rows))
        body = await summary(client, demo)
        check_rates(body)
        counts = body["counts"]
        assert counts["completed"] <= counts["closed"]
        assert counts["redirected"] + counts["terminated"] <= counts["closed"]
        r = await client.get(
            "/v1/metrics/breakdown",
            params={**PERIOD, "by": "township"},
            headers=demo.headers("viewer"),
        )
        for group in r.json()["items"]:
            check_rates(group)
        async with unit_of_work(app.state.sessionmaker) as session:
            await rollup.refresh(session, datetime.now(UTC), full=True)
        await assert_as_plain(client, demo, monkeypatch)


class TestCountedApart:
    async def test_three_redirections_and_one_dispatch_are_not_300_per_cent(
        self, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        clock.set("2026-03-02T10:00:00+08:00")
        agent, dispatcher = demo.headers("agent"), demo.headers("dispatcher")
        r = await client.post("/v1/tickets", json=ROAD, headers=agent)
        assert r.json()["status"] == "dispatched"
        for n in range(3):
            r = await client.post(
                "/v1/tickets",
                json={**ROAD, "content": f"邻里纠纷打架 {n}", "location": {"address": "火星"}},
                headers=agent,
            )
            assert r.json()["status"] == "triage"
            r = await client.post(
                f"/v1/tickets/{r.json()['id']}/close",
                json={"reason": "redirected", "note": "转110"},
                headers=dispatcher,
            )
            assert r.status_code == 200, r.text
        body = await summary(client, demo)
        completion = body["rates"]["completion"]
        assert (completion["numerator"], completion["denominator"]) == (0, 1)
        assert completion["value"] == 0.0
        assert (body["counts"]["closed"], body["counts"]["redirected"]) == (3, 3)
        check_rates(body)

    async def test_a_merged_duplicate_leaves_received_unchanged(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, clock: Clock
    ) -> None:
        clock.set("2026-03-02T10:00:00+08:00")
        agent = demo.headers("agent")
        first = (await client.post("/v1/tickets", json=ROAD, headers=agent)).json()
        before = (await summary(client, demo))["counts"]
        dup = (await client.post("/v1/tickets", json=ROAD, headers=agent)).json()
        assert dup["possible_repeat_of"] == first["id"]
        r = await client.post(
            f"/v1/tickets/{dup['id']}/merge", json={"into": first["id"]}, headers=agent
        )
        assert r.status_code == 200, r.text
        after = (await summary(client, demo))["counts"]
        assert (after["received"], after["dispatched"], after["closed"]) == (
            before["received"],
            before["dispatched"],
            before["closed"],
        )
        assert after["merged"] == before["merged"] + 1
        # Nor does it count against its grid as never signed.
        assert after["signed"] == before["signed"]
        assert (await refresh(app)).full
        await assert_as_plain(client, demo, pytest.MonkeyPatch())
