# ruff: noqa: E501
"""China green electricity certificates (GEC, 绿证): table gc_gec_record

Revision ID: 0002_gec
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002_gec'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('gc_gec_record',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('production_month', sa.Date(), nullable=False),
    sa.Column('serial_prefix', sa.String(length=64), nullable=False),
    sa.Column('serial_suffix', sa.String(length=32), nullable=False),
    sa.Column('serial_digits', sa.Integer(), nullable=False),
    sa.Column('serial_start', sa.BigInteger(), nullable=False),
    sa.Column('serial_end', sa.BigInteger(), nullable=False),
    sa.Column('certificate_count', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('tradable', sa.Boolean(), nullable=False),
    sa.Column('holder_name', sa.String(length=200), nullable=True),
    sa.Column('holder_account_id', sa.String(length=64), nullable=True),
    sa.Column('holder_external', sa.String(length=200), nullable=True),
    sa.Column('beneficiary_name', sa.String(length=200), nullable=True),
    sa.Column('beneficiary_account_id', sa.String(length=64), nullable=True),
    sa.Column('beneficiary_external', sa.String(length=200), nullable=True),
    sa.Column('source_file_name', sa.String(length=300), nullable=False),
    sa.Column('source_file_hash', sa.String(length=64), nullable=False),
    sa.Column('source_row', sa.Integer(), nullable=False),
    sa.Column('row_hash', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('issued', 'transferred', 'cancelled', 'expired')", name=op.f('ck_gc_gec_record_status')),
    sa.CheckConstraint('beneficiary_account_id IS NULL OR beneficiary_external IS NULL', name=op.f('ck_gc_gec_record_beneficiary_one_kind')),
    sa.CheckConstraint('holder_account_id IS NULL OR holder_external IS NULL', name=op.f('ck_gc_gec_record_holder_one_kind')),
    sa.CheckConstraint('certificate_count = serial_end - serial_start + 1', name=op.f('ck_gc_gec_record_count_matches_range')),
    sa.CheckConstraint('serial_start >= 0 AND serial_end >= serial_start', name=op.f('ck_gc_gec_record_serial_order')),
    sa.ForeignKeyConstraint(['device_id'], ['gc_device.id'], name=op.f('fk_gc_gec_record_device_id_gc_device')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gc_gec_record'))
    )
    with op.batch_alter_table('gc_gec_record', schema=None) as batch_op:
        batch_op.create_index('ix_gc_gec_record_device_month', ['device_id', 'production_month'], unique=False)
        batch_op.create_index('ix_gc_gec_record_serial', ['serial_prefix', 'serial_suffix', 'serial_start'], unique=False)
        batch_op.create_index('uq_gc_gec_record_source', ['source_file_hash', 'source_row'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('gc_gec_record', schema=None) as batch_op:
        batch_op.drop_index('uq_gc_gec_record_source')
        batch_op.drop_index('ix_gc_gec_record_serial')
        batch_op.drop_index('ix_gc_gec_record_device_month')

    op.drop_table('gc_gec_record')
