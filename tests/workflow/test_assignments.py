"""GET /v1/assignments in one process: full polls, `since`, long polls and their wake-ups,
ETags, whistles for members, and who may poll at all."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

import httpx
import pytest

from hotline.change import notify
from hotline.config import Settings
from hotline.kit import cursor as cursors
from hotline.workflow import assignments
from hotline.workflow import repository as workflow_repository
from tests.conftest import Demo

GRID = "210124100002001"
ROAD: dict[str, Any] = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "路面塌陷",
    "location": {"address": "东湖公园北侧"},
}


def road(grid: str | None = None) -> dict[str, Any]:
    """A road complaint routed by address to GRID, or by grid code to ``grid``."""
    if grid is None:
        return ROAD
    return {**ROAD, "location": {"grid_code": grid}}


async def post_ticket(client: httpx.AsyncClient, demo: Demo, grid: str | None = None) -> int:
    r = await client.post("/v1/tickets", json=road(grid), headers=demo.headers("agent"))
    assert r.status_code == 201, r.text
    assert r.json()["route"]["grid_code"] == (grid or GRID)
    return int(r.json()["id"])


async def poll(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    etag: str | None = None,
    **params: Any,
) -> httpx.Response:
    if etag is not None:
        headers = {**headers, "If-None-Match": etag}
    return await client.get("/v1/assignments", params=params, headers=headers, timeout=40)


def ids(r: httpx.Response) -> list[int]:
    assert r.status_code == 200, r.text
    return [item["ticket"]["id"] for item in r.json()["items"] if item["type"] != "left"]


def other_grid(demo: Demo) -> str:
    return str(next(p["unit"] for p in demo.people if p["role"] == "worker" and p["unit"] != GRID))


async def until_waiting(count: int = 1) -> None:
    """Until ``count`` long polls of this process are registered, and a moment more."""
    deadline = time.monotonic() + 5
    while notify.hub.waiting < count:
        assert time.monotonic() < deadline, "the long poll never started waiting"
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)


class Looks:
    """Counts the long polls' looks on the app's engine, from ``with`` to its end: the
    second query of every look."""

    def __init__(self, app: Any) -> None:
        self.engine = app.state.engine.sync_engine
        self.count = 0

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.count += "FROM summons JOIN ticket" in statement

    def __enter__(self) -> Looks:
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc: object) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._seen)

    async def until(self, count: int) -> None:
        """Until ``count`` looks were made: a poll registers before its first look, so its
        registration alone does not say it has looked."""
        deadline = time.monotonic() + 10
        while self.count < count:
            assert time.monotonic() < deadline, f"{self.count} looks of {count}"
            await asyncio.sleep(0.01)


async def test_full_poll_lists_the_open_tickets_of_the_grid(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    worker = demo.headers("worker", GRID)
    assert ids(await poll(client, worker)) == []
    first = await post_ticket(client, demo)
    second = await post_ticket(client, demo)
    answered = await post_ticket(client, demo)
    elsewhere = await post_ticket(client, demo, other_grid(demo))
    r = await client.post(
        f"/v1/tickets/{answered}/answer",
        json={"text": "已电话答复"},
        headers=demo.headers("agent"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed"

    r = await poll(client, worker)
    # Open tickets of the grid only, the newest change first; the closed one and another
    # grid's are not listed.
    assert ids(r) == [second, first]
    body = r.json()
    assert {item["type"] for item in body["items"]} == {"ticket"}
    changes = [item["change"] for item in body["items"]]
    assert changes == sorted(changes, reverse=True)
    assert body["more"] is False
    assert isinstance(body["cursor"], str) and body["cursor"]
    assert elsewhere not in ids(await poll(client, worker))
    assert ids(await poll(client, demo.headers("worker", other_grid(demo)))) == [elsewhere]


async def test_since_returns_only_later_changes(client: httpx.AsyncClient, demo: Demo) -> None:
    worker = demo.headers("worker", GRID)
    first = await post_ticket(client, demo)
    start = (await poll(client, worker)).json()["cursor"]
    assert ids(await poll(client, worker, since=start)) == []

    second = await post_ticket(client, demo)
    r = await poll(client, worker, since=start)
    assert ids(r) == [second]
    after_second = r.json()["cursor"]
    assert ids(await poll(client, worker, since=after_second)) == []

    # A change to an older ticket comes back, with its new place in the change order.
    r = await client.post(f"/v1/tickets/{first}/sign", json={}, headers=worker)
    assert r.status_code == 200, r.text
    r = await poll(client, worker, since=after_second)
    assert ids(r) == [first]
    assert r.json()["items"][0]["ticket"]["status"] == "signed"
    assert ids(await poll(client, worker, since=start)) == [first, second]
    assert ids(await poll(client, worker, since=r.json()["cursor"])) == []


async def test_since_with_a_limit_pages_through_the_changes(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    worker = demo.headers("worker", GRID)
    start = (await poll(client, worker)).json()["cursor"]
    posted = [await post_ticket(client, demo) for _ in range(5)]
    seen: list[int] = []
    cursor = start
    for _ in range(10):
        r = await poll(client, worker, since=cursor, limit=2)
        seen += reversed(ids(r))  # each page newest first; collect oldest first
        cursor = r.json()["cursor"]
        if not r.json()["more"]:
            break
    assert seen == posted


async def test_a_wait_with_nothing_new_returns_empty_after_the_wait(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    worker = demo.headers("worker", GRID)
    await post_ticket(client, demo)
    cursor = (await poll(client, worker)).json()["cursor"]
    started = time.monotonic()
    r = await poll(client, worker, since=cursor, wait=1)
    took = time.monotonic() - started
    assert ids(r) == []
    assert r.json()["cursor"] == cursor
    assert 0.9 <= took < 3, took


async def test_a_wait_that_runs_out_unwoken_looks_once_and_the_next_poll_sees_what_it_missed(
    client: httpx.AsyncClient, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Time running out is the commonest end of a long poll: it costs no second look. A change
    # nobody announced (as when another process's notice is still on its way) is not lost:
    # the cursor did not move, so the next poll names it.
    worker = demo.headers("worker", GRID)
    cursor = (await poll(client, worker)).json()["cursor"]
    looks: list[int | None] = []
    look = assignments._look

    async def counted(session: Any, principal: Any, since: int | None, limit: int) -> Any:
        looks.append(since)
        return await look(session, principal, since, limit)

    monkeypatch.setattr(assignments, "_look", counted)
    monkeypatch.setattr(notify.hub, "publish", lambda keys: None)  # nobody hears of it
    waiting = asyncio.create_task(poll(client, worker, since=cursor, wait=1))
    await asyncio.sleep(0.2)
    ticket = await post_ticket(client, demo)
    r = await waiting
    assert ids(r) == [] and r.json()["cursor"] == cursor
    assert len(looks) == 1
    assert ids(await poll(client, worker, since=cursor)) == [ticket]


async def test_a_change_during_a_wait_wakes_it_early(client: httpx.AsyncClient, demo: Demo) -> None:
    worker = demo.headers("worker", GRID)
    cursor = (await poll(client, worker)).json()["cursor"]
    started = time.monotonic()
    waiting = asyncio.create_task(poll(client, worker, since=cursor, wait=10))
    await until_waiting()
    ticket = await post_ticket(client, demo)
    posted = time.monotonic()
    r = await asyncio.wait_for(waiting, 10)
    woke = time.monotonic()
    assert ids(r) == [ticket]
    assert woke - posted < 1, woke - posted
    assert woke - started < 3, woke - started


async def test_a_change_elsewhere_does_not_end_the_wait(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    worker = demo.headers("worker", GRID)
    cursor = (await poll(client, worker)).json()["cursor"]
    started = time.monotonic()
    waiting = asyncio.create_task(poll(client, worker, since=cursor, wait=1))
    await until_waiting()
    await post_ticket(client, demo, other_grid(demo))
    r = await asyncio.wait_for(waiting, 10)
    assert ids(r) == []
    assert time.monotonic() - started >= 0.9


async def test_etag_answers_304_until_something_changes(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    worker = demo.headers("worker", GRID)
    first = await post_ticket(client, demo)
    r = await poll(client, worker)
    etag = r.headers["ETag"]
    assert r.headers["Cache-Control"] == "no-store"

    r = await poll(client, worker, etag)
    assert r.status_code == 304
    assert r.headers["ETag"] == etag
    assert r.content == b""

    second = await post_ticket(client, demo)
    r = await poll(client, worker, etag)
    assert ids(r) == [second, first]
    assert r.headers["ETag"] != etag
    assert (await poll(client, worker, r.headers["ETag"])).status_code == 304


async def test_etag_long_poll_is_304_after_the_wait_and_200_on_a_change(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    worker = demo.headers("worker", GRID)
    etag = (await poll(client, worker)).headers["ETag"]
    started = time.monotonic()
    r = await poll(client, worker, etag, wait=1)
    assert r.status_code == 304
    assert time.monotonic() - started >= 0.9

    waiting = asyncio.create_task(poll(client, worker, etag, wait=10))
    await until_waiting()
    ticket = await post_ticket(client, demo)
    posted = time.monotonic()
    r = await asyncio.wait_for(waiting, 10)
    assert ids(r) == [ticket]
    assert time.monotonic() - posted < 1


async def test_a_member_sees_a_whistle_addressed_to_them(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    worker = demo.headers("worker", GRID)
    ticket = await post_ticket(client, demo)
    r = await client.post(f"/v1/tickets/{ticket}/sign", json={}, headers=worker)
    assert r.status_code == 200, r.text
    r = await client.get(f"/v1/grids/{GRID}", headers=worker)
    assert r.status_code == 200, r.text
    members = r.json()["properties"]["members"]
    assert members, "the demo attaches members to every grid"
    staff_id = members[0]["id"]
    person = next(p for p in demo.people if p.get("staff_id") == staff_id)
    member = {"Authorization": f"Bearer {person['key']}"}
    colleague = next(
        p
        for p in demo.people
        if p["role"] == "member" and p["unit"] == person["unit"] and p["staff_id"] != staff_id
    )
    colleague_headers = {"Authorization": f"Bearer {colleague['key']}"}

    r = await poll(client, member)
    assert ids(r) == []
    cursor = r.json()["cursor"]
    waiting = asyncio.create_task(poll(client, member, since=cursor, wait=10))
    await until_waiting()
    r = await client.post(
        f"/v1/tickets/{ticket}/whistle",
        json={"reason": "路面塌陷需城管配合处置", "members": [staff_id]},
        headers=worker,
    )
    assert r.status_code == 200, r.text
    blown = time.monotonic()
    r = await asyncio.wait_for(waiting, 10)
    assert time.monotonic() - blown < 1
    (item,) = r.json()["items"]
    assert item["type"] == "whistle"
    assert item["ticket"]["id"] == ticket
    assert item["summons"]["staff_id"] == staff_id
    assert item["summons"]["reported_at"] is None

    (listed,) = (await poll(client, member)).json()["items"]
    assert listed["type"] == "whistle"
    assert listed["summons"]["id"] == item["summons"]["id"]
    # Summoned by name: a colleague of the same department is not.
    assert ids(await poll(client, colleague_headers)) == []

    # Once reported in, the whistle leaves the full poll.
    r = await client.post(f"/v1/tickets/{ticket}/report-in", json={}, headers=member)
    assert r.status_code == 200, r.text
    assert ids(await poll(client, member)) == []


@pytest.mark.parametrize("role", ["viewer", "agent", "dispatcher", "admin"])
async def test_only_field_staff_may_poll(client: httpx.AsyncClient, demo: Demo, role: str) -> None:
    r = await poll(client, demo.headers(role))
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "forbidden"


async def test_polling_needs_a_key(client: httpx.AsyncClient, demo: Demo) -> None:
    r = await client.get("/v1/assignments")
    assert r.status_code == 401


@pytest.mark.parametrize(
    "since",
    [
        "not a cursor!",
        "%%%",
        cursors.encode(["x"], kind="assignments"),
        cursors.encode([None], kind="assignments"),
        cursors.encode([1, 2], kind="assignments"),
        cursors.encode([], kind="assignments"),
        "x" * 513,
        cursors.encode([1], kind="tickets"),
    ],
)
async def test_a_malformed_since_is_422(client: httpx.AsyncClient, demo: Demo, since: str) -> None:
    r = await poll(client, demo.headers("worker", GRID), since=since)
    assert r.status_code == 422, r.text
    assert r.json()["code"] in ("unprocessable", "validation_error")


@pytest.mark.parametrize("wait", ["-1", "31", "soon"])
async def test_a_wait_out_of_range_is_422(client: httpx.AsyncClient, demo: Demo, wait: str) -> None:
    r = await poll(client, demo.headers("worker", GRID), wait=wait)
    assert r.status_code == 422, r.text


async def signed_ticket_and_member(
    client: httpx.AsyncClient, demo: Demo
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """A ticket signed by GRID's worker, and a member attached to GRID (person, headers)."""
    worker = demo.headers("worker", GRID)
    ticket = await post_ticket(client, demo)
    r = await client.post(f"/v1/tickets/{ticket}/sign", json={}, headers=worker)
    assert r.status_code == 200, r.text
    r = await client.get(f"/v1/grids/{GRID}", headers=worker)
    staff_id = r.json()["properties"]["members"][0]["id"]
    person = next(p for p in demo.people if p.get("staff_id") == staff_id)
    return ticket, person, {"Authorization": f"Bearer {person['key']}"}


async def test_paging_does_not_lose_summons_that_share_a_change(
    client: httpx.AsyncClient, demo: Demo, backend: str
) -> None:
    ticket, person, member = await signed_ticket_and_member(client, demo)
    start = (await poll(client, member)).json()["cursor"]
    r = await client.post(
        f"/v1/tickets/{ticket}/whistle",
        json={
            "reason": "需供水部门到场",
            "members": [person["staff_id"]],
            "departments": [person["unit"]],
        },
        headers=demo.headers("worker", GRID),
    )
    assert r.status_code == 200, r.text
    everything = (await poll(client, member, since=start)).json()["items"]
    assert len(everything) == 2
    # Every row of a change takes its own number, on both databases (hotline.change).
    assert len({i["change"] for i in everything}) == 2

    seen: list[int] = []
    cursor = start
    for _ in range(5):
        r = await poll(client, member, since=cursor, limit=1)
        seen += [i["summons"]["id"] for i in r.json()["items"]]
        cursor = r.json()["cursor"]
        if not r.json()["more"]:
            break
    assert sorted(seen) == sorted(i["summons"]["id"] for i in everything)


def moved_by_another_process(db: str, ticket: int, grid: str) -> None:
    """What another API process does to the SQLite file: move the ticket to ``grid`` and take
    the next change number, committed without a word to this process's hub."""
    con = sqlite3.connect(db, timeout=10, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        (seq,) = con.execute(
            "UPDATE change_counter SET value = value + 1 WHERE id = 1 RETURNING value"
        ).fetchone()
        con.execute(
            "UPDATE ticket SET grid_code = ?, unit_code = ?, change_seq = ? WHERE id = ?",
            (grid, grid, seq, ticket),
        )
        con.execute("COMMIT")
    finally:
        con.close()


async def test_sqlite_a_fresh_process_hears_a_change_made_elsewhere(
    app: Any, client: httpx.AsyncClient, demo: Demo, settings: Settings, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the change-counter watcher is SQLite's; PostgreSQL uses LISTEN/NOTIFY")
    worker = demo.headers("worker", GRID)
    late = []
    for _ in range(3):
        moved = await post_ticket(client, demo, other_grid(demo))
        cursor = (await poll(client, worker)).json()["cursor"]
        # As in a process that has just started: its watcher has not read the counter yet.
        await notify.hub.stop()
        await notify.hub.start(
            settings.database_url, app.state.sessionmaker, workflow_repository.keys_between
        )
        waiting = asyncio.create_task(poll(client, worker, since=cursor, wait=3))
        deadline = time.monotonic() + 5
        while notify.hub.waiting < 1:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.03)  # it has looked (well before the watcher's first tick)
        moved_by_another_process(str(settings.data_dir / "hotline.db"), moved, GRID)
        changed = time.monotonic()
        r = await asyncio.wait_for(waiting, 10)
        assert ids(r) == [moved]
        late.append(round(time.monotonic() - changed, 3))
    assert max(late) < 1, late


async def test_sqlite_a_change_elsewhere_wakes_only_the_polls_it_concerns(
    app: Any, client: httpx.AsyncClient, demo: Demo, settings: Settings, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the change-counter watcher is SQLite's; PostgreSQL uses LISTEN/NOTIFY")
    moved = await post_ticket(client, demo, other_grid(demo))
    others = [p for p in demo.people if p["role"] == "worker" and p["unit"] != GRID][:20]
    cursor = (await poll(client, demo.headers("worker", GRID))).json()["cursor"]
    with Looks(app) as looks:
        mine = asyncio.create_task(poll(client, demo.headers("worker", GRID), since=cursor, wait=5))
        # They outwait the test's window: a poll whose wait runs out looks once more.
        waiting = [
            asyncio.create_task(
                poll(client, {"Authorization": f"Bearer {p['key']}"}, since=cursor, wait=6)
            )
            for p in others
            if p["unit"] != other_grid(demo)
        ]
        await looks.until(len(waiting) + 1)
        await until_waiting(len(waiting) + 1)
        looks.count = 0
        moved_by_another_process(str(settings.data_dir / "hotline.db"), moved, GRID)
        assert ids(await asyncio.wait_for(mine, 5)) == [moved]
        woken = looks.count
    assert [ids(r) for r in await asyncio.gather(*waiting)] == [[]] * len(waiting)
    assert woken <= 2, f"{woken} looks for one concerned poll"


async def test_sqlite_a_change_makes_only_the_polls_it_concerns_look_again(
    app: Any, client: httpx.AsyncClient, demo: Demo, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("the change-counter watcher is SQLite's; PostgreSQL uses LISTEN/NOTIFY")
    others = [p for p in demo.people if p["role"] == "worker" and p["unit"] != GRID][:20]
    cursor = (await poll(client, demo.headers("worker", GRID))).json()["cursor"]
    with Looks(app) as looks:
        waiting = [
            asyncio.create_task(
                poll(client, {"Authorization": f"Bearer {p['key']}"}, since=cursor, wait=3)
            )
            for p in others
        ]
        await looks.until(len(others))
        await until_waiting(len(others))
        await asyncio.sleep(notify.WATCH_SECONDS * 2)  # the watcher has its baseline
        looks.count = 0
        await post_ticket(client, demo)  # GRID's: none of the waiters' business
        await asyncio.sleep(notify.WATCH_SECONDS * 4)
        woken = looks.count
    assert [ids(r) for r in await asyncio.gather(*waiting)] == [[]] * len(others)
    assert woken == 0, f"{woken} of {len(others)} unconcerned polls looked again"


async def test_since_tells_the_old_grid_that_a_ticket_moved_away(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    worker = demo.headers("worker", GRID)
    ticket = await post_ticket(client, demo)
    r = await poll(client, worker)
    assert ids(r) == [ticket]
    cursor = r.json()["cursor"]
    r = await client.post(
        f"/v1/tickets/{ticket}/return",
        json={"reason_code": "not_our_area", "reason": "塌陷路段属邻近网格"},
        headers=worker,
    )
    assert r.status_code == 200, r.text
    r = await poll(client, worker, since=cursor)
    assert ids(r) == [ticket]  # the return request is listed
    cursor = r.json()["cursor"]
    r = await client.post(
        f"/v1/tickets/{ticket}/return-decision",
        json={"approve": True, "unit_code": other_grid(demo), "note": "改派邻近网格"},
        headers=demo.headers("dispatcher"),
    )
    assert r.status_code == 200, r.text
    assert ids(await poll(client, worker)) == []  # a full poll no longer lists it

    items = (await poll(client, worker, since=cursor)).json()["items"]
    assert any(
        (i.get("ticket") or {}).get("id") == ticket or i.get("ticket_id") == ticket for i in items
    ), items
    # Once, by id only: the old grid's worker learns it left, not what it says now.
    (left,) = [i for i in items if i["ticket_id"] == ticket]
    assert (left["type"], left["ticket"]) == ("left", None)
    later = (await poll(client, worker, since=cursor)).json()["cursor"]
    assert (await poll(client, worker, since=later)).json()["items"] == []
    # The new grid's worker hears of it as theirs.
    theirs = demo.headers("worker", other_grid(demo))
    assert ticket in ids(await poll(client, theirs))
