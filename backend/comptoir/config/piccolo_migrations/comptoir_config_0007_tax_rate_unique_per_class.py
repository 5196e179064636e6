from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.tables import Migration

ID = "2026-12-03T16:41:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one VAT rate per (country, tax class), no longer one per country"

# Piccolo has no composite unique constraint: the index is made here, by hand, and a
# country's own UNIQUE goes (a country now has one row per class). On SQLite a column's
# UNIQUE can only go by rebuilding the table (nothing points to it). A migration of its
# own: Piccolo runs raw steps before a migration's table changes, and this one needs
# ``tax_class`` (0006).

_SQLITE_TABLE = """
CREATE TABLE config_tax_rate_new (
    "id" INTEGER PRIMARY KEY NOT NULL,
    "country" VARCHAR(2) NOT NULL DEFAULT '',
    "rate_bp" INTEGER NOT NULL DEFAULT 2000,
    "name" VARCHAR(60) NOT NULL DEFAULT 'TVA',
    "tax_class" VARCHAR(16) NOT NULL DEFAULT 'standard'
)"""


async def _one_rate_per_class():
    if Migration._meta.db.engine_type == "sqlite":
        await Migration.raw(_SQLITE_TABLE)
        await Migration.raw(
            "INSERT INTO config_tax_rate_new (id, country, rate_bp, name, tax_class) "
            "SELECT id, country, rate_bp, name, tax_class FROM config_tax_rate")
        await Migration.raw("DROP TABLE config_tax_rate")
        await Migration.raw("ALTER TABLE config_tax_rate_new RENAME TO config_tax_rate")
    else:
        await Migration.raw(
            "ALTER TABLE config_tax_rate DROP CONSTRAINT IF EXISTS config_tax_rate_country_key")
    await Migration.raw(
        "CREATE UNIQUE INDEX IF NOT EXISTS config_tax_rate_country_tax_class "
        "ON config_tax_rate (country, tax_class)")


async def _one_rate_per_country():
    await Migration.raw("DROP INDEX IF EXISTS config_tax_rate_country_tax_class")


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="comptoir_config", description=DESCRIPTION
    )
    manager.add_raw(_one_rate_per_class)
    manager.add_raw_backwards(_one_rate_per_country)
    return manager
