"""The API documentation at ``/schema``: Swagger UI served from Comptoir's own files, no CDN.

The viewer's files come from the ``swagger-ui-dist`` npm package, copied at build time by
``pwa/schema-viewer`` (``make schema-viewer``) into ``static/schema-viewer``; they are served
at ``/schema/viewer/…``, so the page works in a store with no internet and leaks nothing to a
third-party host.
"""

from __future__ import annotations

from pathlib import Path

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

__all__ = ["VIEWER_DIR", "VIEWER_PATH", "LocalSwaggerPlugin"]

VIEWER_DIR = Path(__file__).resolve().parent.parent / "static" / "schema-viewer"
VIEWER_PATH = "/viewer"  # under the OpenAPI router's /schema


class LocalSwaggerPlugin(SwaggerRenderPlugin):
    """Swagger UI whose script, styles and icon are Comptoir's own files."""

    def __init__(self, schema_path: str = "/schema") -> None:
        base = f"{schema_path}{VIEWER_PATH}"
        super().__init__(
            js_url=f"{base}/swagger-ui-bundle.js",
            css_url=f"{base}/swagger-ui.css",
            standalone_preset_js_url=f"{base}/swagger-ui-standalone-preset.js",
            favicon=f"<link rel='icon' type='image/png' href='{base}/favicon-32x32.png'>",
        )

    def receive_router(self, router: Router) -> None:
        # The files change only with the pinned package version: a day's cache is plenty.
        router.register(create_static_files_router(
            path=VIEWER_PATH, directories=[VIEWER_DIR], name="schema_viewer",
            cache_control=CacheControlHeader(max_age=86400),
        ))
