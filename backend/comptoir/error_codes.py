"""Every ``code`` a refusal can carry (problem+json, and the live feed's error messages),
with its sentence in French and in English (data/error_messages.toml).

A refusal's ``detail`` says the particulars in English (which SKU, how many); the catalogue's
sentence says what the code means, for a person, in their language. Tests check that every
code raised in the backend is here, that each has both sentences, and that every code the
PWA translates (pwa/src/i18n/problems.ts) exists. ``python -m comptoir.error_codes`` prints
``pwa/src/api/errors.gen.ts``: the codes and their sentences, for the PWA.
"""

from __future__ import annotations

import json
import sys
import tomllib
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

__all__ = ["ErrorCode", "message", "render_typescript"]

CATALOGUE = Path(__file__).parent / "data" / "error_messages.toml"


class ErrorCode(StrEnum):
    ACCOUNT_DISABLED = "account_disabled"
    ADDRESS_REQUIRED = "address_required"
    ALLOCATION_MISMATCH = "allocation_mismatch"
    ALREADY_INVOICED = "already_invoiced"
    ATTEMPT_COUNTER_UNAVAILABLE = "attempt_counter_unavailable"
    BAD_API_KEY = "bad_api_key"
    BAD_AUTHORIZATION = "bad_authorization"
    BAD_CREDENTIALS = "bad_credentials"
    BAD_MESSAGE = "bad_message"
    BAD_REQUEST = "bad_request"
    CAPTURE_CONTENDED = "capture_contended"
    CHANNEL_INACTIVE = "channel_inactive"
    CHANNEL_MISMATCH = "channel_mismatch"
    CHANNEL_REQUIRED = "channel_required"
    CONFLICT = "conflict"
    CONFLICTING_FILTERS = "conflicting_filters"
    CREDIT_EXCEEDS_INVOICE = "credit_exceeds_invoice"
    CREDIT_NOTE_NOT_FOUND = "credit_note_not_found"
    CREDIT_NOTE_REASON_REQUIRED = "credit_note_reason_required"
    CSRF_FAILED = "csrf_failed"
    CURRENCY_MISMATCH = "currency_mismatch"
    CUSTOMER_NOT_FOUND = "customer_not_found"
    DATABASE_UNAVAILABLE = "database_unavailable"
    DUPLICATE_BARCODE = "duplicate_barcode"
    DUPLICATE_LINE = "duplicate_line"
    DUPLICATE_SKU = "duplicate_sku"
    EMPTY_NOTE = "empty_note"
    EMPTY_SKU = "empty_sku"
    FORBIDDEN = "forbidden"
    FULFILLMENT_NOT_FOUND = "fulfillment_not_found"
    HTTP_ERROR = "http_error"
    ID_CHECK_REQUIRED = "id_check_required"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    ILLEGAL_TRANSITION = "illegal_transition"
    INCOMPLETE_ADDRESS = "incomplete_address"
    INTERNAL_ERROR = "internal_error"
    INVALID_BARCODE = "invalid_barcode"
    INVALID_COORDINATES = "invalid_coordinates"
    INVALID_COUNTRY = "invalid_country"
    INVALID_CURRENCY = "invalid_currency"
    INVALID_CURSOR = "invalid_cursor"
    INVALID_CUSTOMER = "invalid_customer"
    INVALID_DATE_RANGE = "invalid_date_range"
    INVALID_EMAIL = "invalid_email"
    INVALID_EVENT = "invalid_event"
    INVALID_EXTERNAL_REF = "invalid_external_ref"
    INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
    INVALID_IF_MATCH = "invalid_if_match"
    INVALID_INPUT = "invalid_input"
    INVALID_LIMIT = "invalid_limit"
    INVALID_OPTION = "invalid_option"
    INVALID_PRICE = "invalid_price"
    INVALID_QUANTITY = "invalid_quantity"
    INVALID_REQUEST = "invalid_request"
    INVALID_SINCE = "invalid_since"
    INVALID_SKU = "invalid_sku"
    INVALID_UTF8 = "invalid_utf8"
    INVALID_WEIGHT = "invalid_weight"
    INVOICE_NOT_FOUND = "invoice_not_found"
    INVOICING_NOT_CONFIGURED = "invoicing_not_configured"
    LINE_NOT_INVOICED = "line_not_invoiced"
    LINE_REQUIRED = "line_required"
    LINES_REQUIRED = "lines_required"
    LOCATION_REQUIRED = "location_required"
    MALFORMED_JSON = "malformed_json"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NAME_REQUIRED = "name_required"
    NEGATIVE_COUNT = "negative_count"
    NEGATIVE_PRICE = "negative_price"
    NEGATIVE_SAFETY_STOCK = "negative_safety_stock"
    NEGATIVE_STOCK = "negative_stock"
    NO_CAPACITY = "no_capacity"
    NO_LINES = "no_lines"
    NO_STAFF_PROFILE = "no_staff_profile"
    NOT_A_3PL = "not_a_3pl"
    NOT_A_3PL_KEY = "not_a_3pl_key"
    NOT_A_PICKUP = "not_a_pickup"
    NOT_AUTHENTICATED = "not_authenticated"
    NOT_FOUND = "not_found"
    NOT_HELD_FOR_FRAUD = "not_held_for_fraud"
    NOT_READY_FOR_PICKUP = "not_ready_for_pickup"
    NOT_ROUTABLE = "not_routable"
    NOTHING_SHIPPED = "nothing_shipped"
    NOTHING_TO_CANCEL = "nothing_to_cancel"
    NOTHING_TO_CHANGE = "nothing_to_change"
    NOTHING_TO_CREDIT = "nothing_to_credit"
    NOTHING_TO_SHIP = "nothing_to_ship"
    NUL_CHARACTER = "nul_character"
    ORDER_NOT_DELIVERED = "order_not_delivered"
    ORDER_NOT_FOUND = "order_not_found"
    OTHER_LOCATION = "other_location"
    OUT_OF_STOCK = "out_of_stock"
    OVERLOADED = "overloaded"
    OVERRIDE_NOT_ALLOWED = "override_not_allowed"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    PERIOD_REQUIRED = "period_required"
    PERIOD_TOO_LONG = "period_too_long"
    PICKUP_CODE_AT_COUNTER = "pickup_code_at_counter"
    PICKUP_CODE_REQUIRED = "pickup_code_required"
    PICKUP_NOT_AVAILABLE = "pickup_not_available"
    PRICE_REQUIRED = "price_required"
    PRICE_TOO_LARGE = "price_too_large"
    QUANTITY_EXCEEDS_LINE = "quantity_exceeds_line"
    QUANTITY_TOO_LARGE = "quantity_too_large"
    REASON_REQUIRED = "reason_required"
    RESERVATION_MISMATCH = "reservation_mismatch"
    RETRY = "retry"
    SERVICE_UNAVAILABLE = "service_unavailable"
    SESSION_STORE_UNAVAILABLE = "session_store_unavailable"
    SHIPMENT_NOT_FOUND = "shipment_not_found"
    SIGNATURE_BAD_TIMESTAMP = "signature_bad_timestamp"
    SIGNATURE_EXPIRED = "signature_expired"
    SIGNATURE_MISMATCH = "signature_mismatch"
    SIGNATURE_MISSING = "signature_missing"
    SIGNED_EVENTS_ONLY = "signed_events_only"
    SKU_INACTIVE = "sku_inactive"
    STALE_VERSION = "stale_version"
    STOCK_RESERVED = "stock_reserved"
    TEXT_TOO_LONG = "text_too_long"
    TOO_DEEPLY_NESTED = "too_deeply_nested"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    TOO_MANY_LINES = "too_many_lines"
    TOO_MANY_REQUESTS = "too_many_requests"
    TOO_MANY_TOPICS = "too_many_topics"
    TOPIC_FORBIDDEN = "topic_forbidden"
    UNKNOWN_CARRIER = "unknown_carrier"
    UNKNOWN_CHANNEL = "unknown_channel"
    UNKNOWN_DELIVERY_METHOD = "unknown_delivery_method"
    UNKNOWN_EXPORT_FORMAT = "unknown_export_format"
    UNKNOWN_FIELD = "unknown_field"
    UNKNOWN_HOLD_REASON = "unknown_hold_reason"
    UNKNOWN_LINE = "unknown_line"
    UNKNOWN_LOCATION = "unknown_location"
    UNKNOWN_MOVEMENT_KIND = "unknown_movement_kind"
    UNKNOWN_PRODUCT = "unknown_product"
    UNKNOWN_ROLE = "unknown_role"
    UNKNOWN_SKU = "unknown_sku"
    UNKNOWN_STAFF = "unknown_staff"
    UNKNOWN_STATUS = "unknown_status"
    UNKNOWN_TAX_CLASS = "unknown_tax_class"
    UNKNOWN_TOPIC = "unknown_topic"
    UNREADABLE_PROOF = "unreadable_proof"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    URI_TOO_LONG = "uri_too_long"
    USERNAME_TAKEN = "username_taken"
    VARIANTS_REQUIRED = "variants_required"
    VAT_RATE_MISSING = "vat_rate_missing"
    VERSION_REQUIRED = "version_required"
    WEAK_PASSWORD = "weak_password"
    WRONG_PICKUP_CODE = "wrong_pickup_code"
    WRONG_PROOF = "wrong_proof"
    ZERO_DELTA = "zero_delta"


@cache
def _catalogue() -> dict[str, dict[str, str]]:
    with CATALOGUE.open("rb") as file:
        return {code: {locale: str(text) for locale, text in words.items()}
                for code, words in tomllib.load(file).items()}


def message(code: ErrorCode | str, locale: Literal["fr", "en"]) -> str | None:
    """The sentence for a code in a language; None for a code the catalogue lacks."""
    words = _catalogue().get(str(code))
    return None if words is None else words.get(locale)


def render_typescript() -> str:
    """The codes and their sentences as the PWA's ``src/api/errors.gen.ts``."""
    def table(locale: Literal["fr", "en"]) -> str:
        return "\n".join(
            f"    {code.value}: {json.dumps(message(code, locale), ensure_ascii=False)},"
            for code in ErrorCode)
    codes = "\n".join(f'  "{code.value}",' for code in ErrorCode)
    return (
        "// Generated by `python -m comptoir.error_codes` from backend/comptoir/error_codes.py\n"
        "// and data/error_messages.toml: do not edit by hand.\n\n"
        "/** Every `code` a refusal from the server can carry. */\n"
        f"export const ERROR_CODES = [\n{codes}\n] as const;\n\n"
        "export type ErrorCode = (typeof ERROR_CODES)[number];\n\n"
        "/** What each code means, for a person; the refusal's `detail` has the particulars. */\n"
        "export const errorMessages: Record<\"fr\" | \"en\", Record<ErrorCode, string>> = {\n"
        f"  fr: {{\n{table('fr')}\n  }},\n"
        f"  en: {{\n{table('en')}\n  }},\n"
        "};\n"
    )


if __name__ == "__main__":
    sys.stdout.write(render_typescript())
