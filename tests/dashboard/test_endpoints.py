"""The page and its files as HTTP: types, caching, compression, nothing outside static/, and the
script's promises that can be read off its text (same-origin URLs, both languages complete)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from hotline.dashboard.endpoints import router
from hotline.errors import install_handlers

STATIC = Path(__file__).resolve().parents[2] / "src" / "hotline" / "dashboard" / "static"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # The router alone: these tests need no database.
    app = FastAPI()
    install_handlers(app)
    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_the_page_talks_to_its_own_origin_only(http: httpx.AsyncClient) -> None:
    r = await http.get("/dashboard")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    policy = r.headers["content-security-policy"]
    assert "connect-src 'self'" in policy and "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert r.headers["referrer-policy"] == "no-referrer"
    assert '<script src="dashboard/static/app.js"' in r.text


async def test_every_file_the_page_names_is_served_with_its_type(http: httpx.AsyncClient) -> None:
    page = (await http.get("/dashboard")).text
    named = re.findall(r'(?:src|href)="(dashboard/static/[^"]+)"', page)
    assert len(named) >= 4
    types = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
    for path in named:
        r = await http.get(f"/{path}")
        assert r.status_code == 200, path
        suffix = Path(path).suffix
        if suffix in types:
            assert r.headers["content-type"].startswith(types[suffix]), path
        assert r.headers["x-content-type-options"] == "nosniff"


async def test_the_chart_library_is_compressed_and_revalidated(http: httpx.AsyncClient) -> None:
    path = "/dashboard/static/vendor/echarts.min.js"
    plain = await http.get(path, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    packed = await http.get(path, headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert int(packed.headers["content-length"]) < len(plain.content) / 2
    assert packed.content == plain.content  # httpx has undone the gzip
    again = await http.get(path, headers={"If-None-Match": plain.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    assert plain.headers["cache-control"] == "no-cache"


async def test_the_chart_library_ships_with_its_licences(http: httpx.AsyncClient) -> None:
    versions = (await http.get("/dashboard/static/vendor/VERSIONS.txt")).text
    assert re.search(r"^echarts \d+\.\d+\.\d+$", versions, re.M)
    for name in ("LICENSE-echarts", "NOTICE-echarts", "LICENSE-zrender", "LICENSE-d3"):
        r = await http.get(f"/dashboard/static/vendor/{name}.txt")
        assert r.status_code == 200, name


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/static/nothing.js",
        "/dashboard/static/../endpoints.py",
        "/dashboard/static/%2e%2e/endpoints.py",
        "/dashboard/static/..%2fendpoints.py",
        "/dashboard/static/",
    ],
)
async def test_nothing_outside_static_is_served(http: httpx.AsyncClient, path: str) -> None:
    r = await http.get(path)
    assert r.status_code == 404
    assert "import" not in r.text


def test_the_script_calls_relative_api_urls_only() -> None:
    # Relative URLs reach this origin (and a path prefix, behind a proxy) and nothing else,
    # which is what keeps the key at home.
    script = (STATIC / "app.js").read_text()
    calls = re.findall(r'\bapi\(\s*"([^"]+)"', script)
    assert calls and all(c.startswith("v1/") for c in calls), calls
    urls = set(re.findall(r"https?://[^\s\"'`)]+", script))
    assert urls == {"http://www.w3.org/2000/svg"}, urls
    assert "innerHTML" not in script


def _keys(script: str, language: str) -> set[str]:
    block = re.search(rf"^    {language}: \{{\n(.*?)^    \}},", script, re.M | re.S)
    assert block, language
    return set(re.findall(r"^      (\w+):", block.group(1), re.M))


def test_both_languages_name_everything_the_page_labels() -> None:
    script = (STATIC / "app.js").read_text()
    zh, en = _keys(script, "zh"), _keys(script, "en")
    assert zh == en, zh ^ en
    labelled = set(re.findall(r'data-i18n="(\w+)"', (STATIC / "index.html").read_text()))
    assert labelled <= zh, labelled - zh
    used = set(re.findall(r'\bt\(\s*"(\w+)"', script))
    assert used <= zh, used - zh
