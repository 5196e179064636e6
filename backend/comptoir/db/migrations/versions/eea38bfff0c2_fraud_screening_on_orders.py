"""fraud screening on orders: the score, its threshold and reasons; what velocity counts by

The order keeps its fraud score, the threshold it was compared with and the reasons (codes
with their figures). A digest of the card the order was paid with and one of its delivery
address let the velocity and card rules count earlier orders; a phone's and an address's
recent orders are read through two partial indexes.

Revision ID: eea38bfff0c2
Revises: bbdec83d8d3c
Create Date: 2026-12-03 18:46:24
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'eea38bfff0c2'
down_revision: str | None = 'bbdec83d8d3c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'cockroachdb').with_variant(advanced_alchemy.types.json.ORA_JSONB(), 'oracle').with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def _present(column: str) -> dict[str, sa.TextClause]:
    return {'sqlite_where': sa.text(f'{column} IS NOT NULL'),
            'postgresql_where': sa.text(f'{column} IS NOT NULL')}


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN and CREATE INDEX, not batch mode: SQLite does both in
    # place, and a batch copy of ``orders`` would drop the table other tables point to.
    op.add_column('orders', sa.Column('fraud_score', sa.Integer(), nullable=True))
    op.add_column('orders', sa.Column('fraud_threshold', sa.Integer(), nullable=True))
    op.add_column('orders', sa.Column('fraud_reasons', _JSON, nullable=True))
    op.add_column('orders', sa.Column('card_fingerprint', sa.String(length=32), nullable=True))
    op.add_column('orders', sa.Column('address_key', sa.String(length=32), nullable=True))
    op.create_index('ix_orders_address_key_created_at', 'orders', ['address_key', 'created_at'],
                    unique=False, sqlite_where=sa.text('address_key IS NOT NULL'),
                    postgresql_where=sa.text('address_key IS NOT NULL'))
    op.create_index('ix_orders_customer_phone_created_at', 'orders',
                    ['customer_phone', 'created_at'], unique=False,
                    sqlite_where=sa.text('customer_phone IS NOT NULL'),
                    postgresql_where=sa.text('customer_phone IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_customer_phone_created_at', **_present('customer_phone'))
        batch_op.drop_index('ix_orders_address_key_created_at', **_present('address_key'))
        batch_op.drop_column('address_key')
        batch_op.drop_column('card_fingerprint')
        batch_op.drop_column('fraud_reasons')
        batch_op.drop_column('fraud_threshold')
        batch_op.drop_column('fraud_score')
