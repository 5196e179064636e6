"""Refusals with a stable code, and their rendering as RFC 9457 problem+json."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from comptoir.db.coalesce import Saturated

__all__ = [
    "Conflict",
    "DomainError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "Overloaded",
    "PayloadTooLarge",
    "PreconditionFailed",
    "ServiceUnavailable",
    "Unauthorized",
    "UnsupportedMediaType",
    "UriTooLong",
    "exception_handlers",
    "problem",
]

log = logging.getLogger("comptoir.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"


class DomainError(Exception):
    """A refusal a person can understand: an HTTP status, a stable code and a sentence."""

    status_code: int = 400
    code: str = "bad_request"
    title: str = "Bad request"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.extra = extra


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_input"
    title = "Invalid input"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    title = "Not found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    title = "Conflict"


class PreconditionFailed(DomainError):
    status_code = 412
    code = "stale_version"
    title = "Precondition failed"


class Unauthorized(DomainError):
    status_code = 401
    code = "not_authenticated"
    title = "Not authenticated"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"
    title = "Forbidden"


class TooManyRequests(DomainError):
    status_code = 429
    code = "too_many_requests"
    title = "Too many requests"


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"
    title = "Payload too large"


class UriTooLong(DomainError):
    status_code = 414
    code = "uri_too_long"
    title = "URI too long"


class UnsupportedMediaType(DomainError):
    status_code = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class ServiceUnavailable(DomainError):
    """Something Comptoir needs is away for now: nothing was done; try again (Retry-After)."""

    status_code = 503
    code = "service_unavailable"
    title = "Service unavailable"


class Overloaded(ServiceUnavailable):
    """More work than this process takes right now: refused before anything was done."""

    code = "overloaded"

    def __init__(self, detail: str, *, retry_after: int = 1, **extra: Any) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, **extra)


def problem(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": f"https://comptoir.dev/problems/{code.replace('_', '-')}",
        "title": title,
        "status": status,
        "code": code,
        "detail": detail,
        "instance": request.url.path,
    }
    body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("not_authenticated", "Not authenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Payload too large"),
    414: ("uri_too_long", "URI too long"),
    415: ("unsupported_media_type", "Unsupported media type"),
    429: ("too_many_requests", "Too many requests"),
}


def _domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    headers = exc.extra.pop("headers", None) if "headers" in exc.extra else None
    return problem(request, exc.status_code, exc.code, exc.title, exc.detail, headers, **exc.extra)


def _validation_error(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[dict[str, Any]]:
    errors = exc.extra if isinstance(exc.extra, list) else []
    message = str(exc.detail)
    if errors:
        first = errors[0]
        if isinstance(first, dict) and first.get("message"):
            key = first.get("key")
            message = f"{first['message']}" + (f" ({key})" if key else "")
    if "JSON" in message or "decode" in message.lower() or "malformed" in message.lower():
        return problem(request, 400, "malformed_json", "Malformed JSON", message, errors=errors)
    return problem(request, 400, "invalid_request", "Invalid request", message, errors=errors)


def _http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    if status >= 500:
        return _internal_error(request, exc)
    code, title = _HTTP_CODES.get(status, ("http_error", "Error"))
    if status == 400 and isinstance(exc.__cause__, SerializationException):
        code, title = "malformed_json", "Malformed JSON"
    return problem(request, status, code, title, str(exc.detail), exc.headers)


def _integrity_error(
    request: Request[Any, Any, Any], exc: IntegrityError
) -> Response[dict[str, Any]]:
    log.info("integrity error on %s: %s", request.url.path, exc.orig)
    return problem(
        request,
        409,
        "conflict",
        "Conflict",
        "This change conflicts with data that already exists (a duplicate or a missing reference).",
    )


def _operational_error(
    request: Request[Any, Any, Any], exc: OperationalError
) -> Response[dict[str, Any]]:
    log.warning("database unavailable on %s: %s", request.url.path, exc.orig)
    return problem(
        request,
        503,
        "database_unavailable",
        "Service unavailable",
        "The database is busy or unreachable; nothing was changed. Try again.",
        {"Retry-After": "1"},
    )


def _saturated(request: Request[Any, Any, Any], exc: Saturated | PoolTimeout
               ) -> Response[dict[str, Any]]:
    # A request that waited its turn too long (for a database connection, or for a shared
    # capture statement) is refused before it changed anything: the client tries again.
    log.warning("overloaded on %s %s: %s", request.method, request.url.path, exc)
    return _domain_error(request, Overloaded(
        "Comptoir has more requests than it can serve right now; nothing was changed. "
        "Try again in a moment."))


def _internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal_error",
        "Internal error",
        "Something went wrong on our side; nothing was changed.",
    )


exception_handlers: dict[Any, Any] = {
    DomainError: _domain_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    IntegrityError: _integrity_error,
    OperationalError: _operational_error,
    Saturated: _saturated,
    PoolTimeout: _saturated,
    Exception: _internal_error,
}
