"""The roll-up answers exactly as the plain query, before and after changes and refreshes.

Same hand-worked history as test_figures. "Plain" is the same endpoint with the roll-up
reported as never built, so the figures come from the tickets alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hotline.change import pipeline
from hotline.db.session import unit_of_work
from hotline.kit.clock import county_zone
from hotline.metrics import rolled, rollup
from hotline.ticket.models import Ticket
from tests.conftest import Clock, Demo
from tests.metrics.test_figures import (  # noqa: F401 (fixture)
    EXPECTED_COUNTS,
    GRID,
    PERIOD,
    History,
    history,
)

QUERIES: list[tuple[str, dict[str, str]]] = [
    ("summary", PERIOD),
    ("summary", {**PERIOD, "township": "210124100"}),
    ("summary", {**PERIOD, "category": "urban.road"}),
    ("summary", {**PERIOD, "kind": "complaint"}),
    ("summary", {**PERIOD, "grid": GRID}),
    ("summary", {"from": "2026-02-01", "to": "2026-03-31"}),
    ("summary", {"from": "2026-03-03", "to": "2026-03-03"}),
    ("breakdown", {**PERIOD, "by": "township"}),
    ("breakdown", {**PERIOD, "by": "unit"}),
    ("breakdown", {**PERIOD, "by": "category", "sort": "completion"}),
    ("breakdown", {**PERIOD, "by": "grid"}),
    ("timeseries", {**PERIOD, "interval": "day"}),
]


async def figures(client: httpx.AsyncClient, demo: Demo) -> list[Any]:
    out = []
    for path, params in QUERIES:
        r = await client.get(f"/v1/metrics/{path}", params=params, headers=demo.headers("viewer"))
        assert r.status_code == 200, r.text
        out.append(r.json())
    return out


async def assert_as_plain(
    client: httpx.AsyncClient, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> list[Any]:
    """The figures with the roll-up equal those without it; the roll-up was read."""
    read = []
    original = rolled.rolled_counts

    async def spy(*args: Any, **kwargs: Any) -> Any:
        read.append(1)
        return await original(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(rolled, "rolled_counts", spy)
        answers = await figures(client, demo)
    assert read, "the roll-up was not used"

    async def never_built(session: Any) -> rollup.State:
        return rollup.State(None)

    with monkeypatch.context() as m:
        m.setattr(rollup, "state", never_built)
        plain = await figures(client, demo)
    for (path, params), a, b in zip(QUERIES, answers, plain, strict=True):
        assert a == b, (path, params)
    return answers


async def refresh(app: Any) -> rollup.Refreshed:
    async with unit_of_work(app.state.sessionmaker) as session:
        return await rollup.refresh(session, datetime.now(UTC))


async def ticket_ids(app: Any) -> dict[str, int]:
    """Ticket id by creation instant (county time, as the history writes it)."""
    async with unit_of_work(app.state.sessionmaker, read_only=True) as session:
        rows = await session.execute(select(Ticket.created_at, Ticket.id))
        return {at.astimezone(county_zone()).strftime("%m-%d %H:%M"): i for at, i in rows}


UNSATISFIED = {
    "reached": True,
    "resolution": "unresolved",
    "satisfaction": "unsatisfied",
    "unit_at_fault": True,
}


class TestRollUp:
    async def test_built_from_the_history_it_answers_as_the_tickets(
        self,
        app: Any,
        client: httpx.AsyncClient,
        demo: Demo,
        history: None,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        built = await refresh(app)
        assert built.full
        answers = await assert_as_plain(client, demo, monkeypatch)
        assert answers[0]["counts"] == EXPECTED_COUNTS
        assert answers[0]["time_to_close"] == {"avg_minutes": 8641.7, "p90_minutes": 21595.0}
        again = await refresh(app)
        assert (again.full, again.days) == (False, 0)

    async def test_tickets_closed_and_reworked_after_a_refresh(
        self,
        app: Any,
        client: httpx.AsyncClient,
        demo: Demo,
        clock: Clock,
        history: None,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        h = History(client, demo, clock)
        ids = await ticket_ids(app)
        t4, t6 = ids["03-03 09:20"], ids["03-04 10:00"]
        await refresh(app)
        # T6's callback now reaches the caller, unsatisfied with the unit at fault: reworked.
        await h.act("2026-04-02T10:00:00+08:00", t6, "callback", "agent", UNSATISFIED)
        answers = await assert_as_plain(client, demo, monkeypatch)
        assert answers[0]["counts"]["callbacks_reached"] == EXPECTED_COUNTS["callbacks_reached"] + 1
        # T4 is finally signed, before any refresh: its day is dirty too.
        await h.act("2026-04-02T11:00:00+08:00", t4, "sign", "worker")
        await assert_as_plain(client, demo, monkeypatch)
        done = await refresh(app)
        assert done.days == 2
        await assert_as_plain(client, demo, monkeypatch)
        # Signed, replied and satisfied again: T6 closes after the refresh.
        await h.act("2026-04-02T12:00:00+08:00", t6, "sign", "worker")
        await h.act("2026-04-03T10:00:00+08:00", t6, "reply", "worker", {"text": "已返工"})
        await h.act("2026-04-03T11:00:00+08:00", t6, "callback", "agent", SATISFIED)
        answers = await assert_as_plain(client, demo, monkeypatch)
        assert answers[0]["counts"]["closed"] == EXPECTED_COUNTS["closed"] + 1
        await refresh(app)
        await assert_as_plain(client, demo, monkeypatch)

    async def test_a_change_committed_during_a_refresh_stays_dirty(
        self,
        app: Any,
        backend: str,
        client: httpx.AsyncClient,
        demo: Demo,
        clock: Clock,
        history: None,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        h = History(client, demo, clock)
        t4 = (await ticket_ids(app))["03-03 09:20"]
        await refresh(app)
        original = rollup.committed_through

        if backend == "postgresql":
            # The change commits on another connection after the refresh read its watermark.
            async def racing(session: Any) -> int:
                through = await original(session)
                await h.act("2026-04-02T11:00:00+08:00", t4, "sign", "worker")
                return through
        else:
            # SQLite serialises writers, so the race cannot happen; the same state arises when
            # a committed change is not yet below the watermark (a sequence-based counter).
            await h.act("2026-04-02T11:00:00+08:00", t4, "sign", "worker")

            async def racing(session: Any) -> int:
                return await original(session) - 1

        with monkeypatch.context() as m:
            m.setattr(rollup, "committed_through", racing)
            done = await refresh(app)
        async with unit_of_work(app.state.sessionmaker, read_only=True) as session:
            assert await rollup.dirty_days(session, done.watermark)
        answers = await assert_as_plain(client, demo, monkeypatch)
        assert answers[0]["counts"]["signed"] == EXPECTED_COUNTS["signed"] + 1
        done = await refresh(app)
        async with unit_of_work(app.state.sessionmaker, read_only=True) as session:
            assert not await rollup.dirty_days(session, done.watermark)
        await assert_as_plain(client, demo, monkeypatch)


SATISFIED = {"reached": True, "resolution": "resolved", "satisfaction": "satisfied"}


class TestRefresher:
    async def test_the_sweepers_loop_builds_then_refreshes_it(self, app: Any) -> None:
        from hotline.jobs import serve

        await serve._refresh(app.state)
        async with unit_of_work(app.state.sessionmaker, read_only=True) as session:
            assert (await rollup.state(session)).built

    async def test_read_apart_and_stored_it_answers_as_the_tickets(
        self,
        app: Any,
        client: httpx.AsyncClient,
        demo: Demo,
        clock: Clock,
        history: None,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # The loop's refresh on SQLite: the dirty days read in a read-only transaction, then
        # written in a short one (on PostgreSQL the loop refreshes in one; both must agree).
        from hotline.jobs import serve

        h = History(client, demo, clock)
        ids = await ticket_ids(app)
        await refresh(app)
        await h.act(
            "2026-04-02T10:00:00+08:00", ids["03-04 10:00"], "callback", "agent", UNSATISFIED
        )
        await h.act("2026-04-02T11:00:00+08:00", ids["03-03 09:20"], "sign", "worker")
        async with unit_of_work(app.state.sessionmaker, read_only=True) as session:
            computed = await rollup.compute(session, datetime.now(UTC))
        assert computed is not None and len(computed.days) == 2
        async with unit_of_work(app.state.sessionmaker) as session:
            stored = await rollup.store(session, computed, datetime.now(UTC))
        assert stored is not None and stored.days == 2
        async with unit_of_work(app.state.sessionmaker, read_only=True) as session:
            assert not await rollup.dirty_days(session, stored.watermark)
        await assert_as_plain(client, demo, monkeypatch)
        await h.act("2026-04-02T12:00:00+08:00", ids["03-04 10:00"], "sign", "worker")
        await serve._refresh(app.state)
        async with unit_of_work(app.state.sessionmaker, read_only=True) as session:
            assert not await rollup.dirty_days(session, (await rollup.state(session)).watermark)
        await assert_as_plain(client, demo, monkeypatch)

    async def test_rows_read_before_another_refresh_are_not_stored(
        self,
        app: Any,
        client: httpx.AsyncClient,
        demo: Demo,
        clock: Clock,
        history: None,  # noqa: F811
    ) -> None:
        h = History(client, demo, clock)
        await refresh(app)
        await h.act(
            "2026-04-02T11:00:00+08:00", (await ticket_ids(app))["03-03 09:20"], "sign", "worker"
        )
        async with unit_of_work(app.state.sessionmaker, read_only=True) as session:
            computed = await rollup.compute(session, datetime.now(UTC))
        assert computed is not None and computed.days
        moved = await refresh(app)  # another process got there first
        async with unit_of_work(app.state.sessionmaker) as session:
            assert await rollup.store(session, computed, datetime.now(UTC)) is None
        async with unit_of_work(app.state.sessionmaker, read_only=True) as session:
            assert (await rollup.state(session)).watermark == moved.watermark


class TestPercentile:
    async def test_the_90th_percentile_inside_a_bin_is_the_tickets_own(
        self,
        app: Any,
        client: httpx.AsyncClient,
        demo: Demo,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        # 41 tickets whose times to close fall in one histogram bin (17.6–19.3 h), with
        # odd seconds: the 37th is neither the bin's least nor its greatest.
        created = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
        async with unit_of_work(app.state.sessionmaker) as session:
            for i in range(41):
                at = created + timedelta(minutes=i)
                ticket = Ticket(
                    status="closed",
                    kind="complaint",
                    category_code="urban.road",
                    urgency="normal",
                    line="main",
                    content="测试",
                    created_at=at,
                    updated_at=at,
                    dispatched_at=at,
                    signed_at=at + timedelta(seconds=3600 + 37 * ((i * 7) % 41), microseconds=i),
                    closed_at=at + timedelta(seconds=63_500 + 97 * ((i * 11) % 41)),
                    close_reason="resolved",
                )
                session.add(ticket)
                await session.flush()
                ticket.change_seq = (await pipeline.take(session))[0]
        await refresh(app)
        answers = await assert_as_plain(client, demo, monkeypatch)
        assert answers[0]["counts"]["received"] == 41
        assert answers[0]["time_to_close"]["p90_minutes"] == round((63_500 + 97 * 36) / 60, 1)


def test_a_sqlite_deployment_builds_and_refreshes_from_the_command_line(tmp_path: Path) -> None:
    from hotline.cli import app as cli

    runner = CliRunner()
    result = runner.invoke(cli, ["metrics", "refresh", "--data-dir", str(tmp_path)], env={})
    assert result.exit_code == 0, result.output
    assert "built through change 0" in result.output
    result = runner.invoke(cli, ["metrics", "refresh", "--data-dir", str(tmp_path)], env={})
    assert result.exit_code == 0, result.output
    assert "refreshed 0 day(s)" in result.output
