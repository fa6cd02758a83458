"""HTTP for the field page: ``/m``, its manifest, its service worker and its files.

Outside the OpenAPI document, like the dashboard: a page for people, not part of the API contract.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from hotline.dashboard.assets import folder
from hotline.dashboard.endpoints import send
from hotline.errors import NotFound

router = APIRouter(tags=["field"])

# The page holds an API key: its scripts come from this origin only and may talk to no other.
# Photos are fetched with the key and shown as blob: URLs (an <img src> cannot send a header).
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
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
# The worker lives at /m/sw.js, whose default scope is /m/; the page itself is /m, so the worker
# may claim the scope /m. Relative to the script's URL, so a proxy's path prefix still works.
WORKER_HEADERS = {"Service-Worker-Allowed": "../m"}
PACKAGE = "hotline.field"


# Plain functions, not coroutines: the first call reads and compresses the files (see dashboard).
@router.get("/m", response_class=HTMLResponse, include_in_schema=False)
def page(request: Request) -> Response:
    """The field page; it signs in with a worker's, member's or officer's key."""
    return send(request, folder(PACKAGE)["index.html"], PAGE_HEADERS)


@router.get("/m/manifest.webmanifest", include_in_schema=False)
def manifest(request: Request) -> Response:
    """The web app manifest: name, icons, start URL and scope (/m), portrait, standalone."""
    return send(request, folder(PACKAGE)["manifest.webmanifest"])


@router.get("/m/sw.js", include_in_schema=False)
def service_worker(request: Request) -> Response:
    """The service worker, allowed the scope /m (it keeps the page's files for offline use)."""
    return send(request, folder(PACKAGE)["sw.js"], WORKER_HEADERS)


@router.get("/m/static/{name:path}", include_in_schema=False)
def static(name: str, request: Request) -> Response:
    """One of the page's files: its script, styles and icons."""
    asset = folder(PACKAGE).get(name)
    if asset is None:
        raise NotFound(f"没有这个文件：{name}", en=f"No field page file {name}")
    return send(request, asset)
