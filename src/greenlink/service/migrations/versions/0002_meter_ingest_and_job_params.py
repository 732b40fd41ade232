"""meter ingests (greenlink.metering) and job parameters

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('svc_meter_ingest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('park_id', sa.Integer(), nullable=False),
    sa.Column('filenames', sa.JSON(), nullable=False),
    sa.Column('readings', sa.Integer(), nullable=False),
    sa.Column('issues', sa.Integer(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['park_id'], ['svc_park.id'], ),
    sa.ForeignKeyConstraint(['uploaded_by'], ['svc_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('svc_job') as batch:
        batch.add_column(sa.Column('params', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('svc_job') as batch:
        batch.drop_column('params')
    op.drop_table('svc_meter_ingest')
