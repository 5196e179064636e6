"""Import every domain's tables so ``Base.metadata`` knows them all (Alembic, tests)."""

from comptoir import idempotency as idempotency_models
from comptoir.auth import models as auth_models
from comptoir.catalog import models as catalog_models
from comptoir.customers import models as customers_models
from comptoir.db.base import Base
from comptoir.events import models as events_models
from comptoir.fulfillment import models as fulfillment_models
from comptoir.inventory import models as inventory_models
from comptoir.invoicing import models as invoicing_models
from comptoir.orders import models as orders_models
from comptoir.payments import models as payments_models
from comptoir.routing import models as routing_models

__all__ = [
    "Base",
    "auth_models",
    "catalog_models",
    "customers_models",
    "events_models",
    "fulfillment_models",
    "idempotency_models",
    "inventory_models",
    "invoicing_models",
    "orders_models",
    "payments_models",
    "routing_models",
]
