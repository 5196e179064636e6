from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

from comptoir.config.models import CapturePolicy, PaymentProvider

ID = "2026-12-03T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "channels: payment provider and capture policy"


def _params(default, choices):
    return {
        "default": default,
        "null": False,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": choices,
        "db_column_name": None,
        "secret": False,
        "length": 12,
    }


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="comptoir_config", description=DESCRIPTION
    )
    for name, default, choices in (
        ("payment_provider", PaymentProvider.sandbox, PaymentProvider),
        ("capture_policy", CapturePolicy.on_shipment, CapturePolicy),
    ):
        manager.add_column(
            table_class_name="SalesChannel",
            tablename="config_channel",
            column_name=name,
            db_column_name=name,
            column_class_name="Varchar",
            column_class=Varchar,
            params=_params(default, choices),
            schema=None,
        )
    return manager
