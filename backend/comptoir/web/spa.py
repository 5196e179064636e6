"""The PWA's static files at ``/``; any other app route gets ``index.html`` (history fallback)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.response import File

from comptoir.auth.guards import public
from comptoir.errors import NotFound
from comptoir.settings import Settings

__all__ = ["DIST_DIR", "FILE_FOLDERS", "SERVER_SEGMENTS", "is_app_route", "route_handlers"]

DIST_DIR = Path(__file__).resolve().parent.parent / "static" / "app"

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("image/svg+xml", ".svg")

# First path segments the server owns: never answered with the app shell.
# Keep in step with pwa/src/sw-routes.ts (the service worker's offline fallback).
SERVER_SEGMENTS = frozenset({"api", "admin", "schema", "ws", "track", "health", "ready"})
# The build's folders: only files live there, so a missing one is a 404, not the shell.
FILE_FOLDERS = frozenset({"assets", "icons"})

SERVICE_WORKER = "sw.js"

# The app loads only its own files and talks only to its own origin (fetch and /ws).
# 'wasm-unsafe-eval' lets the lazily loaded barcode-scanner fallback compile its WebAssembly.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "worker-src 'self'",
    "manifest-src 'self'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
])

NOT_BUILT = (
    '<!doctype html><html lang="en"><meta charset="utf-8"><title>Comptoir</title>'
    "<p>The Comptoir app is not built yet: run <code>make run</code>.</p></html>"
)


def is_app_route(relative: str) -> bool:
    """True for a path the app draws itself (``stock/TEE.BLK.M``), not a file or the API's.

    Files are at the top (``manifest.webmanifest``, ``sw.js``) or in the build's folders;
    a dot deeper down is part of a name the app shows (a SKU, a location code).
    """
    segments = relative.strip("/").split("/")
    if segments[0] in SERVER_SEGMENTS or segments[0] in FILE_FOLDERS:
        return False
    if any(segment in (".", "..") for segment in segments):
        return False
    return len(segments) > 1 or "." not in segments[0]


def _headers(relative: str) -> dict[str, str]:
    headers = {"x-content-type-options": "nosniff"}
    if relative.startswith("assets/"):
        headers["cache-control"] = "public, max-age=31536000, immutable"  # content-hashed names
    else:
        # Revalidated every time: a new deploy is seen at once. The service worker above all:
        # a stale one would keep serving an old app shell.
        headers["cache-control"] = "no-cache"
    if relative == SERVICE_WORKER:
        headers["service-worker-allowed"] = "/"
    return headers


def _app_shell(index: Path) -> Response[Any]:
    if not index.is_file():
        return Response(NOT_BUILT, media_type="text/html", status_code=503,
                        headers={"cache-control": "no-store", "retry-after": "60"})
    return File(
        index,
        filename="index.html",
        content_disposition_type="inline",
        media_type="text/html",
        headers={
            "cache-control": "no-cache",
            "content-security-policy": CONTENT_SECURITY_POLICY,
            "referrer-policy": "same-origin",
            "x-content-type-options": "nosniff",
        },
    )


def _serve(dist: Path, relative: str) -> Response[Any]:
    if relative and relative != "index.html":
        candidate = (dist / relative).resolve()
        if candidate.is_file() and dist in candidate.parents:
            media_type = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
            return File(candidate, filename=candidate.name, content_disposition_type="inline",
                        media_type=media_type, headers=_headers(relative))
        if not is_app_route(relative):
            raise NotFound(f"Nothing at /{relative}.")
    return _app_shell(dist / "index.html")


def route_handlers(_settings: Settings, dist: Path | None = None) -> list[HTTPRouteHandler]:
    root = (dist or DIST_DIR).resolve()

    @get("/", opt=public(), include_in_schema=False)
    async def app_index() -> Response[Any]:
        return _serve(root, "")

    @get("/{path:path}", opt=public(), include_in_schema=False)
    async def app_files(path: str) -> Response[Any]:
        return _serve(root, path.lstrip("/"))

    return [app_index, app_files]
