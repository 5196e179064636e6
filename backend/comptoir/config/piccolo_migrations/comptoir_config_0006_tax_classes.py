from enum import Enum

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T16:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "VAT rates per tax class: each rate row says which class of SKUs it taxes"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="comptoir_config", description=DESCRIPTION
    )

    # Every rate configured before is its country's standard rate.
    manager.add_column(
        table_class_name="TaxRate",
        tablename="config_tax_rate",
        column_name="tax_class",
        db_column_name="tax_class",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 16,
            "default": "standard",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": Enum(
                "TaxClass",
                {
                    "standard": "standard",
                    "reduced": "reduced",
                    "super_reduced": "super_reduced",
                    "zero": "zero",
                },
            ),
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
