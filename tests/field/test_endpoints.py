"""The field page and its files as HTTP: the page's policy, the manifest and the service worker's
scope, every file the page names, nothing outside static/, and what the script promises that can
be read off its text (same-origin URLs only, an Idempotency-Key on every action)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from hotline.errors import install_handlers
from hotline.field.endpoints import router

STATIC = Path(__file__).resolve().parents[2] / "src" / "hotline" / "field" / "static"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    # The router alone: these tests need no database.
    app = FastAPI()
    install_handlers(app)
    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_the_page_holds_a_key_so_it_talks_to_its_own_origin_only(
    http: httpx.AsyncClient,
) -> None:
    r = await http.get("/m")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    policy = r.headers["content-security-policy"]
    for rule in ("connect-src 'self'", "script-src 'self'", "frame-ancestors 'none'"):
        assert rule in policy
    # Photos come with the key and are shown as blob: URLs; nothing else may be an image source.
    assert "img-src 'self' data: blob:" in policy
    assert r.headers["referrer-policy"] == "no-referrer"
    assert '<html lang="zh-CN">' in r.text
    assert 'name="viewport" content="width=device-width' in r.text


async def test_every_file_the_page_and_the_manifest_name_is_served(
    http: httpx.AsyncClient,
) -> None:
    page = (await http.get("/m")).text
    named = re.findall(r'(?:src|href)="(m/[^"]+)"', page)
    assert "m/manifest.webmanifest" in named and "m/static/app.js" in named
    for path in named:
        r = await http.get(f"/{path}")
        assert r.status_code == 200, path
        assert r.headers["x-content-type-options"] == "nosniff"
    manifest = (await http.get("/m/manifest.webmanifest")).json()
    assert manifest["lang"] == "zh-CN" and manifest["display"] == "standalone"
    base = "http://test/m/manifest.webmanifest"
    scope = httpx.URL(base).join(manifest["scope"])
    assert scope.path == "/m" and httpx.URL(base).join(manifest["start_url"]).path == "/m"
    sizes = set()
    for icon in manifest["icons"]:
        r = await http.get(str(httpx.URL(base).join(icon["src"]).path))
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
        assert r.content.startswith(b"\x89PNG")
        sizes.add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes  # what browsers ask of an installable page


async def test_the_service_worker_may_claim_the_page_at_m(http: httpx.AsyncClient) -> None:
    r = await http.get("/m/sw.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    allowed = httpx.URL("http://test/m/sw.js").join(r.headers["service-worker-allowed"])
    assert allowed.path == "/m"
    # It answers for the page's own files only: the API is never cached.
    assert "/v1" not in r.text.replace("(/v1/…)", "")
    assert 'register("m/sw.js", { scope: "m" })' in (STATIC / "app.js").read_text()


async def test_files_are_revalidated_and_compressed(http: httpx.AsyncClient) -> None:
    first = await http.get("/m/static/app.js", headers={"Accept-Encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    assert first.headers["cache-control"] == "no-cache"
    again = await http.get("/m/static/app.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path", ["/m/static/nothing.js", "/m/static/../endpoints.py", "/m/static/%2e%2e/__init__.py"]
)
async def test_nothing_outside_static_is_reachable(http: httpx.AsyncClient, path: str) -> None:
    r = await http.get(path)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


def test_the_script_sends_the_key_to_its_origin_and_a_key_with_every_action() -> None:
    script = (STATIC / "app.js").read_text()
    # Every URL the script asks for is relative (v1/…), checked against location.origin.
    assert "target.origin !== location.origin" in script
    assert not re.search(r"fetch\(\s*[\"'`]https?:", script)
    assert re.findall(r"request\(`v1/tickets/\$\{item\.ticketId\}/", script)
    assert '"Idempotency-Key": item.key' in script
    # One outbox entry per request, its key drawn when the person taps.
    assert "key: newKey()" in script


def test_the_manifest_is_json_in_chinese() -> None:
    manifest = json.loads((STATIC / "manifest.webmanifest").read_text())
    assert re.search(r"[\u4e00-\u9fff]", manifest["name"])
