"""What a caller sends to capture an order, checked: channel, delivery, lines, prices.

Edits (``actions.py``) check their lines with the same rules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from comptoir.auth.schemas import Principal
from comptoir.config import service as config
from comptoir.config.schemas import ChannelOut, LocationOut
from comptoir.countries import country_code
from comptoir.customers import service as customers
from comptoir.errors import Forbidden, InvalidInput
from comptoir.idempotency import key_scope
from comptoir.inventory.service import SellableVariant
from comptoir.orders.schemas import AddressIn, DeliveryIn, OrderIn, PaymentIn
from comptoir.routing import scoring

__all__ = [
    "MAX_LINES",
    "CaptureRequest",
    "Delivery",
    "address_key",
    "card_fingerprint",
    "channel_for",
    "check_capture",
    "check_delivery",
    "check_quantity",
    "check_unit_price",
    "check_variants",
    "request_hash",
    "routing_delivery",
    "unit_price_for",
]

MAX_LINES = 100
MAX_QUANTITY = 100_000
MAX_UNIT_PRICE = 100_000_000  # a million euros a unit: beyond is a typo, not an order


async def channel_for(requested: str | None, principal: Principal) -> ChannelOut:
    """The channel an order comes from: a channel key's own, or the one staff name."""
    if principal.role == "channel":
        if requested is not None and requested != principal.channel:
            raise Forbidden(
                f"This API key captures orders for the channel '{principal.channel}', "
                f"not '{requested}'.",
                code="channel_mismatch",
            )
        requested = principal.channel
    if not requested:
        raise InvalidInput("Say which sales channel the order comes from ('channel').",
                           code="channel_required")
    channel = await config.get_channel(requested)
    if channel is None:
        raise InvalidInput(f"Unknown sales channel '{requested}'.", code="unknown_channel")
    if not channel.active:
        raise InvalidInput(f"The sales channel '{requested}' is closed.", code="channel_inactive")
    return channel


@dataclass(frozen=True, slots=True)
class Delivery:
    """A checked delivery: where the order goes and which country's VAT applies."""

    method: str
    address: AddressIn | None
    location: LocationOut | None
    country: str

    @property
    def location_code(self) -> str | None:
        return self.location.code if self.location else None

    def ship_to(self) -> dict[str, Any] | None:
        return msgspec.to_builtins(self.address) if self.address else None

    def for_routing(self) -> scoring.Delivery:
        if self.method == "pickup":
            return scoring.Delivery("pickup", store=self.location_code)
        assert self.address is not None
        return scoring.Delivery("ship", latitude=self.address.latitude,
                                longitude=self.address.longitude,
                                postal_code=self.address.postal_code.strip() or None,
                                country=self.country)


def routing_delivery(method: str, pickup_location: str | None,
                     ship_to: Mapping[str, Any] | None) -> scoring.Delivery:
    """Where a stored order goes, as routing sees it (``Delivery.for_routing`` of a capture)."""
    if method == "pickup":
        return scoring.Delivery("pickup", store=pickup_location)
    address = ship_to or {}
    return scoring.Delivery("ship", latitude=address.get("latitude"),
                            longitude=address.get("longitude"),
                            postal_code=str(address.get("postal_code") or "").strip() or None,
                            country=str(address.get("country") or "").upper() or None)


async def check_delivery(delivery: DeliveryIn) -> Delivery:
    if delivery.method == "pickup":
        if not delivery.location:
            raise InvalidInput("A pickup order names its store ('delivery.location').",
                               code="location_required")
        store = await config.get_location(delivery.location)
        if store is None:
            raise InvalidInput(f"Unknown location '{delivery.location}'.",
                               code="unknown_location")
        if not (store.active and store.serves_pickups):
            raise InvalidInput(f"{store.name} ({store.code}) does not serve pickups.",
                               code="pickup_not_available")
        return Delivery("pickup", None, store, store.country.upper())
    if delivery.method == "ship":
        address = delivery.address
        if address is None:
            raise InvalidInput("A shipped order needs a delivery address ('delivery.address').",
                               code="address_required")
        country = country_code(address.country)
        for field in ("name", "line1", "postal_code", "city"):
            if not getattr(address, field).strip():
                raise InvalidInput(f"The delivery address needs a {field.replace('_', ' ')}.",
                                   code="incomplete_address", field=field)
        if (address.latitude is None) != (address.longitude is None):
            raise InvalidInput("Send the delivery address's latitude and longitude together, "
                               "or neither.", code="invalid_coordinates")
        return Delivery("ship", msgspec.structs.replace(address, country=country), None, country)
    raise InvalidInput(f"Unknown delivery method '{delivery.method}': ship or pickup.",
                       code="unknown_delivery_method")


def check_quantity(sku: str, quantity: int, *, allow_zero: bool = False) -> None:
    if quantity < 0 or (quantity == 0 and not allow_zero):
        raise InvalidInput(f"{sku}: a quantity of {quantity} is not an order; at least 1.",
                           code="invalid_quantity", sku=sku)
    if quantity > MAX_QUANTITY:
        raise InvalidInput(f"{sku}: {quantity} units is more than one line may hold "
                           f"({MAX_QUANTITY}).", code="quantity_too_large", sku=sku)


def check_unit_price(sku: str, unit_price: int | None) -> None:
    if unit_price is None:
        return
    if unit_price < 0:
        raise InvalidInput(f"{sku}: a price cannot be negative.", code="invalid_price", sku=sku)
    if unit_price > MAX_UNIT_PRICE:
        raise InvalidInput(f"{sku}: a unit price of {unit_price} is beyond what Comptoir accepts.",
                           code="price_too_large", sku=sku)


def check_variants(skus: Iterable[str], variants: Mapping[str, SellableVariant]) -> None:
    unknown = [sku for sku in skus if sku not in variants]
    if unknown:
        raise InvalidInput(f"Unknown SKU {', '.join(repr(s) for s in unknown)}.",
                           code="unknown_sku", skus=unknown)
    inactive = [sku for sku in skus if not variants[sku].active]
    if inactive:
        raise InvalidInput(f"No longer sold: {', '.join(inactive)}.", code="sku_inactive",
                           skus=inactive)


def unit_price_for(variant: SellableVariant, given: int | None, channel: ChannelOut) -> int:
    """The caller's price, else the catalog's (which must be in the channel's currency)."""
    if given is not None:
        return given
    if variant.currency != channel.currency:
        raise InvalidInput(
            f"{variant.sku} is priced in {variant.currency} in the catalog and the channel "
            f"sells in {channel.currency}: send 'unit_price'.",
            code="currency_mismatch", sku=variant.sku,
        )
    return variant.price



@dataclass(frozen=True, slots=True)
class CaptureRequest:
    """A capture request, checked: what the draft is made of, besides what is read."""

    data: OrderIn
    channel: ChannelOut
    delivery: Delivery
    actor: str
    scope: str  # the caller's Idempotency-Key space
    digest: str  # the body's hash, stored with the key
    idempotency_key: str | None
    email: str | None  # the customer's e-mail, checked and stripped
    billing_country: str | None = None  # ISO code, checked
    card_fingerprint: str | None = None  # ``card_fingerprint`` of the payment sent
    address_key: str | None = None  # ``address_key`` of the delivery address

    @property
    def demand(self) -> list[tuple[str, int]]:
        return [(line.sku, line.quantity) for line in self.data.lines]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def card_fingerprint(payment: PaymentIn | None) -> str | None:
    """What tells one card from another among a customer's orders: a digest of the payment's
    card token (the token itself is never stored); None without a token."""
    if payment is None or not payment.token:
        return None
    return _digest("card", payment.provider.strip().lower(), payment.token.strip())


def address_key(address: AddressIn | None) -> str | None:
    """What tells one delivery address from another, however it is typed: a digest of its
    lines, postal code and country, in lower case with single spaces; None for a pickup."""
    if address is None:
        return None
    parts = (address.line1, address.line2, address.postal_code.replace(" ", ""),
             address.country)
    return _digest("address", *(" ".join(part.lower().split()) for part in parts))


def request_hash(data: OrderIn, channel: str | None) -> str:
    """What makes two requests "the same body" for an Idempotency-Key (field order aside)."""
    return hashlib.sha256(
        (channel or "").encode() + b"\0" + msgspec.json.encode(data)).hexdigest()


async def check_capture(
    data: OrderIn, principal: Principal, idempotency_key: str | None
) -> CaptureRequest:
    """The request, checked before anything is read or written (``InvalidInput`` else)."""
    channel = await channel_for(data.channel, principal)
    email = _check_request(data, channel, idempotency_key)
    delivery = await check_delivery(data.delivery)
    billing = country_code(data.billing.country) if data.billing is not None else None
    return CaptureRequest(data, channel, delivery, principal.actor, key_scope(principal),
                          request_hash(data, channel.code), idempotency_key, email,
                          billing_country=billing,
                          card_fingerprint=card_fingerprint(data.payment),
                          address_key=address_key(delivery.address))


def _check_request(
    data: OrderIn, channel: ChannelOut, idempotency_key: str | None
) -> str | None:
    if data.currency is not None and data.currency.upper() != channel.currency:
        raise InvalidInput(f"The channel '{channel.code}' sells in {channel.currency}, not "
                           f"{data.currency}.", code="currency_mismatch")
    if not data.lines:
        raise InvalidInput("An order needs at least one line.", code="no_lines")
    if len(data.lines) > MAX_LINES:
        raise InvalidInput(f"An order has at most {MAX_LINES} lines.", code="too_many_lines")
    seen: set[str] = set()
    for line in data.lines:
        check_quantity(line.sku, line.quantity)
        check_unit_price(line.sku, line.unit_price)
        if line.sku in seen:
            raise InvalidInput(f"{line.sku} is on two lines: send it once with the total "
                               "quantity.", code="duplicate_sku", sku=line.sku)
        seen.add(line.sku)
    email = customers.check_email(data.customer.email) if data.customer is not None else None
    if data.external_ref is not None and not data.external_ref.strip():
        raise InvalidInput("An empty external reference: leave it out instead.",
                           code="invalid_external_ref")
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        raise InvalidInput("An Idempotency-Key has 1 to 200 characters.",
                           code="invalid_idempotency_key")
    return email
