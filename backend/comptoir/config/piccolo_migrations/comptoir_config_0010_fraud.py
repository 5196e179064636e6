from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import Boolean, ForeignKey, Integer, Serial, Text, Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

from comptoir.config.models import FraudRuleKind

ID = "2026-12-03T20:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "fraud rules; channels: fraud threshold"


class SalesChannel(Table, tablename="config_channel", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


def _params(default, *, null=False, length=None, choices=None):
    params = {
        "default": default,
        "null": null,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": choices,
        "db_column_name": None,
        "secret": False,
    }
    if length is not None:
        params["length"] = length
    return params


_RULE_COLUMNS = [
    ("kind", Varchar, _params(FraudRuleKind.amount_over, length=32, choices=FraudRuleKind)),
    ("points", Integer, _params(10)),
    ("amount", Integer, _params(None, null=True)),
    ("minutes", Integer, _params(None, null=True)),
    ("at_least", Integer, _params(None, null=True)),
    ("values", Text, _params("")),
    ("active", Boolean, _params(True)),
]


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="comptoir_config", description=DESCRIPTION
    )
    manager.add_column(
        table_class_name="SalesChannel",
        tablename="config_channel",
        column_name="fraud_threshold",
        db_column_name="fraud_threshold",
        column_class_name="Integer",
        column_class=Integer,
        params=_params(None, null=True),
        schema=None,
    )

    manager.add_table(
        class_name="FraudRule", tablename="config_fraud_rule", schema=None, columns=None
    )
    manager.add_column(
        table_class_name="FraudRule",
        tablename="config_fraud_rule",
        column_name="channel",
        db_column_name="channel",
        column_class_name="ForeignKey",
        column_class=ForeignKey,
        params={
            **_params(None, null=True),
            "references": SalesChannel,
            "on_delete": OnDelete.cascade,
            "on_update": OnUpdate.cascade,
            "target_column": None,
        },
        schema=None,
    )
    for name, column_class, params in _RULE_COLUMNS:
        manager.add_column(
            table_class_name="FraudRule",
            tablename="config_fraud_rule",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )
    return manager
