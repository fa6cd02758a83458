from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text


class TestHealth:
    async def test_healthz_answers_without_a_key(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/healthz")
        assert r.json()["status"] == "ok"
        assert isinstance(r.json()["pid"], int)

    async def test_readyz_reports_schema_at_head(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/readyz")
        assert r.status_code == 200
        schema = r.json()["checks"]["schema"]
        assert schema["current"] == schema["head"] is not None

    async def test_readyz_is_503_when_schema_is_behind(
        self, app: Any, client: httpx.AsyncClient
    ) -> None:
        async with app.state.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = 'old'"))
        try:
            r = await client.get("/readyz")
            assert r.status_code == 503
            assert r.json()["checks"]["schema"]["current"] == "old"
        finally:
            from hotline.db import migrate

            async with app.state.engine.begin() as conn:
                await conn.execute(
                    text("UPDATE alembic_version SET version_num = :v"),
                    {"v": migrate.head_revision()},
                )
