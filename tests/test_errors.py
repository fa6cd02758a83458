"""A database that is away answers 503, whatever words the driver chose for it."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from hotline.errors import install_handlers


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.CannotConnectNowError("the database system is in recovery mode"),
        # PostgreSQL's own words, for the SQLSTATEs of a server going away (57P01, 57P02, 08006).
        asyncpg.exceptions.AdminShutdownError(
            "terminating connection due to administrator command"
        ),
        asyncpg.exceptions.CrashShutdownError(
            "terminating connection because of crash of another server process"
        ),
        asyncpg.exceptions.ConnectionFailureError("could not receive data from server"),
    ],
)
async def test_a_database_not_serving_is_503(error: Exception) -> None:
    app = FastAPI()
    install_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise DBAPIError("SELECT 1", None, error)

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        r = await http.get("/boom")
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "unavailable"
