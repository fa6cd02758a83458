"""Callers' names and phones (DESIGN.md §8) on every read path, for every kind of reader.

One county story: six tickets with six distinct callers (plain, confidential, a report, one from
triage dispatched by hand, one merged into another, a department's), taken through sign,
whistle, report-in, return and extension requests, reply, callback and merge, with a webhook
subscribed to everything. Then every reader walks every GET path, and each caller's name, full
phone and masked phone are looked for in everything each reader got back:

- the centre (agent, dispatcher, arbiter, admin) may see every caller in full;
- the assignee sees their own tickets' callers in full, unless confidential;
- other field readers (the grid's other worker, a department member, a summoned member) see a
  masked phone and a name, never a confidential caller;
- a worker of another grid, the viewer, metrics, clusters, Open311, webhooks, the dashboard,
  the organisation reads and the logs never carry a caller at all.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from hotline.auth.roles import Role
from hotline.webhook import delivery
from hotline.webhook.outbox import EVENT_TYPES
from tests.conftest import Demo, mint

GRID = "210124100002001"  # 东湖社区第一网格: where 东湖公园 routes
OTHER_GRID = "210124100001002"
WATER = "210124-D-WATER"
PLACE = {"address": "东湖公园北侧"}

# Levels of what a reader may see of one caller.
FULL, MASKED, HIDDEN, NONE = "full", "masked", "hidden", "none"


@dataclass(frozen=True)
class Caller:
    name: str
    phone: str

    @property
    def masked(self) -> str:
        return f"{self.phone[:3]}****{self.phone[-4:]}"

    def found_in(self, text: str) -> set[str]:
        """Which of name, phone and masked phone ``text`` carries."""
        found = {
            kind for kind, value in (("name", self.name), ("phone", self.phone)) if value in text
        }
        return found | ({"masked"} if self.masked in text else set())


# Distinct callers, none of whose names or numbers occur in the demo county.
PLAIN = Caller("欧阳甲一", "13700000001")
SECRET = Caller("欧阳乙二", "13700000002")
REPORTER = Caller("欧阳丙三", "13700000003")
TRIAGED = Caller("欧阳丁四", "13700000004")
REPEATER = Caller("欧阳戊五", "13700000005")
WATERY = Caller("欧阳己六", "13700000006")
CALLERS = (PLAIN, SECRET, REPORTER, TRIAGED, REPEATER, WATERY)
ALLOWED = {
    FULL: {"name", "phone", "masked"},
    MASKED: {"name", "masked"},
    HIDDEN: set(),
    NONE: set(),
}

# What each reader may see of each caller (DESIGN.md §8). The worker owns the grid's tickets; the
# summoned member was whistled by name to PLAIN's ticket (REPEATER was merged into it) and
# belongs to the department of WATERY's ticket, which the other member of that department signed.
CENTRE_VIEW = dict.fromkeys(CALLERS, FULL)
EXPECTED: dict[str, dict[Caller, str]] = {
    "agent": CENTRE_VIEW,
    "dispatcher": CENTRE_VIEW,
    # A confidential caller only the call-takers see (issue 18, item 5).
    "arbiter": {**CENTRE_VIEW, SECRET: HIDDEN, REPORTER: HIDDEN},
    "admin": {**CENTRE_VIEW, SECRET: HIDDEN, REPORTER: HIDDEN},
    "viewer": dict.fromkeys(CALLERS, NONE),
    "assignee": {
        PLAIN: FULL,
        SECRET: HIDDEN,
        REPORTER: HIDDEN,
        TRIAGED: FULL,
        REPEATER: FULL,
        WATERY: MASKED,
    },
    "colleague": {
        PLAIN: MASKED,
        SECRET: HIDDEN,
        REPORTER: HIDDEN,
        TRIAGED: MASKED,
        REPEATER: MASKED,
        WATERY: MASKED,
    },
    "other_grid": dict.fromkeys(CALLERS, NONE),
    "public": dict.fromkeys(CALLERS, NONE),
    "summoned": {**dict.fromkeys(CALLERS, NONE), PLAIN: MASKED, REPEATER: MASKED, WATERY: MASKED},
    "member": {**dict.fromkeys(CALLERS, NONE), WATERY: FULL},
}
# Paths that never carry a caller, whoever reads them.
NEVER = (
    "/v1/metrics",
    "/v1/clusters",
    "/open311",
    "/v1/webhooks",
    "/v1/audit",
    "/v1/grids",
    "/v1/units",
    "/v1/staff",
    "/v1/categories",
    "/v1/policies",
    "/v1/catalogue-rules",
    "/dashboard",
    "/metrics",
    "webhook payload",
    "log",
)


@dataclass
class Seen:
    """Everything each reader got back, by the path that answered it."""

    texts: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def add(self, who: str, path: str, text: str) -> None:
        self.texts.setdefault(who, []).append((path, text))

    def leaks(self, who: str, caller: Caller, level: str) -> list[tuple[str, set[str]]]:
        out = []
        for path, text in self.texts.get(who, []):
            allowed = set() if path.startswith(NEVER) else ALLOWED[level]
            extra = caller.found_in(text) - allowed
            if extra:
                out.append((path, extra))
        return out


class Receiver:
    def __init__(self) -> None:
        self.bodies: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(request.content.decode())
        return httpx.Response(200)


@dataclass
class County:
    """The story's tickets and readers."""

    tickets: dict[Caller, dict[str, Any]]
    readers: dict[str, dict[str, str]]
    hook_id: int
    receiver: Receiver


async def _post(
    client: httpx.AsyncClient, demo: Demo, who: Caller, confidential: bool = False, **fields: Any
) -> Any:
    body = {
        "kind": "complaint",
        "category": "urban.road",
        "content": "东湖公园北侧路面坑洼，井盖缺失",
        "caller": {
            "name": who.name,
            "phone": who.phone,
            **({"confidential": True} if confidential else {}),
        },
        "location": PLACE,
        **fields,
    }
    r = await client.post("/v1/tickets", json=body, headers=demo.headers("agent"))
    assert r.status_code == 201, r.text
    return r.json()


async def _act(
    client: httpx.AsyncClient,
    seen: Seen,
    who: str,
    headers: dict[str, str],
    ticket: dict[str, Any],
    action: str,
    body: dict[str, Any] | None = None,
) -> None:
    path = f"/v1/tickets/{ticket['id']}/{action}"
    r = await client.post(path, json=body or {}, headers=headers)
    assert r.status_code == 200, (path, r.text)
    seen.add(who, path, r.text)


async def tell_the_story(app: Any, client: httpx.AsyncClient, demo: Demo, seen: Seen) -> County:
    admin = demo.headers("admin")
    receiver = Receiver()
    app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(receiver))
    r = await client.post(
        "/v1/webhooks",
        json={"url": "https://sms.example/hook", "event_types": list(EVENT_TYPES)},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    hook_id = r.json()["id"]

    r = await client.post(
        "/v1/staff",
        json={"name": "同格网格员", "role": "worker", "unit_code": GRID},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    colleague, _ = await mint(app, Role.worker, "同格网格员", GRID, r.json()["id"])
    r = await client.get(f"/v1/grids/{GRID}", headers=admin)
    attached = {m["id"] for m in r.json()["properties"]["members"]}
    water = [p for p in demo.people if p["role"] == "member" and p["unit"] == WATER]
    (summoned,) = [p for p in water if p["staff_id"] in attached]
    (member,) = [p for p in water if p["staff_id"] not in attached]
    readers = {
        **{role: demo.headers(role) for role in ("agent", "dispatcher", "arbiter", "admin")},
        "viewer": demo.headers("viewer"),
        "assignee": demo.headers("worker", GRID),
        "colleague": colleague,
        "other_grid": demo.headers("worker", OTHER_GRID),
        "summoned": {"Authorization": f"Bearer {summoned['key']}"},
        "member": {"Authorization": f"Bearer {member['key']}"},
    }
    worker, agent, dispatcher = readers["assignee"], readers["agent"], readers["dispatcher"]

    tickets = {
        PLAIN: await _post(client, demo, PLAIN),
        REPEATER: await _post(client, demo, REPEATER, content="东湖公园北侧井盖缺失，有人摔倒"),
        SECRET: await _post(client, demo, SECRET, confidential=True),
        REPORTER: await _post(client, demo, REPORTER, kind="report", content="有人倾倒渣土"),
        TRIAGED: await _post(client, demo, TRIAGED, location={"address": "火星基地一号"}),
        WATERY: await _post(client, demo, WATERY, category="utility.water", content="停水两天"),
    }
    assert tickets[TRIAGED]["status"] == "triage"
    assert tickets[WATERY]["route"]["unit_code"] == WATER

    await _act(
        client, seen, "agent", agent, tickets[REPEATER], "merge", {"into": tickets[PLAIN]["id"]}
    )
    await _act(
        client, seen, "dispatcher", dispatcher, tickets[TRIAGED], "dispatch", {"unit_code": GRID}
    )
    await _act(client, seen, "assignee", worker, tickets[PLAIN], "sign")
    await _act(
        client,
        seen,
        "assignee",
        worker,
        tickets[PLAIN],
        "whistle",
        {"reason": "需要供水配合", "members": [summoned["staff_id"]]},
    )
    await _act(
        client, seen, "summoned", readers["summoned"], tickets[PLAIN], "report-in", {"note": "已到"}
    )
    await _act(client, seen, "assignee", worker, tickets[PLAIN], "reply", {"text": "已修补"})
    await _act(
        client,
        seen,
        "agent",
        agent,
        tickets[PLAIN],
        "callback",
        {"reached": True, "resolution": "resolved", "satisfaction": "satisfied"},
    )
    for caller in (SECRET, TRIAGED):
        await _act(client, seen, "assignee", worker, tickets[caller], "sign")
    await _act(
        client,
        seen,
        "assignee",
        worker,
        tickets[SECRET],
        "extension",
        {"days": 2, "reason": "等材料"},
    )
    await _act(
        client,
        seen,
        "assignee",
        worker,
        tickets[REPORTER],
        "return",
        {"reason_code": "not_our_duty", "reason": "属执法部门"},
    )
    await _act(client, seen, "dispatcher", dispatcher, tickets[TRIAGED], "note", {"text": "已督促"})
    await _act(client, seen, "member", readers["member"], tickets[WATERY], "sign")
    # A hot spot of the grid's road tickets, so the cluster reads have members to show.
    rule = {"min_size": 2, "window_days": 30, "threshold": 0.1}
    assert (await client.put("/v1/clusters/rule", json=rule, headers=admin)).status_code == 200
    r = await client.post("/v1/clusters/detect", headers=dispatcher)
    assert r.status_code == 200, r.text
    assert r.json()["found"] >= 1
    for ticket in tickets.values():
        seen.add("agent", "/v1/tickets (created)", json.dumps(ticket, ensure_ascii=False))
    return County(tickets, readers, hook_id, receiver)


METRIC_BYS = ("township", "village", "grid", "unit", "line", "category", "kind", "worker")


def ticket_paths(county: County) -> list[str]:
    """Where callers live: read by every reader."""
    paths = []
    for ticket in county.tickets.values():
        paths += [f"/v1/tickets/{ticket['id']}", f"/v1/tickets/{ticket['id']}/events"]
    return [
        *paths,
        "/v1/tickets?kind=report",
        "/v1/triage",
        "/v1/returns",
        "/v1/extensions",
        "/v1/arbitration",
        "/v1/assignments",
        *(f"/v1/callers/history?phone={caller.phone}" for caller in CALLERS),
    ]


def other_paths(county: County) -> dict[str, list[str]]:
    """Paths that never carry a caller, each read by those who may read it."""
    figures = [
        "/v1/metrics/summary",
        *(f"/v1/metrics/breakdown?by={by}" for by in METRIC_BYS),
        "/v1/metrics/timeseries",
        "/v1/clusters",
        "/v1/clusters/rule",
    ]
    organisation = [
        "/v1/grids",
        f"/v1/grids/{GRID}",
        "/v1/units",
        "/v1/staff",
        "/v1/categories",
        "/v1/policies",
        "/v1/catalogue-rules",
    ]
    hook = county.hook_id
    public = [
        "/open311/v2/services.json",
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
        "/open311/v2/requests.json?status=open,closed",
        "/dashboard",
        "/dashboard/static/app.js",
        "/metrics",
    ]
    for ticket in county.tickets.values():
        for fmt in ("json", "xml"):
            public += [
                f"/open311/v2/requests/{ticket['id']}.{fmt}",
                f"/open311/v2/tokens/{ticket['id']}.{fmt}",
            ]
    return {
        "viewer": figures,
        "dispatcher": figures,
        "admin": [
            *figures,
            *organisation,
            "/v1/audit/pii-reads",
            "/v1/webhooks",
            f"/v1/webhooks/{hook}",
            f"/v1/webhooks/{hook}/deliveries",
        ],
        "assignee": organisation,
        "public": public,
    }


async def walk(client: httpx.AsyncClient, county: County, seen: Seen) -> None:
    """Every reader GETs every path it might read, following the ticket list's cursor to its
    end; the public (no key) reads Open311, the dashboard and the Prometheus metrics."""
    others = other_paths(county)
    for who, headers in {**county.readers, "public": {}}.items():
        paths = others.get(who, []) + (ticket_paths(county) if who != "public" else [])
        for path in paths:
            r = await client.get(path, headers=headers)
            assert r.status_code < 500, (who, path, r.status_code)
            seen.add(who, path, r.text)
        if who == "public":
            continue
        cursor = None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            r = await client.get("/v1/tickets", params=params, headers=headers)
            seen.add(who, "/v1/tickets", r.text)
            if r.status_code != 200 or r.json()["next_cursor"] is None:
                break
            cursor = r.json()["next_cursor"]


def ticket_caller(seen: Seen, who: str, ticket: dict[str, Any]) -> Any:
    """The caller object ``who`` got from GET /v1/tickets/{id}, or None when it was refused."""
    for path, text in seen.texts[who]:
        if path == f"/v1/tickets/{ticket['id']}":
            body = json.loads(text)
            return body.get("caller")
    raise AssertionError(f"{who} never read ticket {ticket['id']}")


class TestTheWalk:
    async def test_every_reader_sees_each_caller_only_as_section_8_allows(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, caplog: pytest.LogCaptureFixture
    ) -> None:
        # httpx logs the URL of every request this test's own client sends (the caller history
        # has the phone in its query): the client's log, not the service's. The server's
        # access log is searched in tests/security/test_logs.py. (First: each set_level also
        # sets the capturing handler's level, which the calls below then lower again.)
        caplog.set_level(logging.WARNING, logger="httpx")
        caplog.set_level(logging.DEBUG)
        # What HOTLINE_DATABASE__ECHO=true turns on: every statement (SQLAlchemy's DEBUG, which
        # also logs result rows, is beyond what the service can hide).
        caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
        seen = Seen()
        county = await tell_the_story(app, client, demo, seen)
        await walk(client, county, seen)
        assert await delivery.drain(app.state.sessionmaker, app.state.http) > 0
        for body in county.receiver.bodies:
            seen.add("webhooks", "webhook payload", body)
        log = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
        seen.add("logs", "log", log)

        leaks = {
            (who, caller.name, path, tuple(sorted(kinds)))
            for who in EXPECTED
            for caller in CALLERS
            for path, kinds in seen.leaks(who, caller, EXPECTED[who][caller])
        }
        leaks |= {
            (who, caller.name, path, tuple(sorted(kinds)))
            for who in ("webhooks", "logs")
            for caller in CALLERS
            for path, kinds in seen.leaks(who, caller, NONE)
        }
        assert sorted(leaks) == [], "\n".join(map(str, sorted(leaks)))

        # And they do see what they are meant to: the walk reached the data it checked.
        tickets = county.tickets
        for role in ("agent", "dispatcher", "arbiter", "admin"):
            for caller in CALLERS:
                got = ticket_caller(seen, role, tickets[caller])
                hidden = role in ("arbiter", "admin") and caller in (SECRET, REPORTER)
                expected = (None, None) if hidden else (caller.name, caller.phone)
                assert (got["name"], got["phone"]) == expected, role
        assert ticket_caller(seen, "assignee", tickets[PLAIN])["phone"] == PLAIN.phone
        assert ticket_caller(seen, "assignee", tickets[SECRET])["phone"] is None
        assert ticket_caller(seen, "colleague", tickets[PLAIN])["phone"] == PLAIN.masked
        assert ticket_caller(seen, "summoned", tickets[PLAIN])["phone"] == PLAIN.masked
        assert ticket_caller(seen, "member", tickets[WATERY])["phone"] == WATERY.phone
        assert ticket_caller(seen, "other_grid", tickets[PLAIN]) is None  # a 404 problem
        assert ticket_caller(seen, "viewer", tickets[PLAIN]) is None  # a 403 problem
        assert len(county.receiver.bodies) >= len(CALLERS)
        clusters = dict(seen.texts["dispatcher"])["/v1/clusters"]
        assert any(t["number"] in clusters for t in tickets.values())  # a hot spot with members
        assert "SELECT" in log  # the log was captured, SQL and all


class TestErrors:
    async def test_a_database_error_does_not_carry_the_callers_values(self, app: Any) -> None:
        """Its message ends in tracebacks and logs: it names no bound value."""
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        async with app.state.sessionmaker() as session:
            with pytest.raises(DBAPIError) as caught:
                await session.execute(
                    text("INSERT INTO ticket (caller_name, caller_phone) VALUES (:name, :phone)"),
                    {"name": PLAIN.name, "phone": PLAIN.phone},
                )
        assert "caller_phone" in str(caught.value)
        assert PLAIN.found_in(str(caught.value)) == set()
