from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-27T09:12:40:318507"
VERSION = "1.38.0"
DESCRIPTION = "carriers in configuration; 3PL webhook URL and secret on locations"

def _varchar(length, *, unique=False, secret=False):
    return {
        "length": length,
        "default": "",
        "null": False,
        "primary_key": False,
        "unique": unique,
        "index": unique,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": secret,
    }


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="comptoir_config", description=DESCRIPTION
    )

    manager.add_table(
        class_name="Carrier",
        tablename="config_carrier",
        schema=None,
        columns=None,
    )

    manager.add_column(
        table_class_name="Carrier",
        tablename="config_carrier",
        column_name="code",
        db_column_name="code",
        column_class_name="Varchar",
        column_class=Varchar,
        params=_varchar(40, unique=True),
        schema=None,
    )

    manager.add_column(
        table_class_name="Carrier",
        tablename="config_carrier",
        column_name="name",
        db_column_name="name",
        column_class_name="Varchar",
        column_class=Varchar,
        params=_varchar(120),
        schema=None,
    )

    manager.add_column(
        table_class_name="Carrier",
        tablename="config_carrier",
        column_name="tracking_url_template",
        db_column_name="tracking_url_template",
        column_class_name="Varchar",
        column_class=Varchar,
        params=_varchar(300),
        schema=None,
    )

    manager.add_column(
        table_class_name="Carrier",
        tablename="config_carrier",
        column_name="active",
        db_column_name="active",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": True,
            "null": False,
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

    manager.add_column(
        table_class_name="Location",
        tablename="config_location",
        column_name="webhook_url",
        db_column_name="webhook_url",
        column_class_name="Varchar",
        column_class=Varchar,
        params=_varchar(300),
        schema=None,
    )

    manager.add_column(
        table_class_name="Location",
        tablename="config_location",
        column_name="webhook_secret",
        db_column_name="webhook_secret",
        column_class_name="Varchar",
        column_class=Varchar,
        params=_varchar(200, secret=True),
        schema=None,
    )

    return manager
