"""API keys: bearer authentication, roles, hashing."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from hotline.auth.models import ApiKey
from hotline.auth.roles import Role
from tests.conftest import Keys, mint


class TestAuthentication:
    async def test_missing_key_is_401_problem(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/v1/tickets")
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"] == "Bearer"
        assert r.json()["code"] == "unauthenticated"

    async def test_wrong_key_is_401(self, client: httpx.AsyncClient, keys: Keys) -> None:
        real = keys[Role.agent]["Authorization"]
        for bad in (real[:-1] + ("A" if real[-1] != "A" else "B"), "Bearer hl_x_y", "Bearer nope"):
            r = await client.get("/v1/tickets", headers={"Authorization": bad})
            assert r.status_code == 401, bad

    async def test_basic_scheme_is_401(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/v1/tickets", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert r.status_code == 401

    async def test_revoked_key_stops_working(
        self, app: Any, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        from hotline.kit.clock import utcnow

        async with app.state.sessionmaker() as session, session.begin():
            row = await session.get(ApiKey, keys.ids[Role.agent])
            assert row is not None
            row.revoked_at = utcnow()
        r = await client.get("/v1/tickets", headers=keys[Role.agent])
        assert r.status_code == 401

    async def test_only_a_hash_of_the_key_is_stored(self, app: Any) -> None:
        headers, key_id = await mint(app, Role.agent, "话务员")
        key = headers["Authorization"].removeprefix("Bearer ")
        async with app.state.sessionmaker() as session:
            row = await session.scalar(select(ApiKey).where(ApiKey.id == key_id))
        assert row is not None
        assert key not in (row.secret_hash, row.prefix)
        assert len(row.secret_hash) == 64


class TestRoles:
    async def test_wrong_role_is_403_problem_naming_the_role(
        self, client: httpx.AsyncClient, keys: Keys
    ) -> None:
        r = await client.get("/v1/tickets", headers=keys[Role.viewer])
        assert r.status_code == 403
        assert r.json()["detail"].startswith("看板用户无权进行此操作，需要：")
        english = {**keys[Role.viewer], "Accept-Language": "en"}
        r = await client.get("/v1/tickets", headers=english)
        assert r.json()["code"] == "forbidden"
        assert "Role viewer may not do this" in r.json()["detail"]
