from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.tables import Migration

ID = "2026-11-27T09:12:41:104233"
VERSION = "1.38.0"
DESCRIPTION = "the carriers a fresh installation knows"

# So that parcels get tracking links from day one; each is editable, or can be made
# inactive, in the admin. (Piccolo runs a migration's raw steps before its table changes:
# these rows need a migration of their own, after the one that makes the table.)
DEFAULT_CARRIERS = [
    ("colissimo", "Colissimo",
     "https://www.laposte.fr/outils/suivre-vos-envois?code={tracking}"),
    ("chronopost", "Chronopost",
     "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={tracking}"),
    ("dhl", "DHL", "https://www.dhl.com/fr-fr/home/tracking.html?tracking-id={tracking}"),
    ("ups", "UPS", "https://www.ups.com/track?tracknum={tracking}"),
    ("dpd", "DPD", "https://trace.dpd.fr/fr/trace/{tracking}"),
]


async def _add_default_carriers():
    # Migration is bound to the database being migrated (comptoir.config.engine.bind_piccolo).
    for code, name, template in DEFAULT_CARRIERS:
        await Migration.raw(
            "INSERT INTO config_carrier (code, name, tracking_url_template, active) "
            "SELECT {}, {}, {}, {} WHERE NOT EXISTS "
            "(SELECT 1 FROM config_carrier WHERE code = {})",
            code, name, template, True, code,
        )


async def _remove_default_carriers():
    for code, _name, _template in DEFAULT_CARRIERS:
        await Migration.raw("DELETE FROM config_carrier WHERE code = {}", code)


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="comptoir_config", description=DESCRIPTION
    )
    manager.add_raw(_add_default_carriers)
    manager.add_raw_backwards(_remove_default_carriers)
    return manager
