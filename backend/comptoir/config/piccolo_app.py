"""Piccolo app of Comptoir's configuration tables."""

import os

from piccolo.conf.apps import AppConfig

from comptoir.config.models import (
    AccountingAccount,
    Carrier,
    ChannelSafetyStock,
    Company,
    FraudRule,
    Location,
    RoutingPolicy,
    SalesChannel,
    ShippingRate,
    StaffProfile,
    TaxRate,
)

APP_CONFIG = AppConfig(
    app_name="comptoir_config",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Location, SalesChannel, Company, TaxRate, ShippingRate, StaffProfile,
                   RoutingPolicy, ChannelSafetyStock, Carrier, AccountingAccount, FraudRule],
    migration_dependencies=["piccolo.apps.user.piccolo_app"],
)
