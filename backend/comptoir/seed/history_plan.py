"""A month of the demo retailer's orders, planned in pure code (no I/O).

Each order gets a channel, a customer, lines, a delivery and a fate (delivered, held,
cancelled, partly cancelled, partly shipped…), and the steps that fate takes, each at a
believable time: orders come in when people shop (lunch and evening online, opening hours in
the stores), staff work them in working hours, a pickup is collected days later. Steps still
in the future when the seed runs are left out, so the recent orders are naturally half-way:
picked, packed, waiting at the counter. The same ``now`` gives the same plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import takewhile
from typing import Literal
from zoneinfo import ZoneInfo

from comptoir.seed.catalog import draw

__all__ = [
    "HISTORY_DAYS",
    "Address",
    "Customer",
    "PlannedLine",
    "PlannedOrder",
    "Step",
    "plan_history",
]

HISTORY_DAYS = 30
PARIS = ZoneInfo("Europe/Paris")
StepKind = Literal["capture", "hold", "release", "cancel", "cancel_line", "pick", "pack", "ship",
                   "ship_part", "ready", "handover", "credit_note"]
Fate = Literal["delivered", "held", "released", "cancelled", "partly_cancelled", "partly_shipped"]
# (fate, weight): most orders simply go out; a few are held, cancelled or go out in parts.
FATES: list[tuple[Fate, int]] = [("delivered", 64), ("released", 7), ("held", 4),
                                 ("cancelled", 9), ("partly_cancelled", 8),
                                 ("partly_shipped", 8)]
# (channel, weight, hours people order at, local time)
CHANNELS: list[tuple[str, int, Sequence[int]]] = [
    ("web", 50, (8, 9, 12, 12, 13, 13, 18, 19, 20, 20, 21, 21, 22, 23)),
    ("marketplace", 20, (7, 10, 12, 13, 17, 19, 20, 21, 22)),
    ("pos", 15, (10, 11, 12, 14, 15, 16, 17, 18, 18)),
    ("phone", 15, (9, 10, 10, 11, 14, 15, 16, 17)),
]
# Customers' towns: (city, postal code, latitude, longitude).
TOWNS = [("Paris", "75011", 48.859, 2.380), ("Paris", "75015", 48.842, 2.300),
         ("Boulogne-Billancourt", "92100", 48.835, 2.241), ("Lyon", "69003", 45.760, 4.850),
         ("Villeurbanne", "69100", 45.771, 4.880), ("Marseille", "13006", 43.289, 5.380),
         ("Bordeaux", "33000", 44.841, -0.580), ("Lille", "59000", 50.630, 3.060),
         ("Nantes", "44000", 47.218, -1.554), ("Toulouse", "31000", 43.604, 1.444),
         ("Rennes", "35000", 48.111, -1.680), ("Strasbourg", "67000", 48.583, 7.750),
         ("Montpellier", "34000", 43.611, 3.877), ("Dijon", "21000", 47.322, 5.041)]
STREETS = ["rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Gambetta",
           "rue des Lilas", "place du Marché", "rue Pasteur", "allée des Tilleuls",
           "rue du Faubourg", "quai des Chartrons"]
FIRST_NAMES = ["Camille", "Léa", "Manon", "Chloé", "Inès", "Jade", "Louise", "Emma", "Sarah",
               "Lucas", "Hugo", "Louis", "Nathan", "Gabriel", "Arthur", "Jules", "Karim",
               "Mehdi", "Thomas", "Claire", "Sophie", "Nicolas", "Julien", "Aïcha"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
              "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David",
              "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "Benali", "Nguyen"]


@dataclass(frozen=True, slots=True)
class Customer:
    email: str
    name: str
    phone: str


@dataclass(frozen=True, slots=True)
class Address:
    name: str
    line1: str
    postal_code: str
    city: str
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class PlannedLine:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Step:
    at: dt.datetime  # UTC
    ref: str  # the order's external reference
    kind: StepKind


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    ref: str
    channel: str
    placed_at: dt.datetime  # UTC
    customer: Customer
    lines: tuple[PlannedLine, ...]
    pickup_at: str | None  # a store's code, or None: shipped to ``address``
    address: Address
    fate: Fate
    steps: tuple[Step, ...]  # the capture first; only the ones already past


def _pick(seq: Sequence[object], *key: str) -> int:
    return draw(*key) % len(seq)


def _weighted(weights: Sequence[int], *key: str) -> int:
    roll = draw(*key) % sum(weights)
    for index, weight in enumerate(weights):
        if roll < weight:
            return index
        roll -= weight
    raise AssertionError("unreachable")


def _minutes(low: int, high: int, *key: str) -> dt.timedelta:
    return dt.timedelta(minutes=low + draw(*key) % (high - low + 1))


def _working(moment: dt.datetime) -> dt.datetime:
    """The first moment staff are at work (Monday to Saturday, 9:00 to 19:00) from ``moment``."""
    local = moment.astimezone(PARIS)
    while True:
        if local.weekday() == 6 or local.hour >= 19:
            local = (local + dt.timedelta(days=1)).replace(hour=9, minute=local.minute % 30)
            continue
        if local.hour < 9:
            local = local.replace(hour=9, minute=local.minute % 30)
        return local.astimezone(dt.UTC)


def _customer(n: int) -> Customer:
    first = FIRST_NAMES[_pick(FIRST_NAMES, "first", str(n % 97))]
    last = LAST_NAMES[_pick(LAST_NAMES, "last", str(n % 89))]
    # About one order in three is from a returning customer: the same e-mail again.
    handle = f"{first}.{last}".lower().replace("è", "e").replace("é", "e").replace("ï", "i")
    return Customer(email=f"{handle}@exemple.fr", name=f"{first} {last}",
                    phone=f"+33 6 {draw('phone', handle) % 10**8:08d}")


def _address(customer: Customer) -> Address:
    city, postal_code, lat, lon = TOWNS[_pick(TOWNS, "town", customer.email)]
    street = STREETS[_pick(STREETS, "street", customer.email)]
    return Address(name=customer.name, line1=f"{1 + draw('no', customer.email) % 120} {street}",
                   postal_code=postal_code, city=city, latitude=lat, longitude=lon)


def _journey(order: str, fate: Fate, start: dt.datetime, pickup: bool,
             several_lines: bool) -> list[tuple[dt.datetime, StepKind]]:
    """Every step of the order's fate after its capture at ``start``, future ones included."""
    steps: list[tuple[dt.datetime, StepKind]] = []
    at = start
    if fate in ("held", "released"):
        at += _minutes(4, 40, "hold", order)
        steps.append((at, "hold"))
        if fate == "held":
            return steps
        at = _working(at) + _minutes(30, 300, "release", order)
        steps.append((at, "release"))
    if fate == "cancelled":
        return [(at + _minutes(20, 600, "cancel", order), "cancel")]
    if fate == "partly_cancelled" and several_lines:
        at += _minutes(10, 240, "cancel-line", order)
        steps.append((at, "cancel_line"))
    # Orders in after the 15:00 cut-off are picked the next working morning.
    if at.astimezone(PARIS).hour >= 15:
        at = _working(at.astimezone(PARIS).replace(hour=19).astimezone(dt.UTC))
    at = _working(at + _minutes(20, 180, "pick", order))
    steps.append((at, "pick"))
    if pickup:
        at += _minutes(10, 45, "ready", order)
        steps.append((at, "ready"))
        # Collected the same day or within three (well before the store sends it back).
        collected = at + dt.timedelta(days=draw("days", order) % 4) + _minutes(30, 480, "hand",
                                                                                order)
        steps.append((_working(collected), "handover"))
        return steps
    at += _minutes(10, 60, "pack", order)
    steps.append((at, "pack"))
    at = max(at + dt.timedelta(minutes=20), _working(at).replace(minute=0) + dt.timedelta(hours=2))
    if fate == "partly_shipped" and several_lines:
        steps.append((at, "ship_part"))
        at = _working(at + dt.timedelta(days=2 + draw("rest", order) % 3))
    steps.append((at, "ship"))
    return steps


def plan_history(now: dt.datetime, ship_skus: Sequence[str],
                 pickup_skus: Mapping[str, Sequence[str]]) -> list[PlannedOrder]:
    """The last ``HISTORY_DAYS`` days of orders, as of ``now``.

    ``ship_skus``: what can be sent from the warehouses; ``pickup_skus``: per store, what it
    holds enough of to promise for a pickup there.
    """
    stores = sorted(pickup_skus)
    today = now.astimezone(PARIS).date()
    orders: list[PlannedOrder] = []
    n = 0
    for days_ago in range(HISTORY_DAYS, -1, -1):
        day = today - dt.timedelta(days=days_ago)
        # Busier at weekends, and busier lately (the shop is growing; the last days fill
        # the dashboard's "today" and its work in progress).
        count = 1 + (draw("count", day.isoformat()) % 3 == 0) + (day.weekday() >= 5)
        count += 2 if days_ago <= 2 else 0
        for _ in range(count):
            n += 1
            key = str(n)
            channel, _weight, hours = CHANNELS[_weighted([c[1] for c in CHANNELS], "ch", key)]
            hour = hours[_pick(hours, "hour", key)]
            local = dt.datetime.combine(day, dt.time(hour, draw("min", key) % 60), PARIS)
            placed = local.astimezone(dt.UTC)
            if placed >= now - dt.timedelta(minutes=5):
                continue
            customer = _customer(n if draw("returning", key) % 3 else n // 3)
            store = stores[_pick(stores, "store", key)]
            pickup = channel == "pos" or (channel in ("web", "phone")
                                          and draw("pickup", key) % 100 < 35)
            skus = pickup_skus[store] if pickup else ship_skus
            count_lines = 1 + _weighted([55, 30, 15], "lines", key)
            chosen = sorted({skus[draw("sku", key, str(i)) % len(skus)]
                             for i in range(count_lines)})
            lines = tuple(PlannedLine(sku, 1 + (draw("qty", key, sku) % 5 == 0))
                          for sku in chosen)
            fate = FATES[_weighted([f[1] for f in FATES], "fate", key)][0]
            if fate == "held" and days_ago > 3:
                fate = "released"  # nobody leaves an order on hold for weeks
            elif days_ago <= 3 and n % 5 == 0:
                fate = "held"  # a few recent ones wait for a manager's decision
            ref = {"web": "QN-W", "marketplace": "MKP-", "pos": "CAISSE-",
                   "phone": "TEL-"}[channel] + f"{100000 + n}"
            journey = _journey(ref, fate, placed, pickup, len(lines) > 1)
            if days_ago <= 1 and fate != "held":
                # The last two days' work is not all done: some wait to be picked, packed or
                # collected (the dashboard's "to do").
                undone = draw("backlog", key) % 3 + (days_ago == 0 and fate != "cancelled")
                journey = journey[:max(0, len(journey) - undone)]
            steps = [Step(placed, ref, "capture")]
            steps.extend(Step(at, ref, kind)
                         for at, kind in takewhile(lambda step: step[0] < now, journey))
            orders.append(PlannedOrder(
                ref=ref, channel=channel, placed_at=placed, customer=customer, lines=lines,
                pickup_at=store if pickup else None, address=_address(customer), fate=fate,
                steps=tuple(steps),
            ))
    return orders
