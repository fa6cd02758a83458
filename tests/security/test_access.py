"""Every route with every role and with no key: only documented answers, never a 500; keys are
throttled after repeated failures."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from hotline.auth.roles import Role
from tests.conftest import Demo

PUBLIC = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
}


def routes(app: Any) -> list[tuple[str, str, set[int]]]:
    spec = app.openapi()["paths"]
    found = []
    for route in app.routes:
        if not isinstance(route, APIRoute) or route.path in PUBLIC:
            continue
        if not route.path.startswith("/v1"):
            continue
        for method in route.methods:
            documented = {int(code) for code in spec[route.path][method.lower()]["responses"]}
            found.append((method, route.path, documented))
    return sorted(found)


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


class TestMatrix:
    async def test_every_route_answers_only_documented_statuses(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        people: list[tuple[str, dict[str, str]]] = [("none", {})]
        people += [(role.value, demo.headers(role.value)) for role in Role]
        surprises = []
        for method, path, documented in routes(app):
            for who, headers in people:
                r = await client.request(
                    method,
                    concrete(path),
                    headers=headers,
                    json={} if method in ("POST", "PUT", "PATCH") else None,
                )
                allowed = documented | {422}
                if r.status_code not in allowed or r.status_code >= 500:
                    surprises.append((method, path, who, r.status_code))
                if who == "none":
                    assert r.status_code == 401, (method, path)
                if r.status_code >= 400:
                    assert r.headers["content-type"] == "application/problem+json", (
                        method,
                        path,
                        who,
                    )
        assert surprises == []

    async def test_the_viewer_reads_no_ticket_path(
        self, app: Any, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        for method, path, _ in routes(app):
            if method == "GET" and "/tickets" in path:
                r = await client.get(concrete(path), headers=demo.headers("viewer"))
                assert r.status_code in (403, 404), path


class TestThrottle:
    async def test_an_address_that_keeps_guessing_gets_429_for_its_bad_keys_only(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        bad = {"Authorization": "Bearer hl_000000000000_guess"}
        codes = [(await client.get("/v1/categories", headers=bad)).status_code for _ in range(21)]
        assert codes[:20] == [401] * 20
        assert codes[20] == 429
        refused = await client.get("/v1/categories", headers=bad)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        # A good key from the same address (a township office behind one NAT) still works.
        good = await client.get("/v1/categories", headers=demo.headers("agent"))
        assert good.status_code == 200
        body = {"kind": "help", "category": "utility.heating", "content": "暖气不热"}
        made = await client.post("/v1/tickets", json=body, headers=demo.headers("agent"))
        assert made.status_code == 201
        # Intake checks its key inside its own statement: its bad keys count and are refused too.
        assert (await client.post("/v1/tickets", json=body, headers=bad)).status_code == 429

    async def test_open311_api_key_guesses_are_throttled_with_the_bearer_ones(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        guess = {"api_key": "hl_000000000000_guess"}
        codes = [
            (await client.get("/open311/v2/services.json", params=guess)).status_code
            for _ in range(10)
        ]
        form = {"api_key": "hl_000000000000_guess", "service_code": "urban.road"}
        for _ in range(10):
            codes.append((await client.post("/open311/v2/requests.json", data=form)).status_code)
        assert codes == [403] * 20
        refused = await client.get("/open311/v2/services.json", params=guess)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert refused.json()[0]["code"] == 429  # the spec's error list
        # The bearer and Open311 keys share the address's count; good keys pass either way.
        bad = {"Authorization": "Bearer hl_000000000000_guess"}
        assert (await client.get("/v1/categories", headers=bad)).status_code == 429
        agent_key = demo.headers("agent")["Authorization"].removeprefix("Bearer ")
        r = await client.get("/open311/v2/services.json", params={"api_key": agent_key})
        assert r.status_code == 200
        assert (await client.get("/open311/v2/services.json")).status_code == 200

    @pytest.mark.parametrize("header", ["Bearer ", "Bearer x" * 100, "Token abc"])
    async def test_malformed_authorization_is_401(
        self, client: httpx.AsyncClient, header: str
    ) -> None:
        r = await client.get("/v1/categories", headers={"Authorization": header})
        assert r.status_code == 401


@pytest.mark.slow
def test_a_revoked_key_stops_working_at_once_in_every_process(settings: Any) -> None:
    import json
    import os
    import subprocess
    import sys

    from tests.server import serve

    # Forty refusals in a row from one address: not a guesser to throttle here.
    with serve(
        settings, "--demo", workers=2, env={"HOTLINE_SECURITY__BAD_KEY_LIMIT": "1000"}
    ) as server:
        people = json.loads((server.data_dir / "demo-keys.json").read_text())
        key = next(p["key"] for p in people if p["role"] == "agent")
        headers = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{server.base}/v1/categories", headers=headers).status_code == 200
        body = {"kind": "help", "category": "urban.road", "content": "路灯不亮"}
        # Both processes have the key in their caches (intake reads it without a statement).
        for _ in range(10):
            with httpx.Client(base_url=server.base) as http:
                assert http.post("/v1/tickets", json=body, headers=headers).status_code == 201
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        env["HOTLINE_DATA_DIR"] = str(settings.data_dir)
        if settings.database.url:
            env["HOTLINE_DATABASE__URL"] = settings.database.url
        subprocess.run(
            [sys.executable, "-m", "hotline", "keys", "revoke", key.split("_")[1]],
            env=env,
            check=True,
            capture_output=True,
        )
        pids = set()
        for _ in range(20):
            with httpx.Client(base_url=server.base) as http:  # new connections: both processes
                assert http.get("/v1/categories", headers=headers).status_code == 401
                assert http.post("/v1/tickets", json=body, headers=headers).status_code == 401
                pids.add(http.get("/healthz").json()["pid"])
        assert len(pids) == 2


@pytest.mark.slow
@pytest.mark.parametrize(
    ("trusted", "apart"), [(None, True), ("10.9.9.9", False)], ids=["loopback", "elsewhere"]
)
def test_forwarded_addresses_count_apart_only_from_a_trusted_proxy(
    settings: Any, trusted: str | None, apart: bool
) -> None:
    """Behind a trusted proxy (loopback by default, HOTLINE_SERVER__TRUSTED_PROXIES otherwise)
    each forwarded client address is throttled on its own; from an untrusted peer the header is
    ignored and the peer's own address counts."""
    from tests.server import serve

    env = {"HOTLINE_SECURITY__BAD_KEY_LIMIT": "3"}
    if trusted is not None:
        env["HOTLINE_SERVER__TRUSTED_PROXIES"] = trusted
    with serve(settings, "--demo", env=env) as server:
        url = f"{server.base}/v1/categories"

        def status(client: str) -> int:
            headers = {"Authorization": "Bearer hl_000000000000_guess", "X-Forwarded-For": client}
            return httpx.get(url, headers=headers).status_code

        assert [status("10.0.0.1") for _ in range(4)] == [401, 401, 401, 429]
        assert status("10.0.0.2") == (401 if apart else 429)
