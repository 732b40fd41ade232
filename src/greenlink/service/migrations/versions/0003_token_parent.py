"""a token made with a token remembers its parent (revoking or expiring the parent ends it)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('svc_api_token') as batch:
        batch.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_svc_api_token_parent_id_svc_api_token', 'svc_api_token',
                                 ['parent_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('svc_api_token') as batch:
        batch.drop_constraint('fk_svc_api_token_parent_id_svc_api_token', type_='foreignkey')
        batch.drop_column('parent_id')
