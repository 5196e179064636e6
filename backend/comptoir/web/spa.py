"""The PWA's static files at ``/``; any other app route gets ``index.html`` (history fallback)."""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any

from litestar import Response, get
from litestar.response import File

from comptoir.auth.guards import public
from comptoir.errors import NotFound
from comptoir.settings import Settings

__all__ = ["DIST_DIR", "route_handlers"]

DIST_DIR = Path(__file__).resolve().parent.parent / "static" / "app"

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")

# Paths owned by the server: never answered with the app shell.
SERVER_PREFIXES = ("api/", "admin/", "schema", "ws", "track/", "health", "ready")

NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8">
<title>Comptoir</title><p>The Comptoir app is not built yet: run <code>make run</code>.</p></html>"""


def _cache_control(relative: str) -> str:
    if relative.startswith("assets/"):
        return "public, max-age=31536000, immutable"  # content-hashed names
    return "no-cache"


def _serve(dist: Path, relative: str) -> Response[Any]:
    index = dist / "index.html"
    if relative:
        candidate = (dist / relative).resolve()
        if candidate.is_file() and dist in candidate.parents:
            return File(candidate, content_disposition_type="inline",
                        headers={"cache-control": _cache_control(relative)})
        if relative.startswith(SERVER_PREFIXES) or "." in relative.rsplit("/", 1)[-1]:
            raise NotFound(f"Nothing at /{relative}.")
    if not index.is_file():
        return Response(NOT_BUILT, media_type="text/html", status_code=503)
    return File(index, content_disposition_type="inline", headers={"cache-control": "no-cache"})


def route_handlers(_settings: Settings, dist: Path | None = None) -> list[Any]:
    root = (dist or DIST_DIR).resolve()

    @get("/", opt=public(), include_in_schema=False)
    async def app_index() -> Response[Any]:
        return _serve(root, "")

    @get("/{path:path}", opt=public(), include_in_schema=False)
    async def app_files(path: str) -> Response[Any]:
        return _serve(root, path.lstrip("/"))

    return [app_index, app_files]
