"""routing decisions keep why they went as they did as a reason code with its parameters

``routing_decisions.explanation`` (and each stored candidate's ``explanation``) is the
structured reason the PWA says in the reader's language; ``reason`` stays the English
sentence. Decisions stored before have no explanation: their sentence is shown.

Revision ID: d41f7a2c9e10
Revises: b5e81f3c9a27
Create Date: 2026-12-03 13:30:00
"""

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'd41f7a2c9e10'
down_revision: str | None = 'b5e81f3c9a27'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('routing_decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('explanation', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'cockroachdb').with_variant(advanced_alchemy.types.json.ORA_JSONB(), 'oracle').with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('routing_decisions', schema=None) as batch_op:
        batch_op.drop_column('explanation')
