"""The documents of an issued invoice or credit note: its Factur-X XML and its PDF.

``cii.factur_x_xml`` writes the Cross Industry Invoice (UN/CEFACT CII D16B) that
Factur-X's EN 16931 profile asks for; ``render_pdf`` renders the human-readable document from
``templates/invoicing/document.html`` with WeasyPrint (A4, PDF/A-3b) and embeds that XML
with the ``factur-x`` package. Both read the frozen ``Statement`` and nothing else.

Rendering is deterministic, so a document is rendered on every download instead of being
stored: the same ``Statement`` (and logo) gives byte-identical PDFs on every call, in every
process. What would otherwise vary is fixed from the statement:

- WeasyPrint's creation and modification dates come from ``issued_at`` (the document's
  ``dcterms`` meta), its file identifier (``/ID``) is a hash of the number and
  ``issued_at``, and it fetches nothing but ``data:`` URLs (the logo), so no file or network
  read can change the result;
- the ``factur-x`` package stamps the current time in three places (``/Info``, the XMP
  metadata, the embedded file's ``/ModDate``); its two clock functions are swapped for ones
  that return ``issued_at`` while it runs, under a lock (the swap is process-wide). Fonts come
  from the system (fontconfig: DejaVu Sans, installed by ``make test``'s prerequisites), so
  the same bytes hold for one machine set-up; another font version gives another subset.

Money is integer minor units to the end: amounts are written with ``divmod``, never through
a float. A credit note states positive amounts; it is one by its type code (381).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from comptoir.invoicing.cii import factur_x_xml, format_amount
from comptoir.invoicing.snapshot import Statement
from comptoir.invoicing.wording import (
    DocumentLocale,
    format_day,
    format_money,
    format_rate,
    legal_information,
    locale_of,
    terms_sentence,
    words,
)

__all__ = [
    "DocumentLocale",
    "factur_x_xml",
    "format_amount",
    "format_money",
    "format_rate",
    "render_html",
    "render_pdf",
    "words",
]


# --- the PDF -----------------------------------------------------------------------------------

_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(_TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _logo_uri(logo: bytes) -> str:
    """The logo as a ``data:`` URL (the only kind the renderer fetches); PNG, JPEG or SVG."""
    if logo.startswith(b"\x89PNG"):
        media_type = "image/png"
    elif logo.startswith(b"\xff\xd8"):
        media_type = "image/jpeg"
    elif logo.startswith(b"GIF8"):
        media_type = "image/gif"
    else:
        media_type = "image/svg+xml"
    return f"data:{media_type};base64,{base64.b64encode(logo).decode('ascii')}"


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def render_html(statement: Statement, *, logo: bytes | None = None) -> str:
    """The document as HTML, in its language (what ``render_pdf`` prints)."""
    locale = locale_of(statement)
    currency = statement.currency

    def money(minor: int) -> str:
        return format_money(minor, currency, locale)

    return _environment().get_template("invoicing/document.html").render(
        statement=statement,
        locale=locale,
        w=words(statement),
        money=money,
        rate=lambda bp: format_rate(bp, locale),
        day=lambda day: format_day(day, locale),
        legal_information=legal_information(statement),
        terms_sentence=terms_sentence(statement),
        logo_uri=_logo_uri(logo) if logo else "",
        created=_utc(statement.issued_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


# The factur-x package reads the clock through these two module functions; swapping them is
# process-wide, so one render at a time goes through them (a few milliseconds each).
_FACTURX_CLOCK = threading.Lock()


@contextlib.contextmanager
def _facturx_clock(moment: dt.datetime) -> Iterator[None]:
    pdf_date = moment.strftime("D:%Y%m%d%H%M%S+00'00'")
    xmp_date = moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")

    def pdf_timestamp(date: dt.datetime | None = None) -> str:
        return pdf_date

    def metadata_timestamp() -> str:
        return xmp_date

    import facturx.facturx as facturx_module

    with _FACTURX_CLOCK:
        saved = (facturx_module._get_pdf_timestamp, facturx_module._get_metadata_timestamp)
        facturx_module._get_pdf_timestamp = pdf_timestamp
        facturx_module._get_metadata_timestamp = metadata_timestamp
        try:
            yield
        finally:
            facturx_module._get_pdf_timestamp, facturx_module._get_metadata_timestamp = saved


def render_pdf(statement: Statement, *, logo: bytes | None = None) -> bytes:
    """The document as a Factur-X PDF (PDF/A-3b carrying the EN 16931 XML): A4, in the
    statement's language, the logo at the top when given. Byte-identical for the same
    statement and logo (see the module's docstring)."""
    # Imported here: WeasyPrint loads Pango and its fonts, factur-x loads pypdf (together about
    # a second and a half), which only a render needs; the app starts without them.
    import facturx
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    issued_at = _utc(statement.issued_at)
    identifier = hashlib.sha256(
        f"{statement.number}|{issued_at.isoformat()}".encode()).hexdigest()[:32]
    printed = HTML(
        string=render_html(statement, logo=logo),
        base_url="data:,",
        url_fetcher=URLFetcher(allowed_protocols={"data"}),
    ).write_pdf(pdf_variant="pdf/a-3b", pdf_identifier=identifier.encode("ascii"))
    words_ = words(statement)
    title = f"{words_[statement.kind]} {statement.number}"
    with _facturx_clock(issued_at):
        document = facturx.generate_from_binary(
            printed,
            factur_x_xml(statement),
            flavor="factur-x",
            level="en16931",
            check_xsd=False,  # the tests check it; a render need not parse the schema again
            pdf_metadata={
                "author": statement.seller.legal_name,
                "keywords": f"{words_[statement.kind]}, Factur-X",
                "title": title,
                "subject": f"{title} · {statement.seller.legal_name}",
            },
            lang=locale_of(statement),
        )
    return bytes(document)
