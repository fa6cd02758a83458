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
    async def test_repeated_bad_keys_are_refused_with_429(
        self, client: httpx.AsyncClient, demo: Demo
    ) -> None:
        bad = {"Authorization": "Bearer hl_000000000000_guess"}
        codes = [(await client.get("/v1/categories", headers=bad)).status_code for _ in range(21)]
        assert codes[:20] == [401] * 20
        assert codes[20] == 429
        r = await client.get("/v1/categories", headers=demo.headers("agent"))
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) > 0

    @pytest.mark.parametrize("header", ["Bearer ", "Bearer x" * 100, "Token abc"])
    async def test_malformed_authorization_is_401(
        self, client: httpx.AsyncClient, header: str
    ) -> None:
        r = await client.get("/v1/categories", headers={"Authorization": header})
        assert r.status_code == 401
