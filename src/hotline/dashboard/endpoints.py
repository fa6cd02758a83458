"""HTTP for the dashboard: the page at ``/dashboard`` and its files at ``/dashboard/static/…``.

Outside the OpenAPI document: they are a page for people, not part of the API contract.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from hotline.dashboard.assets import Asset, table
from hotline.errors import NotFound

router = APIRouter(tags=["dashboard"])

# The page holds an API key: its scripts come from this origin only and may talk to no other,
# and no other site may frame it.
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        # ECharts positions its tooltips with inline styles.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# Revalidate every time: a 304 costs a round trip, and an upgrade is seen at the next load.
CACHE = "no-cache"


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


def send(request: Request, asset: Asset, extra: dict[str, str] | None = None) -> Response:
    """The file, gzipped when the client takes it, or 304 when ``If-None-Match`` has it."""
    headers = {
        "ETag": asset.etag,
        "Cache-Control": CACHE,
        "X-Content-Type-Options": "nosniff",
        **(extra or {}),
    }
    if asset.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
    if _matches(request.headers.get("if-none-match"), asset.etag):
        return Response(status_code=304, headers=headers)
    body = asset.body
    if asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        body = asset.gzipped
    return Response(body, media_type=asset.media_type, headers=headers)


# Plain functions, not coroutines: the first call reads and compresses the files, which must
# not block the event loop, so FastAPI runs them in its thread pool.
@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def page(request: Request) -> Response:
    """The dashboard page; it signs in with a viewer key and polls the metrics."""
    return send(request, table()["index.html"], PAGE_HEADERS)


@router.get("/dashboard/static/{name:path}", include_in_schema=False)
def static(name: str, request: Request) -> Response:
    """One of the page's files: its script, styles, icon, and the bundled chart library."""
    asset = table().get(name)
    if asset is None:
        raise NotFound(f"看板没有文件 {name}", en=f"No dashboard file {name}")
    return send(request, asset)
