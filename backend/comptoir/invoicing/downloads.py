"""An issued document's PDF, as downloaded: rendered from its stored statement on each
download (``documents.render_pdf`` is deterministic, so every download gives the same
bytes), in a worker thread (a render costs 0.15-0.4 s of CPU; the event loop keeps
serving meanwhile).

The logo is the one the statement names (``logo_path``, relative to the var directory,
as configured when the document was issued); a logo file since removed or unreadable is
left out rather than failing the download.
"""

from __future__ import annotations

from pathlib import Path

import anyio.to_thread

from comptoir.invoicing.documents import render_pdf
from comptoir.invoicing.snapshot import Statement

__all__ = ["MAX_LOGO_BYTES", "filename", "pdf_of"]

MAX_LOGO_BYTES = 2_000_000


def _logo(statement: Statement, var_dir: Path) -> bytes | None:
    if not statement.logo_path:
        return None
    base = var_dir.resolve()
    path = (base / statement.logo_path).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    try:
        if path.stat().st_size > MAX_LOGO_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None


def filename(statement: Statement) -> str:
    return f"{statement.number}.pdf"


async def pdf_of(statement: Statement, var_dir: Path) -> bytes:
    """The document's PDF (Factur-X), the same bytes on every call."""
    logo = _logo(statement, var_dir)
    return await anyio.to_thread.run_sync(lambda: render_pdf(statement, logo=logo))
