"""The page's files, read once from the installed package and kept in memory.

Only files that exist under ``static/`` when the process starts can be served: a request names a
key of that table, never a path, so nothing outside the folder is reachable.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}
# Already compressed, or too small for gzip to pay for its header.
COMPRESSIBLE = frozenset({".html", ".js", ".css", ".svg", ".txt", ".md", ".webmanifest"})
MIN_GZIP_BYTES = 1024


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str


def _walk(folder: Traversable, prefix: str = "") -> dict[str, Traversable]:
    found: dict[str, Traversable] = {}
    for entry in folder.iterdir():
        name = f"{prefix}{entry.name}"
        if entry.is_dir():
            found.update(_walk(entry, f"{name}/"))
        elif "." + name.rsplit(".", 1)[-1] in TYPES:
            found[name] = entry
    return found


def _load(entry: Traversable) -> Asset:
    body = entry.read_bytes()
    suffix = "." + entry.name.rsplit(".", 1)[-1]
    # mtime=0: the same file gives the same bytes in every process behind a load balancer.
    packed = gzip.compress(body, compresslevel=9, mtime=0)
    small = suffix not in COMPRESSIBLE or len(body) < MIN_GZIP_BYTES or len(packed) >= len(body)
    return Asset(
        body=body,
        gzipped=None if small else packed,
        media_type=TYPES[suffix],
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
    )


@cache
def folder(package: str) -> dict[str, Asset]:
    """Every servable file of ``package``'s ``static/`` folder by its path under it."""
    root = resources.files(package) / "static"
    return {name: _load(entry) for name, entry in _walk(root).items()}


def table() -> dict[str, Asset]:
    """The dashboard's files (``app.js``, ``vendor/echarts.min.js``); the field page, its own."""
    return folder("hotline.dashboard")
