"""VAT per line: each order line keeps its own rate; each SKU has a tax class

``order_lines.vat_rate_bp``: every line stored before gets its order's ``vat_rate_bp`` (the
one rate its order had; nothing else changes, so stored amounts and totals stay exactly as
they were), then the column becomes NOT NULL. ``variants.tax_class``: every SKU is
'standard' until a manager says otherwise.

Revision ID: e7a3c5b19d42
Revises: d41f7a2c9e10
Create Date: 2026-12-03 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e7a3c5b19d42'
down_revision: str | None = 'd41f7a2c9e10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tax_class', sa.String(length=16),
                                      server_default='standard', nullable=False))
    backfill = sa.text(
        "UPDATE order_lines SET vat_rate_bp = "
        "(SELECT o.vat_rate_bp FROM orders o WHERE o.id = order_lines.order_id)")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a NOT NULL column only with a default, and rebuilding order_lines
        # (what making it NOT NULL afterwards takes) fails under the foreign keys of the
        # tables that point to it. The default is never used: every writer writes the rate.
        op.execute(sa.text(
            "ALTER TABLE order_lines ADD COLUMN vat_rate_bp INTEGER NOT NULL DEFAULT 0"))
        op.execute(backfill)
        return
    op.add_column('order_lines', sa.Column('vat_rate_bp', sa.Integer(), nullable=True))
    op.execute(backfill)
    op.alter_column('order_lines', 'vat_rate_bp', existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_column('vat_rate_bp')
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.drop_column('tax_class')
