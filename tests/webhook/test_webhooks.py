"""Webhooks: the outbox in the change's transaction, Standard Webhooks signatures checked by an
independent implementation, retries, dead letters, timeouts."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hotline.kit.clock import utcnow
from hotline.webhook import delivery
from hotline.webhook.models import Delivery
from tests.conftest import Demo

ROAD = {
    "kind": "complaint",
    "category": "urban.road",
    "content": "路面塌陷",
    "caller": {"name": "张三", "phone": "13812345678"},
    "location": {"address": "东湖公园北侧"},
}


def verify(secret: str, headers: httpx.Headers, body: bytes) -> bool:
    """Written from the Standard Webhooks spec, not from our code."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(expected, part.split(",", 1)[1])
        for part in headers["webhook-signature"].split(" ")
    )


class Receiver:
    """Answers with the given statuses in turn (then 200), and ``body`` and ``headers`` each
    time; records every request."""

    def __init__(
        self,
        *statuses: int,
        hang: bool = False,
        body: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.statuses = list(statuses)
        self.hang = hang
        self.body = body
        self.headers = headers or {}
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.hang:
            await asyncio.sleep(30)
        return httpx.Response(
            self.statuses.pop(0) if self.statuses else 200, text=self.body, headers=self.headers
        )


async def subscribe(
    client: httpx.AsyncClient, demo: Demo, url: str, types: list[str]
) -> dict[str, Any]:
    r = await client.post(
        "/v1/webhooks", json={"url": url, "event_types": types}, headers=demo.headers("admin")
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def use(app: Any, routes: dict[str, Receiver], *, follow_redirects: bool = False) -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return await routes[request.url.host](request)

    app.state.http = httpx.AsyncClient(
        transport=httpx.MockTransport(handler), follow_redirects=follow_redirects
    )


async def deliveries(app: Any) -> list[Delivery]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(Delivery).order_by(Delivery.id))).all())


class TestOutbox:
    async def test_a_dispatched_ticket_is_delivered_signed_without_personal_data(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        sms = Receiver()
        use(app, {"sms.example": sms})
        hook = await subscribe(client, demo, "https://sms.example/hook", ["ticket.dispatched"])
        assert hook["secret"].startswith("whsec_")
        assert (
            "secret"
            not in (await client.get("/v1/webhooks", headers=demo.headers("admin"))).json()[0]
            or (await client.get("/v1/webhooks", headers=demo.headers("admin"))).json()[0]["secret"]
            is None
        )
        r = await client.post("/v1/tickets", json=ROAD, headers=demo.headers("agent"))
        ticket = r.json()
        assert await delivery.drain(app.state.sessionmaker, app.state.http) == 1
        (request,) = sms.requests
        assert verify(hook["secret"], request.headers, request.content)
        body = json.loads(request.content)
        assert body["type"] == "ticket.dispatched"
        data = body["data"]["ticket"]
        assert (data["id"], data["number"], data["state"], data["grid_code"]) == (
            ticket["id"],
            ticket["number"],
            "dispatched",
            "210124100002001",
        )
        assert data["assignee_id"] == ticket["route"]["assignee_id"]
        assert data["deadlines"]["sign_due_at"]
        assert "13812345678" not in request.content.decode()
        assert "张三" not in request.content.decode()

    async def test_a_rolled_back_change_sends_nothing(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        await subscribe(client, demo, "https://sms.example/hook", ["ticket.created"])
        from hotline.change import pipeline

        async def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("crash before commit")

        monkeypatch.setattr(pipeline, "number", broken)  # after the outbox rows are written
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            r = await http.post("/v1/tickets", json=ROAD, headers=demo.headers("agent"))
        assert r.status_code == 500
        assert await deliveries(app) == []

    async def test_only_subscribed_types_are_queued(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        await subscribe(client, demo, "https://a.example/h", ["ticket.closed"])
        r = await client.post("/v1/tickets", json=ROAD, headers=demo.headers("agent"))
        assert await deliveries(app) == []
        await client.post(
            f"/v1/tickets/{r.json()['id']}/answer",
            json={"text": "已答复"},
            headers=demo.headers("agent"),
        )
        assert [d.event_type for d in await deliveries(app)] == ["ticket.closed"]


class TestRetries:
    async def test_fails_twice_then_one_accepted_delivery(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        flaky = Receiver(500, 503)
        use(app, {"flaky.example": flaky})
        await subscribe(client, demo, "https://flaky.example/h", ["ticket.created"])
        await client.post("/v1/tickets", json=ROAD, headers=demo.headers("agent"))
        now = utcnow()
        for step in range(3):
            await delivery.drain(
                app.state.sessionmaker, app.state.http, now=now + timedelta(hours=step)
            )
        await delivery.drain(app.state.sessionmaker, app.state.http, now=now + timedelta(hours=5))
        assert len(flaky.requests) == 3
        assert len({r.headers["webhook-id"] for r in flaky.requests}) == 1
        (row,) = await deliveries(app)
        assert (row.status, row.attempts, row.last_status_code) == ("delivered", 3, 200)

    async def test_after_a_day_it_is_dead_lettered_and_the_endpoint_disabled(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        down = Receiver(*([500] * 100))
        use(app, {"down.example": down})
        hook = await subscribe(client, demo, "https://down.example/h", ["ticket.created"])
        await client.post("/v1/tickets", json=ROAD, headers=demo.headers("agent"))
        now = utcnow()
        for hours in (0, 2, 6, 12, 25):
            await delivery.drain(
                app.state.sessionmaker, app.state.http, now=now + timedelta(hours=hours)
            )
        (row,) = await deliveries(app)
        assert row.status == "dead"
        shown = (
            await client.get(f"/v1/webhooks/{hook['id']}", headers=demo.headers("admin"))
        ).json()
        assert shown["active"] is False
        assert "500" in shown["disabled_reason"]
        listed = (
            await client.get(
                f"/v1/webhooks/{hook['id']}/deliveries",
                params={"status": "dead"},
                headers=demo.headers("admin"),
            )
        ).json()
        assert [d["id"] for d in listed] == [row.id]
        r = await client.post(
            f"/v1/webhooks/{hook['id']}/deliveries/{row.id}/retry", headers=demo.headers("admin")
        )
        assert r.json()["status"] == "pending"

    async def test_a_hanging_receiver_does_not_stall_the_others(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        stuck, fine = Receiver(hang=True), Receiver()
        use(app, {"stuck.example": stuck, "fine.example": fine})
        await subscribe(client, demo, "https://stuck.example/h", ["ticket.created"])
        await subscribe(client, demo, "https://fine.example/h", ["ticket.created"])
        await client.post("/v1/tickets", json=ROAD, headers=demo.headers("agent"))
        started = asyncio.get_running_loop().time()
        await delivery.deliver_due(app.state.sessionmaker, app.state.http, answer_within=0.5)
        assert asyncio.get_running_loop().time() - started < 5
        assert len(fine.requests) == 1
        rows = {d.webhook_id: d for d in await deliveries(app)}
        assert sorted(d.status for d in rows.values()) == ["delivered", "pending"]
        assert any("no answer within" in (d.last_error or "") for d in rows.values())


class TestAdmin:
    async def test_ping_answers_how_it_went(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        use(app, {"ok.example": Receiver()})
        hook = await subscribe(client, demo, "https://ok.example/h", ["ticket.created"])
        r = await client.post(f"/v1/webhooks/{hook['id']}/ping", headers=demo.headers("admin"))
        assert r.status_code == 200, r.text
        assert (r.json()["event_type"], r.json()["status"]) == ("webhook.ping", "delivered")

    @pytest.mark.parametrize(
        "body",
        [
            {"url": "not a url", "event_types": ["ticket.created"]},
            {"url": "https://x.example", "event_types": ["ticket.exploded"]},
            {"url": "https://x.example", "event_types": []},
        ],
    )
    async def test_bad_subscriptions_are_422(
        self, client: httpx.AsyncClient, demo: Demo, body: dict[str, Any]
    ) -> None:
        r = await client.post("/v1/webhooks", json=body, headers=demo.headers("admin"))
        assert r.status_code == 422

    async def test_only_admin_and_delete(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        hook = await subscribe(client, demo, "https://x.example/h", ["ticket.created"])
        assert (
            await client.get("/v1/webhooks", headers=demo.headers("dispatcher"))
        ).status_code == 403
        await client.post("/v1/tickets", json=ROAD, headers=demo.headers("agent"))
        r = await client.delete(f"/v1/webhooks/{hook['id']}", headers=demo.headers("admin"))
        assert r.status_code == 204
        async with app.state.sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(Delivery)) == 0


# What an inside service might answer: none of it may come back through the API.
SECRET = "AKIA-metadata-token-5f1c9e"


class TestFailures:
    """A failed post is kept as its status and a short reason, never the target's answer
    (issue 18, item 4)."""

    async def test_an_error_answer_keeps_its_status_not_its_body(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        use(app, {"leaky.example": Receiver(*([500] * 100), body=f"token={SECRET}")})
        hook = await subscribe(client, demo, "https://leaky.example/h", ["ticket.created"])
        admin = demo.headers("admin")
        r = await client.post(f"/v1/webhooks/{hook['id']}/ping", headers=admin)
        assert (r.json()["last_status_code"], r.json()["last_error"]) == (500, "HTTP 500")
        await client.post("/v1/tickets", json=ROAD, headers=demo.headers("agent"))
        now = utcnow()
        for hours in (0, 25):
            await delivery.drain(
                app.state.sessionmaker, app.state.http, now=now + timedelta(hours=hours)
            )
        shown = (await client.get(f"/v1/webhooks/{hook['id']}", headers=admin)).json()
        assert shown["active"] is False
        assert shown["disabled_reason"].endswith("last: HTTP 500")
        listed = await client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=admin)
        assert {(d["last_status_code"], d["last_error"]) for d in listed.json()} == {
            (500, "HTTP 500")
        }
        for answer in (r, listed):
            assert "token" not in answer.text
        assert all(SECRET not in (d.last_error or "") for d in await deliveries(app))

    async def test_an_answer_that_is_not_http_is_not_quoted(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(65536)
            writer.write(f"{SECRET} is not a status line\r\n\r\n".encode())
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            hook = await subscribe(client, demo, f"http://127.0.0.1:{port}/", ["ticket.created"])
            r = await client.post(f"/v1/webhooks/{hook['id']}/ping", headers=demo.headers("admin"))
        finally:
            server.close()
            await server.wait_closed()
        assert (r.json()["last_status_code"], r.json()["last_error"]) == (
            None,
            "not an HTTP answer",
        )
        assert SECRET not in r.text

    async def test_a_refused_connection_says_so(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]
        hook = await subscribe(client, demo, f"http://127.0.0.1:{port}/", ["ticket.created"])
        r = await client.post(f"/v1/webhooks/{hook['id']}/ping", headers=demo.headers("admin"))
        assert r.json()["last_error"] == "connection refused"

    async def test_a_redirect_is_not_followed_even_by_a_client_that_would(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        metadata = Receiver(body=SECRET)
        moved = Receiver(302, headers={"location": "http://169.254.169.254/latest/meta-data"})
        use(app, {"moved.example": moved, "169.254.169.254": metadata}, follow_redirects=True)
        hook = await subscribe(client, demo, "https://moved.example/h", ["ticket.created"])
        r = await client.post(f"/v1/webhooks/{hook['id']}/ping", headers=demo.headers("admin"))
        assert (r.json()["last_status_code"], r.json()["last_error"]) == (302, "HTTP 302")
        assert len(moved.requests) == 1
        assert metadata.requests == []


class TestConcurrency:
    async def test_two_deliverers_never_post_one_row_twice(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        receiver = Receiver()
        use(app, {"r.example": receiver})
        await subscribe(client, demo, "https://r.example/h", ["ticket.created"])
        for _ in range(12):
            await client.post("/v1/tickets", json=ROAD, headers=demo.headers("agent"))
        await asyncio.gather(
            delivery.drain(app.state.sessionmaker, app.state.http),
            delivery.drain(app.state.sessionmaker, app.state.http),
        )
        ids = [r.headers["webhook-id"] for r in receiver.requests]
        assert len(ids) == len(set(ids)) == 12
