"""Reading configuration, cached for a few seconds so hot paths do not query it each time."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from comptoir.config.models import (
    AccountingAccount,
    Carrier,
    ChannelSafetyStock,
    Company,
    FraudRule,
    Location,
    RoutingPolicy,
    SalesChannel,
    ShippingRate,
    TaxRate,
)
from comptoir.config.schemas import (
    AccountingAccountOut,
    CarrierOut,
    ChannelOut,
    ChannelSafetyStockOut,
    CompanyOut,
    FraudRuleOut,
    LocationOut,
    RoutingPolicyOut,
    ShippingRateOut,
)

__all__ = [
    "DEFAULT_VAT_BP",
    "ThirdPartyEndpoint",
    "accounting_accounts",
    "channel_safety_stock",
    "company",
    "fraud_rules",
    "get_carrier",
    "get_channel",
    "get_location",
    "invalidate",
    "list_carriers",
    "list_channels",
    "list_locations",
    "routing_policy",
    "third_party",
    "vat_rate_bp",
    "vat_rates",
]

CACHE_SECONDS = 5.0
DEFAULT_VAT_BP = 2000  # France, 20 %: the rate when a country has none configured


@dataclass(frozen=True)
class ThirdPartyEndpoint:
    """Where a 3PL location takes its orders, and the secret both sides sign with.

    The secret is left out of ``repr`` so that logging the endpoint never shows it.
    """

    location: str
    url: str
    secret: str = field(repr=False)


class _Snapshot:
    def __init__(
        self,
        locations: dict[str, LocationOut],
        channels: dict[str, ChannelOut],
        tax: dict[str, dict[str, int]],
        company: CompanyOut | None,
        carriers: dict[str, CarrierOut] | None = None,
        third_parties: dict[str, ThirdPartyEndpoint] | None = None,
        fraud_rules: list[FraudRuleOut] | None = None,
    ) -> None:
        self.locations = locations
        self.channels = channels
        self.tax = tax
        self.company = company
        self.carriers = carriers or {}
        self.third_parties = third_parties or {}
        self.fraud_rules = fraud_rules or []
        self.loaded_at = time.monotonic()


_snapshot: _Snapshot | None = None
_lock = asyncio.Lock()


def invalidate() -> None:
    """Forget the cached configuration (after a change made by this process)."""
    global _snapshot, _routing
    _snapshot = None
    _routing = None


def _fields(row: dict[str, Any], struct: type[Any]) -> dict[str, Any]:
    return {name: row[name] for name in struct.__struct_fields__ if name in row}


async def _load() -> _Snapshot:
    location_rows = await Location.select().order_by(Location.code)
    channel_rows = await SalesChannel.select().order_by(SalesChannel.code)
    rate_rows = await ShippingRate.select(
        ShippingRate.channel.code.as_alias("channel_code"),
        ShippingRate.method,
        ShippingRate.fee,
        ShippingRate.free_from,
    )
    tax_rows = await TaxRate.select()
    company_row = await Company.select().first()
    carrier_rows = await Carrier.select().order_by(Carrier.code)
    rule_rows = await FraudRule.select(
        FraudRule.channel.code.as_alias("channel_code"), FraudRule.kind, FraudRule.points,
        FraudRule.amount, FraudRule.minutes, FraudRule.at_least, FraudRule.values,
    ).where(FraudRule.active.eq(True)).order_by(FraudRule._meta.primary_key)
    rates: dict[str, list[ShippingRateOut]] = {}
    for r in rate_rows:
        rates.setdefault(r["channel_code"], []).append(
            ShippingRateOut(method=r["method"], fee=r["fee"], free_from=r["free_from"])
        )
    return _Snapshot(
        locations={r["code"]: LocationOut(**_fields(r, LocationOut)) for r in location_rows},
        channels={
            r["code"]: ChannelOut(**_fields(r, ChannelOut), shipping_rates=rates.get(r["code"], []))
            for r in channel_rows
        },
        tax=_rates_per_country(tax_rows),
        company=CompanyOut(**_fields(company_row, CompanyOut)) if company_row else None,
        carriers={r["code"].strip().lower(): CarrierOut(**_fields(r, CarrierOut))
                  for r in carrier_rows},
        third_parties={
            r["code"]: ThirdPartyEndpoint(location=r["code"],
                                          url=(r["webhook_url"] or "").strip(),
                                          secret=r["webhook_secret"] or "")
            for r in location_rows if r["kind"] == "3pl"
        },
        fraud_rules=[_fraud_rule(r) for r in rule_rows],
    )


def _fraud_rule(row: dict[str, Any]) -> FraudRuleOut:
    return FraudRuleOut(
        channel=row["channel_code"], kind=row["kind"], points=row["points"] or 0,
        amount=row["amount"], minutes=row["minutes"], at_least=row["at_least"],
        values=tuple(v.strip() for v in (row["values"] or "").split(",") if v.strip()))


def _rates_per_country(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    rates: dict[str, dict[str, int]] = {}
    for r in rows:
        rates.setdefault(r["country"].upper(), {})[r["tax_class"]] = r["rate_bp"]
    return rates


async def _current() -> _Snapshot:
    global _snapshot
    snap = _snapshot
    if snap is not None and time.monotonic() - snap.loaded_at < CACHE_SECONDS:
        return snap
    async with _lock:
        snap = _snapshot
        if snap is None or time.monotonic() - snap.loaded_at >= CACHE_SECONDS:
            snap = _snapshot = await _load()
    return snap


async def list_locations(*, active_only: bool = False) -> list[LocationOut]:
    snap = await _current()
    return [loc for loc in snap.locations.values() if loc.active or not active_only]


async def get_location(code: str) -> LocationOut | None:
    return (await _current()).locations.get(code)


async def list_channels(*, active_only: bool = False) -> list[ChannelOut]:
    snap = await _current()
    return [ch for ch in snap.channels.values() if ch.active or not active_only]


async def get_channel(code: str) -> ChannelOut | None:
    return (await _current()).channels.get(code)


async def fraud_rules(channel: str) -> list[FraudRuleOut]:
    """The active fraud rules that apply to ``channel``: its own and every channel's."""
    return [rule for rule in (await _current()).fraud_rules
            if rule.channel is None or rule.channel == channel]


async def vat_rate_bp(country: str) -> int:
    """The standard VAT rate of ``country`` in basis points (shipping's), France's 20 % when
    none is configured."""
    return (await vat_rates(country))["standard"]


async def vat_rates(country: str) -> dict[str, int]:
    """``country``'s VAT rate per tax class (basis points). ``standard`` is always there
    (France's 20 % when the country has none configured); a class the country has no row
    for is absent: its SKUs cannot be sold there (``orders.pricing.line_rate``)."""
    rates = (await _current()).tax.get(country.upper(), {})
    return {"standard": DEFAULT_VAT_BP, **rates}


async def company() -> CompanyOut | None:
    return (await _current()).company


async def accounting_accounts() -> list[AccountingAccountOut]:
    """The accounts of each VAT rate for the accounting export (read afresh: not a hot path)."""
    rows = await AccountingAccount.select().order_by(AccountingAccount.vat_rate_bp)
    return [AccountingAccountOut(**_fields(row, AccountingAccountOut)) for row in rows]


async def list_carriers(*, active_only: bool = False) -> list[CarrierOut]:
    snap = await _current()
    return [c for c in snap.carriers.values() if c.active or not active_only]


async def get_carrier(code: str) -> CarrierOut | None:
    """The carrier ``code`` (compared in lower case), active or not; None when unknown."""
    return (await _current()).carriers.get(code.strip().lower())


async def third_party(location: str) -> ThirdPartyEndpoint | None:
    """The webhook endpoint of a 3PL location; None for any other kind of location."""
    return (await _current()).third_parties.get(location)


# --- routing -------------------------------------------------------------------------------


class _Routing:
    def __init__(self, policy: RoutingPolicyOut, safety: list[ChannelSafetyStockOut]) -> None:
        self.policy = policy
        self.safety = safety
        self.loaded_at = time.monotonic()


_routing: _Routing | None = None
_routing_lock = asyncio.Lock()


async def _load_routing() -> _Routing:
    row = await RoutingPolicy.select().order_by(RoutingPolicy._meta.primary_key).first()
    safety_rows = await ChannelSafetyStock.select(
        ChannelSafetyStock.channel.code.as_alias("channel_code"),
        ChannelSafetyStock.location.code.as_alias("location_code"),
        ChannelSafetyStock.units,
    )
    return _Routing(
        RoutingPolicyOut(**_fields(row, RoutingPolicyOut)) if row else RoutingPolicyOut(),
        [ChannelSafetyStockOut(channel=r["channel_code"], location=r["location_code"],
                               units=max(0, r["units"] or 0))
         for r in safety_rows if r["channel_code"]],
    )


async def _current_routing() -> _Routing:
    global _routing
    cached = _routing
    if cached is not None and time.monotonic() - cached.loaded_at < CACHE_SECONDS:
        return cached
    async with _routing_lock:
        cached = _routing
        if cached is None or time.monotonic() - cached.loaded_at >= CACHE_SECONDS:
            cached = _routing = await _load_routing()
    return cached


async def routing_policy() -> RoutingPolicyOut:
    """The routing policy: its one configured row, or Comptoir's defaults when there is none."""
    return (await _current_routing()).policy


async def channel_safety_stock(channel: str) -> tuple[int, dict[str, int]]:
    """Units of every SKU kept back from ``channel``'s orders: (everywhere, {location: units}).

    A row for a location wins over the channel's rule for every location.
    """
    everywhere = 0
    at: dict[str, int] = {}
    for rule in (await _current_routing()).safety:
        if rule.channel != channel:
            continue
        if rule.location is None:
            everywhere = max(everywhere, rule.units)
        else:
            at[rule.location] = rule.units
    return everywhere, at
