"""What ``seed-demo`` says it did: counts read back from the database, and the logins."""

from __future__ import annotations

import msgspec

from comptoir.seed.demo import DemoRetailer
from comptoir.settings import Settings

__all__ = ["SeedReport", "build_report", "print_report"]


class SeedReport(msgspec.Struct, kw_only=True):
    """What the database holds after the seed, and how much of it this run added."""

    brand: str
    company: str = ""
    warehouses: int = 0
    stores: int = 0
    channels: list[str] = []
    vat_countries: int = 0
    products: int = 0
    skus: int = 0
    stock_levels: int = 0
    stocked_locations: int = 0
    units: int = 0
    orders: int = 0
    order_days: int = 0
    invoices: int = 0
    credit_notes: int = 0
    created: dict[str, int] = {}

    @property
    def changed_anything(self) -> bool:
        return any(self.created.values())


async def build_report(
    settings: Settings, demo: DemoRetailer, created: dict[str, int]
) -> SeedReport:
    from sqlalchemy import func, select

    from comptoir.catalog.models import Product, Variant
    from comptoir.config import service as config
    from comptoir.config.models import TaxRate
    from comptoir.db.engine import create_engine, make_sessionmaker
    from comptoir.inventory.models import InventoryLevel
    from comptoir.invoicing.models import CreditNote, Invoice
    from comptoir.orders.models import Order

    locations = await config.list_locations()
    company = await config.company()
    report = SeedReport(
        brand=demo.brand,
        company=f"{company.legal_name} ({company.vat_number})" if company else "",
        warehouses=sum(1 for loc in locations if loc.kind == "warehouse"),
        stores=sum(1 for loc in locations if loc.kind == "store"),
        channels=[ch.code for ch in await config.list_channels()],
        vat_countries=len({r["country"] for r in await TaxRate.select(TaxRate.country)}),
        created=created,
    )
    engine = create_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            report.products = await session.scalar(select(func.count()).select_from(Product)) or 0
            report.skus = await session.scalar(select(func.count()).select_from(Variant)) or 0
            levels, stocked, units = (await session.execute(select(
                func.count(),
                func.count(func.distinct(InventoryLevel.location)),
                func.coalesce(func.sum(InventoryLevel.on_hand), 0),
            ))).one()
            report.stock_levels, report.stocked_locations, report.units = levels, stocked, units
            first, last = (await session.execute(
                select(func.min(Order.created_at), func.max(Order.created_at)))).one()
            report.orders = await session.scalar(select(func.count()).select_from(Order)) or 0
            report.order_days = (last - first).days + 1 if first and last else 0
            report.invoices = await session.scalar(
                select(func.count()).select_from(Invoice)) or 0
            report.credit_notes = await session.scalar(
                select(func.count()).select_from(CreditNote)) or 0
    finally:
        await engine.dispose()
    return report


def print_report(report: SeedReport, demo: DemoRetailer) -> None:
    if report.changed_anything:
        print(f"{report.brand} demo data loaded.")
    else:
        print(f"{report.brand} demo data is already seeded: nothing changed.")
    print(f"  company     {report.company}")
    print(f"  locations   {report.warehouses} warehouses, {report.stores} stores")
    print(f"  channels    {', '.join(report.channels)} (EUR)")
    print(f"  VAT rates   {report.vat_countries} countries")
    print(f"  catalog     {report.products} products, {report.skus} SKUs")
    print(f"  stock       {report.units} units in {report.stock_levels} levels "
          f"at {report.stocked_locations} locations")
    print(f"  orders      {report.orders} over {report.order_days} days")
    print(f"  invoices    {report.invoices}, credit notes {report.credit_notes}")
    print()
    print("Demo logins (sign in at / and, for the admin, at /admin/):")
    for member in demo.staff:
        where = f"  at {member.location}" if member.location else ""
        print(f"  {member.role:<10} username {member.username:<10} "
              f"password {member.password}{where}")

