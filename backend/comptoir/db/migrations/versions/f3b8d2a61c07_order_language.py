"""The customer's language on the order (fr | en), for what is written to them.

Revision ID: f3b8d2a61c07
Revises: 9427eae7a3a4
Create Date: 2026-12-03 17:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = 'f3b8d2a61c07'
down_revision: str | None = '9427eae7a3a4'
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('language')
