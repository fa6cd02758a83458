"""Posting appeals: validation, storage, idempotency, atomicity."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hotline.auth.roles import Role
from hotline.intake import make as service
from hotline.ticket.models import Ticket, TicketEvent
from tests.conftest import Keys, ticket_body


async def count(app: Any, model: Any) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


class TestCreate:
    async def test_agent_creates_a_ticket_in_triage_with_its_first_event(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        r = await client.post("/v1/tickets", json=ticket_body(), headers=keys[Role.agent])
        assert r.status_code == 201, r.text
        ticket = r.json()
        assert ticket["status"] == "triage"
        assert ticket["route"]["method"] == "triage"
        assert ticket["number"].endswith(f"{ticket['id']:06d}")
        assert ticket["caller"] == {
            "name": "张三",
            "phone": "13812345678",
            "confidential": False,
            "masked": False,
        }
        assert ticket["created_at"].endswith("+08:00")
        assert r.headers["Location"] == f"/v1/tickets/{ticket['id']}"
        events = (
            await client.get(f"/v1/tickets/{ticket['id']}/events", headers=keys[Role.agent])
        ).json()
        assert [(e["action"], e["from_status"], e["to_status"]) for e in events] == [
            ("created", None, "triage")
        ]
        assert events[0]["actor"]["role"] == "agent"

    async def test_phone_is_normalised_and_landlines_accepted(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        body = ticket_body(caller={"name": "李四", "phone": "024 8765 4321"})
        r = await client.post("/v1/tickets", json=body, headers=keys[Role.agent])
        assert r.status_code == 201, r.text
        assert r.json()["caller"]["phone"] == "024-87654321"

    async def test_a_report_is_confidential_by_default(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        r = await client.post(
            "/v1/tickets", json=ticket_body(kind="report"), headers=keys[Role.agent]
        )
        assert r.json()["caller"]["confidential"] is True

    @pytest.mark.parametrize("role", [Role.dispatcher, Role.worker, Role.viewer, Role.admin])
    async def test_only_agents_create(
        self, client: httpx.AsyncClient, keys: Keys, role: Role
    ) -> None:
        r = await client.post("/v1/tickets", json=ticket_body(), headers=keys[role])
        assert r.status_code == 403
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "forbidden"


class TestValidation:
    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"kind": "rant"}, "kind"),
            ({"content": ""}, "content"),
            ({"content": "   "}, "content"),
            ({"content": "字" * 4001}, "content"),
            ({"urgency": "soon"}, "urgency"),
            ({"line": "12345-7"}, "line"),
            ({"caller": {"phone": "12345"}}, "caller.phone"),
            ({"location": {"lat": 42.5}}, "location"),
            ({"location": {"lat": 91, "lon": 123}}, "location.lat"),
            ({"location": {"grid_code": "'; drop table ticket; --"}}, "location.grid_code"),
            ({"surprise": 1}, "surprise"),
        ],
    )
    async def test_bad_input_is_422_naming_the_field_and_stores_nothing(
        self, app: Any, client: httpx.AsyncClient, keys: Keys, change: dict[str, Any], field: str
    ) -> None:
        r = await client.post("/v1/tickets", json=ticket_body(**change), headers=keys[Role.agent])
        assert r.status_code == 422
        problem = r.json()
        assert problem["code"] == "validation_error"
        assert field in [e["field"] for e in problem["errors"]]
        assert await count(app, Ticket) == 0

    async def test_unknown_category_is_422_naming_category(
        self, app: Any, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        r = await client.post(
            "/v1/tickets", json=ticket_body(category="no.such"), headers=keys[Role.agent]
        )
        assert r.status_code == 422
        assert r.json()["field"] == "category"
        assert await count(app, Ticket) == 0

    async def test_body_over_64_kib_is_413(self, client: httpx.AsyncClient, keys: Keys) -> None:
        body = ticket_body(content="x" * 70_000)
        r = await client.post("/v1/tickets", json=body, headers=keys[Role.agent])
        assert r.status_code == 413
        assert r.json()["code"] == "payload_too_large"

    async def test_chunked_body_over_64_kib_is_413(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        async def chunks() -> Any:
            for _ in range(80):
                yield b"x" * 1024

        headers = {**keys[Role.agent], "content-type": "application/json"}
        r = await client.post("/v1/tickets", content=chunks(), headers=headers)
        assert r.status_code == 413

    async def test_malformed_json_is_422(self, client: httpx.AsyncClient, keys: Keys) -> None:
        headers = {**keys[Role.agent], "content-type": "application/json"}
        r = await client.post("/v1/tickets", content=b"{not json", headers=headers)
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"


class TestIdempotency:
    async def test_same_key_same_body_returns_the_first_ticket(
        self, app: Any, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        headers = {**keys[Role.agent], "Idempotency-Key": "call-0001"}
        first = await client.post("/v1/tickets", json=ticket_body(), headers=headers)
        again = await client.post("/v1/tickets", json=ticket_body(), headers=headers)
        assert first.status_code == again.status_code == 201
        assert again.json()["id"] == first.json()["id"]
        assert again.headers["Idempotent-Replayed"] == "true"
        assert await count(app, Ticket) == 1

    async def test_same_key_different_body_is_422(
        self, app: Any, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        headers = {**keys[Role.agent], "Idempotency-Key": "call-0002"}
        await client.post("/v1/tickets", json=ticket_body(), headers=headers)
        r = await client.post("/v1/tickets", json=ticket_body(content="另一件事"), headers=headers)
        assert r.status_code == 422
        assert r.json()["field"] == "Idempotency-Key"
        assert await count(app, Ticket) == 1

    async def test_keys_are_per_api_key(
        self, app: Any, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        from tests.conftest import mint

        other, _ = await mint(app, Role.agent, "另一位话务员")
        for headers in (keys[Role.agent], other):
            r = await client.post(
                "/v1/tickets", json=ticket_body(), headers={**headers, "Idempotency-Key": "k"}
            )
            assert r.status_code == 201
        assert await count(app, Ticket) == 2

    async def test_repeated_external_id_returns_the_first_ticket(
        self, app: Any, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        body = ticket_body(external_id="LN-2026-000123")
        first = await client.post("/v1/tickets", json=body, headers=keys[Role.agent])
        again = await client.post("/v1/tickets", json=body, headers=keys[Role.agent])
        assert again.status_code == 201
        assert again.json()["id"] == first.json()["id"]
        assert await count(app, Ticket) == 1

    async def test_twenty_concurrent_identical_posts_create_one_ticket(
        self, app: Any, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        headers = {**keys[Role.agent], "Idempotency-Key": "storm"}
        answers = await asyncio.gather(
            *[client.post("/v1/tickets", json=ticket_body(), headers=headers) for _ in range(20)]
        )
        codes = [a.status_code for a in answers]
        assert set(codes) <= {201, 409}, codes
        assert len({a.json()["id"] for a in answers if a.status_code == 201}) == 1
        for a in answers:
            if a.status_code == 409:
                assert a.json()["code"] == "conflict"
        assert await count(app, Ticket) == 1

    async def test_twenty_concurrent_posts_of_one_external_id_create_one_ticket(
        self, app: Any, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        body = ticket_body(external_id="LN-2026-777")
        answers = await asyncio.gather(
            *[client.post("/v1/tickets", json=body, headers=keys[Role.agent]) for _ in range(20)]
        )
        assert {a.status_code for a in answers} == {201}
        assert len({a.json()["id"] for a in answers}) == 1
        assert await count(app, Ticket) == 1

    async def test_retry_while_first_in_flight_is_409_or_waits_its_turn(
        self,
        app: Any,
        client: httpx.AsyncClient,
        keys: Keys,
        monkeypatch: pytest.MonkeyPatch,
        backend: str,
    ) -> None:
        """PostgreSQL answers the retry 409 at once. On SQLite the writers of a process queue
        (db.session), so the retry waits for the first request and then replays it."""
        entered, release = asyncio.Event(), asyncio.Event()
        original = service.make_ticket

        async def slow(*args: Any, **kwargs: Any) -> Any:
            entered.set()
            await release.wait()
            return await original(*args, **kwargs)

        monkeypatch.setattr(service, "make_ticket", slow)
        headers = {**keys[Role.agent], "Idempotency-Key": "slow-call"}
        first = asyncio.create_task(client.post("/v1/tickets", json=ticket_body(), headers=headers))
        await entered.wait()
        if backend == "postgresql":
            second = await client.post("/v1/tickets", json=ticket_body(), headers=headers)
            release.set()
            assert second.status_code == 409
            assert (await first).status_code == 201
            return
        waiting = asyncio.create_task(
            client.post("/v1/tickets", json=ticket_body(), headers=headers)
        )
        await asyncio.sleep(0.2)
        assert not waiting.done()
        release.set()
        answer, replay = await first, await waiting
        assert answer.status_code == replay.status_code == 201
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.json()["id"] == answer.json()["id"]


class TestAtomicity:
    async def test_failure_mid_intake_leaves_no_ticket_and_no_event(
        self, app: Any, client: httpx.AsyncClient, keys: Keys, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from hotline.change import pipeline

        def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("disk on fire")

        # After the ticket's own INSERT (and its events' on PostgreSQL): nothing may stay.
        monkeypatch.setattr(pipeline, "event", broken)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            r = await http.post("/v1/tickets", json=ticket_body(), headers=keys[Role.agent])
        assert r.status_code == 500
        assert await count(app, Ticket) == 0
        assert await count(app, TicketEvent) == 0
