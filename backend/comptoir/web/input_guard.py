"""The first check every request meets: bytes that no handler should ever see are refused here.

PostgreSQL refuses a NUL character in text, Python refuses to decode broken UTF-8, and a
JSON document nested thousands deep exhausts the decoder's recursion: each of these used to
reach a handler, or the database, and come back as a 500. This middleware looks at the URL,
the headers and the body once, before routing hands the request to a handler, and answers
a 4xx problem with a code instead:

- a NUL character, raw or percent-encoded (``%00``) or JSON-escaped (``\\u0000``), in the
  path, the query string, a header or the body → 400 ``nul_character``;
- bytes that are not UTF-8 in any of those places → 400 ``invalid_utf8``;
- a path and query string longer than ``MAX_URL_BYTES`` → 414 ``uri_too_long``;
- a body over ``MAX_BODY_BYTES``, or a JSON one over ``MAX_JSON_BODY_BYTES`` → 413
  ``payload_too_large``;
- JSON nested deeper than ``MAX_JSON_DEPTH`` → 400 ``too_deeply_nested``, counted on the raw
  bytes before any decoder recurses into them;
- a body under ``/api/`` that is not JSON (``Content-Type: text/plain``, a form…) → 415
  ``unsupported_media_type``: the API speaks JSON only.

Bodies of other kinds outside the API (piccolo-admin's uploads) pass through unread.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterable
from urllib.parse import unquote_to_bytes

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, HTTPRequestEvent, Receive, ReceiveMessage, Scope, Send

from comptoir.errors import DomainError, PayloadTooLarge, UnsupportedMediaType, UriTooLong

__all__ = [
    "MAX_BODY_BYTES", "MAX_JSON_BODY_BYTES", "MAX_JSON_DEPTH", "MAX_URL_BYTES", "InputGuard",
]

MAX_BODY_BYTES = 10 * 1024 * 1024
# Comptoir's largest JSON body (a product with its variants) is tens of kilobytes.
MAX_JSON_BODY_BYTES = 1024 * 1024
# Our deepest body (a product's variants' options) is 4 levels deep; 32 leaves room for
# any honest client and stays far below the decoder's recursion limit (about 1,000).
MAX_JSON_DEPTH = 32
# What common servers and proxies accept for a request line; beyond, clients get 414 anyway.
MAX_URL_BYTES = 8192

_JSON_MEDIA = re.compile(r"^application/(?:[\w.+-]+\+)?json$")
_FORM_MEDIA = "application/x-www-form-urlencoded"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# For depth, an object's braces are brackets like an array's.
_AS_SQUARE_BRACKETS = bytes.maketrans(b"{}", b"[]")


class InputGuard(ASGIMiddleware):
    """Refuse unreadable URLs, headers and bodies before any handler (see the module)."""

    scopes = (ScopeType.HTTP, ScopeType.WEBSOCKET)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        _check_url(scope)
        _check_headers(scope["headers"])
        if scope["type"] == ScopeType.HTTP:
            receive = await _checked_body(scope, receive)
        await next_app(scope, receive, send)


def _check_url(scope: Scope) -> None:
    # httpx and some servers put the query in raw_path too; the query string is checked apart.
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    raw_path = raw_path.partition(b"?")[0]
    query = scope.get("query_string", b"")
    if len(raw_path) + len(query) > MAX_URL_BYTES:
        raise UriTooLong(f"The address is over {MAX_URL_BYTES:,} bytes long; Comptoir's "
                         "addresses are much shorter. Send long values in a JSON body.")
    _check_text(unquote_to_bytes(raw_path), "The path")
    _check_text(unquote_to_bytes(query.replace(b"+", b" ")), "The query string")


def _check_headers(headers: Iterable[tuple[bytes, bytes]]) -> None:
    for name, value in headers:
        _check_text(name + value, f"The header '{name.decode('latin-1')}'")


def _check_text(raw: bytes, where: str) -> None:
    if b"\x00" in raw:
        raise _nul(where)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DomainError(f"{where} is not valid UTF-8 (byte {exc.start}): send text as "
                          "UTF-8.", code="invalid_utf8") from None


def _nul(where: str) -> DomainError:
    return DomainError(f"{where} contains a NUL character (\\u0000 or %00), which no text "
                       "in Comptoir may hold: remove it.", code="nul_character")


async def _checked_body(scope: Scope, receive: Receive) -> Receive:
    """Read and check the body when we can read it; hand the app a receive that replays it."""
    media_type, charset = _content_type(scope["headers"])
    is_json = bool(_JSON_MEDIA.match(media_type))
    is_api = scope["path"].startswith("/api/")
    if not (is_json or media_type == _FORM_MEDIA or is_api):
        return receive  # not a kind we decode, outside the API: the mounted app reads it
    body = await _read_body(receive, MAX_JSON_BODY_BYTES if is_json else MAX_BODY_BYTES)
    if body:
        if is_api and not is_json:
            raise UnsupportedMediaType(
                f"The API reads JSON bodies only, not '{media_type or 'no Content-Type'}': "
                "send 'Content-Type: application/json'.")
        if charset not in ("", "utf-8", "utf8"):
            raise UnsupportedMediaType(f"Bodies are UTF-8, not '{charset}'.")
        if is_json:
            _check_json(body)
        else:
            _check_text(unquote_to_bytes(body.replace(b"+", b" ")), "The form")
    return _replay(body, receive)


def _content_type(headers: Iterable[tuple[bytes, bytes]]) -> tuple[str, str]:
    """The media type and charset, lower-cased; empty strings when absent."""
    for name, value in headers:
        if name.lower() == b"content-type":
            media_type, *params = value.decode("latin-1").lower().split(";")
            charset = next((p.partition("=")[2].strip().strip('"') for p in params
                            if p.strip().startswith("charset=")), "")
            return media_type.strip(), charset
    return "", ""


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away: nothing to read
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"The body is over {limit // (1024 * 1024)} MB.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> ReceiveMessage:
        nonlocal delivered
        if delivered:
            return await receive()  # what comes after the body: a disconnect
        delivered = True
        return HTTPRequestEvent(type="http.request", body=body, more_body=False)

    return replay


def _check_json(body: bytes) -> None:
    _check_text(body, "The body")  # a raw NUL byte, broken UTF-8
    # Escaped backslashes out of the way, "\\u0000" in a body is a backslash and "u0000",
    # and only a lone backslash before u0000 is a NUL.
    unescaped = body.replace(b"\\\\", b"")
    if b"\\u0000" in unescaped:
        raise _nul("The body")
    if _deeper_than(unescaped.replace(b'\\"', b""), MAX_JSON_DEPTH):
        raise DomainError(f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep; "
                          "Comptoir's bodies are a few levels deep.", code="too_deeply_nested")


def _deeper_than(body: bytes, limit: int) -> bool:
    """Whether the body's arrays and objects nest deeper than ``limit``, brackets inside
    strings aside (``body`` has no escaped quote or backslash left).

    Computed on the bytes with C-speed steps (split, translate, accumulate): about 0.1 s for
    the worst megabyte, nothing for an ordinary body, and never a decoder's recursion per
    level. Brackets that never close count too: a decoder descends into them before it
    finds the document cut short.
    """
    outside_strings = b"".join(body.split(b'"')[::2])
    brackets = outside_strings.translate(_AS_SQUARE_BRACKETS, _NOT_BRACKETS)
    if brackets.count(b"[") <= limit:
        return False
    # Between two closing brackets, a run of opening ones: the depth after each run is the
    # openings so far minus the closings so far.
    openings_so_far = itertools.accumulate(map(len, brackets.split(b"]")))
    depths = map(operator.sub, openings_so_far, itertools.count())
    return bool(max(depths) > limit)
