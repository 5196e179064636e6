from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Varchar
from piccolo.columns.indexes import IndexMethod

from comptoir.config.models import InvoicingPolicy

ID = "2026-12-03T16:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "company: legal mentions and invoicing settings; accounting accounts per VAT rate"


def _params(default, *, length=None, unique=False, choices=None):
    params = {
        "default": default,
        "null": False,
        "primary_key": False,
        "unique": unique,
        "index": unique,
        "index_method": IndexMethod.btree,
        "choices": choices,
        "db_column_name": None,
        "secret": False,
    }
    if length is not None:
        params["length"] = length
    return params


_COMPANY_VARCHARS = [
    ("legal_form", 40, ""),
    ("share_capital", 60, ""),
    ("siren", 9, ""),
    ("siret", 14, ""),
    ("rcs", 120, ""),
    ("website", 200, ""),
    ("logo_path", 300, ""),
    ("invoice_prefix", 10, "FA"),
    ("credit_note_prefix", 10, "AV"),
    ("late_penalty_rate", 200, "trois fois le taux d\u2019intérêt légal"),
    ("customers_account", 20, "411000"),
]


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="comptoir_config", description=DESCRIPTION
    )

    for name, length, default in _COMPANY_VARCHARS:
        manager.add_column(
            table_class_name="Company",
            tablename="config_company",
            column_name=name,
            db_column_name=name,
            column_class_name="Varchar",
            column_class=Varchar,
            params=_params(default, length=length),
            schema=None,
        )
    manager.add_column(
        table_class_name="Company",
        tablename="config_company",
        column_name="invoicing_policy",
        db_column_name="invoicing_policy",
        column_class_name="Varchar",
        column_class=Varchar,
        params=_params(InvoicingPolicy.per_shipment, length=16, choices=InvoicingPolicy),
        schema=None,
    )
    manager.add_column(
        table_class_name="Company",
        tablename="config_company",
        column_name="payment_terms_days",
        db_column_name="payment_terms_days",
        column_class_name="Integer",
        column_class=Integer,
        params=_params(30),
        schema=None,
    )

    manager.add_table(
        class_name="AccountingAccount",
        tablename="config_accounting_account",
        schema=None,
        columns=None,
    )
    manager.add_column(
        table_class_name="AccountingAccount",
        tablename="config_accounting_account",
        column_name="vat_rate_bp",
        db_column_name="vat_rate_bp",
        column_class_name="Integer",
        column_class=Integer,
        params=_params(2000, unique=True),
        schema=None,
    )
    for name, default in (("sales_account", "706000"), ("vat_account", "445710")):
        manager.add_column(
            table_class_name="AccountingAccount",
            tablename="config_accounting_account",
            column_name=name,
            db_column_name=name,
            column_class_name="Varchar",
            column_class=Varchar,
            params=_params(default, length=20),
            schema=None,
        )

    return manager
