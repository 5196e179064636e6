"""indexes for queues that page at any backlog

A location's queue reads the page it shows: its work, oldest first, of one status or of every
status (``fulfillments``), and the allocations still holding units that have no work yet
(``order_allocations``, partial on ``quantity > 0`` so a location's history is skipped).
``ix_fulfillments_order_location`` answers "has this order work at this location yet" and
replaces the index on ``order_id`` alone.

Revision ID: b5e81f3c9a27
Revises: 0260fe5862b5
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b5e81f3c9a27'
down_revision: str | None = '0260fe5862b5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HOLDING = {'sqlite_where': sa.text('quantity > 0'), 'postgresql_where': sa.text('quantity > 0')}


def upgrade() -> None:
    with op.batch_alter_table('fulfillments', schema=None) as batch_op:
        batch_op.create_index('ix_fulfillments_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_fulfillments_location_created', ['location', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_fulfillments_status_created', ['status', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_fulfillments_order_location', ['order_id', 'location'], unique=False)
        batch_op.drop_index(batch_op.f('ix_fulfillments_order_id'))
    with op.batch_alter_table('order_allocations', schema=None) as batch_op:
        batch_op.create_index('ix_order_allocations_holding', ['created_at', 'order_id', 'location'], unique=False, **_HOLDING)
        batch_op.create_index('ix_order_allocations_holding_location', ['location', 'created_at', 'order_id'], unique=False, **_HOLDING)


def downgrade() -> None:
    with op.batch_alter_table('order_allocations', schema=None) as batch_op:
        batch_op.drop_index('ix_order_allocations_holding_location', **_HOLDING)
        batch_op.drop_index('ix_order_allocations_holding', **_HOLDING)
    with op.batch_alter_table('fulfillments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fulfillments_order_id'), ['order_id'], unique=False)
        batch_op.drop_index('ix_fulfillments_order_location')
        batch_op.drop_index('ix_fulfillments_status_created')
        batch_op.drop_index('ix_fulfillments_location_created')
        batch_op.drop_index('ix_fulfillments_created')
