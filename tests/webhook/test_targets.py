"""Webhooks cannot be aimed inside (issue 18, item 4): with private targets not allowed, as in
production, a URL reaching a loopback, link-local, private or other non-public address is
refused at subscription and at a change of URL, and checked again before every post.

Nothing here needs the network: names other than ``localhost`` resolve through ``Resolver``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from ipaddress import ip_address
from typing import Any

import httpx
import pytest

from hotline.config import Settings
from hotline.webhook import delivery, targets
from tests.conftest import Demo
from tests.webhook.test_webhooks import ROAD, deliveries

# The outbox drained directly reads get_settings(), which allows private targets in tests.
REFUSING = {"allow_private_targets": False}
PUBLIC = "93.184.215.14"
PUBLIC6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"
# URL → the kind of address it reaches
INSIDE = {
    "http://169.254.169.254/latest/meta-data": "link-local",
    "http://127.0.0.1:9/": "loopback",
    "http://[::1]/": "loopback",
    "http://10.0.0.1/": "private",
    "http://172.16.5.4/hook": "private",
    "http://192.168.1.1/hook": "private",
    "http://[::ffff:127.0.0.1]/": "loopback",
    "http://[::ffff:169.254.169.254]/": "link-local",
    "http://2130706433/": "loopback",  # 127.0.0.1 as resolvers read it
    "http://0x7f.1/": "loopback",
    "http://localhost:8000/hook": "loopback",
    "https://localhost/hook": "loopback",
    "http://[fe80::1]/": "link-local",
    "http://[fc00::1]/": "private",
    "http://0.0.0.0/": "unspecified",
    "http://[::]/": "unspecified",
    "http://224.0.0.1/": "multicast",
    "http://100.64.0.1/": "non-public",  # carrier-grade NAT
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The app as deployed: private targets not allowed."""
    webhooks = settings.webhooks.model_copy(update={"allow_private_targets": False})
    return settings.model_copy(update={"webhooks": webhooks})


class Resolver:
    """``socket.getaddrinfo``, which the event loop's getaddrinfo runs, answering for made-up
    names; any other name resolves as before."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.names: dict[str, list[str]] = {}
        self.asked: list[str] = []
        # name → an event its lookups wait for (they run in the loop's executor threads)
        self.held: dict[str, threading.Event] = {}
        real = socket.getaddrinfo

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if host not in self.names:
                return real(host, port, *args, **kwargs)
            self.asked.append(host)
            if host in self.held:
                self.held[host].wait(10)
            return [
                (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
                if ":" in a
                else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in self.names[host]
            ]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    found = Resolver(monkeypatch)
    found.names["hooks.county.example"] = [PUBLIC, PUBLIC6]
    return found


def receive(app: Any) -> list[httpx.Request]:
    """Every request the app's client sends, answered 200."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return seen


async def post_hook(client: httpx.AsyncClient, demo: Demo, url: str) -> httpx.Response:
    return await client.post(
        "/v1/webhooks",
        json={"url": url, "event_types": ["ticket.created"]},
        headers=demo.headers("admin"),
    )


class TestRefusal:
    @pytest.mark.parametrize(
        ("address", "kind"),
        [
            ("127.0.0.1", "loopback"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.1.2.3", "private"),
            ("169.254.169.254", "link-local"),
            ("fe80::1", "link-local"),
            ("10.0.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.0.1", "private"),
            ("fd12:3456::1", "private"),
            ("0.0.0.0", "unspecified"),
            ("::", "unspecified"),
            ("224.0.0.251", "multicast"),
            ("ff0e::1", "multicast"),
            ("::7f00:1", "reserved"),  # IPv4-compatible 127.0.0.1
            ("100.64.0.1", "non-public"),
        ],
    )
    def test_an_inside_address_is_named(self, address: str, kind: str) -> None:
        assert targets.refusal(ip_address(address)) == kind

    @pytest.mark.parametrize("address", [PUBLIC, PUBLIC6, "8.8.8.8", "::ffff:8.8.8.8"])
    def test_a_public_address_is_allowed(self, address: str) -> None:
        assert targets.refusal(ip_address(address)) is None


class TestSubscribe:
    @pytest.mark.parametrize(("url", "kind"), INSIDE.items())
    async def test_an_inside_target_is_422_naming_why(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, url: str, kind: str
    ) -> None:
        r = await post_hook(client, demo, url)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        problem = r.json()
        assert (problem["code"], problem["reason"]) == ("webhook_target_refused", kind)
        assert kind in problem["detail"]
        assert (await client.get("/v1/webhooks", headers=demo.headers("admin"))).json() == []

    @pytest.mark.parametrize("url", INSIDE)
    async def test_each_is_accepted_when_private_targets_are_allowed(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, url: str
    ) -> None:
        app.state.settings.webhooks.allow_private_targets = True
        r = await post_hook(client, demo, url)
        assert r.status_code == 201, r.text

    async def test_a_name_with_one_inside_address_among_public_ones_is_422(
        self, client: httpx.AsyncClient, demo: Demo, resolver: Resolver
    ) -> None:
        resolver.names["mixed.example"] = [PUBLIC, "10.0.0.5"]
        r = await post_hook(client, demo, "https://mixed.example/hook")
        assert r.status_code == 422, r.text
        assert r.json()["reason"] == "private"
        assert r.json()["detail"] == "目标地址解析为内部地址（private）"

    async def test_a_name_that_does_not_resolve_is_422(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        r = await post_hook(client, demo, "https://nowhere.invalid/hook")
        assert r.status_code == 422, r.text
        assert (r.json()["code"], r.json()["reason"]) == ("webhook_target_refused", "unresolvable")

    async def test_a_public_name_is_subscribed_and_cannot_be_changed_to_an_inside_one(
        self, client: httpx.AsyncClient, demo: Demo, resolver: Resolver
    ) -> None:
        r = await post_hook(client, demo, "https://hooks.county.example/hook")
        assert r.status_code == 201, r.text
        hook = r.json()
        r = await client.patch(
            f"/v1/webhooks/{hook['id']}",
            json={"url": "http://169.254.169.254/latest/meta-data"},
            headers=demo.headers("admin"),
        )
        assert r.status_code == 422, r.text
        assert (r.json()["code"], r.json()["reason"]) == ("webhook_target_refused", "link-local")
        shown = await client.get(f"/v1/webhooks/{hook['id']}", headers=demo.headers("admin"))
        assert shown.json()["url"] == "https://hooks.county.example/hook"

    async def test_a_slow_resolver_holds_up_no_other_write(
        self, client: httpx.AsyncClient, demo: Demo, resolver: Resolver
    ) -> None:
        resolver.names["slow.example"] = [PUBLIC]
        held = resolver.held["slow.example"] = threading.Event()
        subscribing = asyncio.create_task(post_hook(client, demo, "https://slow.example/hook"))
        while "slow.example" not in resolver.asked:
            await asyncio.sleep(0.01)
        try:
            # On SQLite a transaction opened before the lookup would queue this behind it.
            r = await asyncio.wait_for(
                client.post("/v1/tickets", json=ROAD, headers=demo.headers("agent")), 3
            )
            assert r.status_code == 201, r.text
        finally:
            held.set()
        assert (await subscribing).status_code == 201

    async def test_a_stranger_makes_nothing_resolve(
        self, client: httpx.AsyncClient, resolver: Resolver
    ) -> None:
        r = await client.post(
            "/v1/webhooks",
            json={"url": "https://hooks.county.example/h", "event_types": ["ticket.created"]},
        )
        assert r.status_code == 401
        assert resolver.asked == []


class TestDelivery:
    async def test_plain_http_is_posted_to_the_address_that_was_checked(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, resolver: Resolver
    ) -> None:
        seen = receive(app)
        hook = (await post_hook(client, demo, "http://hooks.county.example:8080/hook")).json()
        r = await client.post(f"/v1/webhooks/{hook['id']}/ping", headers=demo.headers("admin"))
        assert r.json()["status"] == "delivered", r.text
        (request,) = seen
        # A second lookup by the client could have answered otherwise (DNS rebinding).
        assert (request.url.host, request.url.port) == (PUBLIC, 8080)
        assert request.headers["host"] == "hooks.county.example:8080"

    async def test_a_name_rebound_inside_after_subscribing_is_never_posted(
        self, app: Any, client: httpx.AsyncClient, demo: Demo, resolver: Resolver
    ) -> None:
        seen = receive(app)
        hook = (await post_hook(client, demo, "https://hooks.county.example/hook")).json()
        resolver.names["hooks.county.example"] = [PUBLIC, "127.0.0.1"]
        r = await client.post(f"/v1/webhooks/{hook['id']}/ping", headers=demo.headers("admin"))
        assert r.status_code == 200, r.text
        ping = r.json()
        assert (ping["status"], ping["attempts"], ping["last_status_code"]) == ("pending", 1, None)
        assert ping["last_error"] == "target resolves to a loopback address"
        assert seen == []

    async def test_a_target_stored_while_allowed_fails_once_they_are_not(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        seen = receive(app)
        app.state.settings.webhooks.allow_private_targets = True
        hook = (await post_hook(client, demo, "http://169.254.169.254/latest/meta-data")).json()
        app.state.settings.webhooks.allow_private_targets = False
        await client.post("/v1/tickets", json=ROAD, headers=demo.headers("agent"))
        assert await delivery.drain(app.state.sessionmaker, app.state.http, **REFUSING) == 1
        r = await client.post(f"/v1/webhooks/{hook['id']}/ping", headers=demo.headers("admin"))
        assert r.json()["last_error"] == "target is a link-local address"
        assert seen == []
        rows = await deliveries(app)
        assert [(d.event_type, d.status, d.attempts, d.last_error) for d in rows] == [
            ("ticket.created", "pending", 1, "target is a link-local address"),
            ("webhook.ping", "pending", 1, "target is a link-local address"),
        ]
