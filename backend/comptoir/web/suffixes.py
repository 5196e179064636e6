"""``/api/invoices/FA-2026-000001.pdf``: a document's file named like a file.

A route's path parameter is a whole segment, so ``{number}.pdf`` cannot be a route of its
own beside ``{number}``. Before routing, a GET for ``<prefix>/<number>.pdf`` is served by
``<prefix>/<number>/pdf``, the typed route that renders it.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

__all__ = ["DOCUMENT_PREFIXES", "serve_pdf_suffix"]

DOCUMENT_PREFIXES = ("/api/invoices/", "/api/credit-notes/")
_SUFFIX = ".pdf"


def _rewritten(path: str) -> str | None:
    for prefix in DOCUMENT_PREFIXES:
        if path.startswith(prefix):
            number = path[len(prefix):]
            if number.lower().endswith(_SUFFIX) and "/" not in number and len(number) > 4:
                return f"{prefix}{number[:-len(_SUFFIX)]}/pdf"
    return None


def serve_pdf_suffix(app: ASGIApp) -> ASGIApp:
    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and scope["method"] in ("GET", "HEAD"):
            path = _rewritten(scope["path"])
            if path is not None:
                # In place (see web/head.py): the before-send hooks hold this scope.
                scope["path"] = path
                scope["raw_path"] = path.encode()
        await app(scope, receive, send)

    return wrapped
