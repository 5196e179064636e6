from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T10:02:02:699652"
VERSION = "1.38.0"
DESCRIPTION = "sales channels: the order total above which the counter checks an ID"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="comptoir_config", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="SalesChannel",
        tablename="config_channel",
        column_name="id_check_above",
        db_column_name="id_check_above",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
