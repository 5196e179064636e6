"""``comptoir seed-demo``: a believable French retailer to try Comptoir with, loaded idempotently.

The retailer, Quai Neuf, is fictitious. Its network, channels, VAT rates, staff and catalog
families are read from ``data/demo_retailer.json``; products, SKUs, barcodes and opening stock
are derived from those lists by pure functions, the same on every run and every machine, so a
second run finds everything already there (by location and channel code, VAT country, SKU and
username) and changes nothing. What exists is never modified: the seed only adds what is missing.
"""

from __future__ import annotations

import argparse
import sys

from comptoir.seed.catalog import (
    PlannedProduct,
    PlannedVariant,
    demo_barcode,
    ean13_check_digit,
    plan_catalog,
    plan_stock,
    seed_catalog_and_stock,
)
from comptoir.seed.configuration import seed_configuration
from comptoir.seed.demo import DemoRetailer, load_demo
from comptoir.seed.history import seed_history
from comptoir.seed.report import SeedReport, build_report, print_report
from comptoir.settings import Settings

__all__ = [
    "DemoRetailer",
    "PlannedProduct",
    "PlannedVariant",
    "SeedReport",
    "demo_barcode",
    "ean13_check_digit",
    "load_demo",
    "plan_catalog",
    "plan_stock",
    "seed_demo",
    "seed_demo_cmd",
]


async def seed_demo(settings: Settings, demo: DemoRetailer | None = None) -> SeedReport:
    """Load the demo retailer into a migrated database; adds only what is missing.

    Piccolo's tables must already be bound to ``settings``' database (the command does it).
    """
    from comptoir.config import service as config

    demo = demo or load_demo()
    created: dict[str, int] = {}
    # Piccolo's writes first and committed, then SQLAlchemy's: on SQLite each takes the write
    # lock for its whole transaction, so interleaving them would make one wait on the other.
    await seed_configuration(demo, created)
    config.invalidate()
    await seed_catalog_and_stock(settings, demo, created)
    await seed_history(settings, demo, created)
    return await build_report(settings, demo, created)


async def seed_demo_cmd(settings: Settings, _args: argparse.Namespace) -> int:
    from comptoir.config.engine import bind_piccolo, make_piccolo_engine
    from comptoir.config.models import Location

    bind_piccolo(make_piccolo_engine(settings))
    if not await Location.table_exists():
        print("comptoir seed-demo: the database has no tables yet; run `comptoir migrate` first.",
              file=sys.stderr)
        return 1
    demo = load_demo()
    report = await seed_demo(settings, demo)
    print_report(report, demo)
    return 0
