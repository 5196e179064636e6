"""The demo retailer's configuration (Piccolo tables): company, VAT, locations, channels,
carriers, staff. Only what is missing is added, by its natural key."""

from __future__ import annotations

from typing import Any

import msgspec

from comptoir.seed.demo import DemoRetailer

__all__ = ["DEMO_CARRIERS", "piccolo_transaction", "seed_configuration"]

# The carriers Quai Neuf ships with: (code, name, tracking link with {tracking}). A fresh
# database already has the first five (configuration migration 0004); the seed adds any
# that is missing, by code, and leaves an existing one as the admin set it.
DEMO_CARRIERS = [
    ("colissimo", "Colissimo", "https://www.laposte.fr/outils/suivre-vos-envois?code={tracking}"),
    ("chronopost", "Chronopost",
     "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={tracking}"),
    ("dhl", "DHL", "https://www.dhl.com/fr-fr/home/tracking.html?tracking-id={tracking}"),
    ("ups", "UPS", "https://www.ups.com/track?tracknum={tracking}"),
    ("dpd", "DPD", "https://trace.dpd.fr/fr/trace/{tracking}"),
    ("mondial-relay", "Mondial Relay",
     "https://www.mondialrelay.fr/suivi-de-colis/?NumeroExpedition={tracking}"),
    ("gls", "GLS", "https://gls-group.com/FR/fr/suivi-colis?match={tracking}"),
]



def piccolo_transaction(table: Any) -> Any:
    from piccolo.engine.sqlite import SQLiteEngine, TransactionType

    engine = table._meta.db
    if isinstance(engine, SQLiteEngine):
        # Take the write lock up front, as the SQLAlchemy side does, so a concurrent writer
        # makes this wait instead of failing half-way.
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


async def seed_configuration(demo: DemoRetailer, created: dict[str, int]) -> None:
    """Company, VAT rates, locations, channels (with their shipping rates), carriers, staff."""
    from piccolo.apps.user.tables import BaseUser

    from comptoir.auth.service import create_staff
    from comptoir.config.models import (
        Carrier,
        ChannelSafetyStock,
        Company,
        Location,
        RoutingPolicy,
        SalesChannel,
        ShippingRate,
        TaxRate,
    )

    async with piccolo_transaction(Location):
        if await Company.count() == 0:
            await Company(**msgspec.structs.asdict(demo.company)).save()
            created["company"] = 1

        rated = {(r["country"], r["tax_class"])
                 for r in await TaxRate.select(TaxRate.country, TaxRate.tax_class)}
        rates = [TaxRate(**msgspec.structs.asdict(t)) for t in demo.tax_rates
                 if (t.country, t.tax_class) not in rated]
        if rates:
            await TaxRate.insert(*rates)
        created["vat_rates"] = len(rates)

        have = {r["code"] for r in await Location.select(Location.code)}
        locations = [Location(**msgspec.structs.asdict(loc)) for loc in demo.locations
                     if loc.code not in have]
        if locations:
            await Location.insert(*locations)
        created["locations"] = len(locations)

        have = {r["code"] for r in await SalesChannel.select(SalesChannel.code)}
        new_channels = [ch for ch in demo.channels if ch.code not in have]
        if new_channels:
            await SalesChannel.insert(*[
                SalesChannel(code=ch.code, name=ch.name, kind=ch.kind, currency=ch.currency,
                             prices_include_tax=ch.prices_include_tax)
                for ch in new_channels
            ])
            ids = {r["code"]: r["id"] for r in await SalesChannel.select()}
            # Rates come with a channel the seed creates; an existing channel keeps its own.
            shipping = [ShippingRate(channel=ids[ch.code], **msgspec.structs.asdict(rate))
                        for ch in new_channels for rate in ch.shipping_rates]
            if shipping:
                await ShippingRate.insert(*shipping)
        created["channels"] = len(new_channels)

        have = {r["code"] for r in await Carrier.select(Carrier.code)}
        carriers = [Carrier(code=code, name=name, tracking_url_template=template, active=True)
                    for code, name, template in DEMO_CARRIERS if code not in have]
        if carriers:
            await Carrier.insert(*carriers)
        created["carriers"] = len(carriers)

        # The routing policy: one row, added only when there is none (the admin's edits stay).
        if await RoutingPolicy.count() == 0:
            await RoutingPolicy(**msgspec.structs.asdict(demo.routing_policy)).save()
            channel_ids = {r["code"]: r["id"] for r in await SalesChannel.select()}
            rules = [ChannelSafetyStock(channel=channel_ids[rule.channel], location=None,
                                        units=rule.units)
                     for rule in demo.channel_safety_stock if rule.channel in channel_ids]
            if rules:
                await ChannelSafetyStock.insert(*rules)
            created["routing_policy"] = 1

        have = {r["username"] for r in await BaseUser.select(BaseUser.username)}
        staff = [s for s in demo.staff if s.username not in have]
        for member in staff:
            await create_staff(username=member.username, password=member.password,
                               role=member.role, location=member.location, email=member.email)
        created["staff"] = len(staff)

