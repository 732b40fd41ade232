"""a user's dashboard language (NULL: the browser's Accept-Language decides)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('svc_user') as batch:
        batch.add_column(sa.Column('language', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('svc_user') as batch:
        batch.drop_column('language')
