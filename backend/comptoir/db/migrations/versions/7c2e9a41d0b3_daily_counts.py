"""locations' orders of the day counted in one row each, checked and counted in one write

The orders each location took on each of its days were rows of ``routing_assignments``,
counted at capture and then checked: concurrent captures could overshoot a capacity. Now
one row per (location, local day) is counted with a conditional upsert. The rows are
carried over as counts: nothing a location took today is forgotten.

Revision ID: 7c2e9a41d0b3
Revises: 4bfb158930fa
Create Date: 2026-12-03 12:00:00
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision: str = '7c2e9a41d0b3'
down_revision: str | None = '4bfb158930fa'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('routing_daily_counts',
    sa.Column('location', sa.String(length=40), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('routed', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('location', 'local_day', name=op.f('pk_routing_daily_counts'))
    )
    op.execute(
        'INSERT INTO routing_daily_counts (location, local_day, routed, capacity) '
        'SELECT location, local_day, count(*), NULL FROM routing_assignments '
        'GROUP BY location, local_day'
    )
    with op.batch_alter_table('routing_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_routing_assignments_location_local_day')
        batch_op.drop_index(batch_op.f('ix_routing_assignments_decision_id'))
    op.drop_table('routing_assignments')


def downgrade() -> None:
    # The counts cannot be turned back into one row per order's decision: the table comes
    # back empty (capacity is then counted from the orders routed after the downgrade).
    op.create_table('routing_assignments',
    sa.Column('decision_id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.Column('location', sa.String(length=40), nullable=False),
    sa.Column('local_day', sa.Date(), nullable=False),
    sa.Column('id', advanced_alchemy.types.guid.GUID(length=16), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['routing_decisions.id'], name=op.f('fk_routing_assignments_decision_id_routing_decisions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_assignments'))
    )
    with op.batch_alter_table('routing_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_assignments_decision_id'), ['decision_id'], unique=False)
        batch_op.create_index('ix_routing_assignments_location_local_day', ['location', 'local_day'], unique=False)
    op.drop_table('routing_daily_counts')
