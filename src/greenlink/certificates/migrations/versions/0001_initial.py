# ruff: noqa: E501
"""initial registry schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('gc_account',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('account_name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gc_account'))
    )
    op.create_table('gc_bundle',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('issuance_id', sa.String(length=120), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('certificate_bundle_status', sa.String(length=20), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('metadata_id', sa.Integer(), nullable=False),
    sa.Column('beneficiary', sa.String(length=200), nullable=True),
    sa.Column('claim_purpose', sa.String(length=50), nullable=True),
    sa.Column('certificate_bundle_id_range_start', sa.BigInteger(), nullable=False),
    sa.Column('certificate_bundle_id_range_end', sa.BigInteger(), nullable=False),
    sa.Column('bundle_quantity', sa.BigInteger(), nullable=False),
    sa.Column('face_value', sa.Integer(), nullable=False),
    sa.Column('energy_carrier', sa.String(length=20), nullable=False),
    sa.Column('energy_source', sa.String(length=50), nullable=False),
    sa.Column('issuance_post_energy_carrier_conversion', sa.Boolean(), nullable=False),
    sa.Column('emissions_factor_production_device', sa.Float(), nullable=True),
    sa.Column('emissions_factor_source', sa.String(length=200), nullable=True),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('production_starting_interval', sa.DateTime(timezone=True), nullable=False),
    sa.Column('production_ending_interval', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issuance_datestamp', sa.Date(), nullable=False),
    sa.Column('expiry_datestamp', sa.Date(), nullable=False),
    sa.Column('is_storage', sa.Boolean(), nullable=False),
    sa.Column('sdr_allocation_id', sa.BigInteger(), nullable=True),
    sa.Column('storage_efficiency_factor', sa.Float(), nullable=True),
    sa.Column('is_deleted', sa.Boolean(), nullable=False),
    sa.Column('parent_bundle_id', sa.BigInteger(), nullable=True),
    sa.Column('issued_event_seq', sa.BigInteger(), nullable=False),
    sa.Column('last_event_seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gc_bundle'))
    )
    with op.batch_alter_table('gc_bundle', schema=None) as batch_op:
        batch_op.create_index('ix_gc_bundle_account_status', ['account_id', 'certificate_bundle_status'], unique=False)
        batch_op.create_index('uq_gc_bundle_device_hour', ['device_id', 'production_starting_interval'], unique=True, postgresql_where=sa.text('parent_bundle_id IS NULL AND NOT is_storage'), sqlite_where=sa.text('parent_bundle_id IS NULL AND NOT is_storage'))

    op.create_table('gc_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gc_chain_head'))
    )
    op.create_table('gc_consumption',
    sa.Column('beneficiary', sa.String(length=200), nullable=False),
    sa.Column('hour_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consumption_wh', sa.BigInteger(), nullable=False),
    sa.Column('claimed_wh', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('beneficiary', 'hour_start', name=op.f('pk_gc_consumption'))
    )
    op.create_table('gc_event',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_gc_event'))
    )
    op.create_table('gc_issuance_metadata',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('country_of_issuance', sa.String(length=10), nullable=False),
    sa.Column('connected_grid_identification', sa.String(length=100), nullable=False),
    sa.Column('issuing_body', sa.String(length=200), nullable=False),
    sa.Column('legal_status', sa.String(length=200), nullable=True),
    sa.Column('issuance_purpose', sa.String(length=200), nullable=True),
    sa.Column('support_received', sa.String(length=200), nullable=True),
    sa.Column('quality_scheme_reference', sa.String(length=200), nullable=True),
    sa.Column('dissemination_level', sa.String(length=50), nullable=True),
    sa.Column('issue_market_zone', sa.String(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gc_issuance_metadata'))
    )
    op.create_table('gc_account_whitelist',
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('sender_account_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['gc_account.id'], name=op.f('fk_gc_account_whitelist_account_id_gc_account')),
    sa.ForeignKeyConstraint(['sender_account_id'], ['gc_account.id'], name=op.f('fk_gc_account_whitelist_sender_account_id_gc_account')),
    sa.PrimaryKeyConstraint('account_id', 'sender_account_id', name=op.f('pk_gc_account_whitelist'))
    )
    op.create_table('gc_device',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('device_name', sa.String(length=200), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('meter_data_id', sa.String(length=64), nullable=False),
    sa.Column('grid', sa.String(length=100), nullable=False),
    sa.Column('energy_source', sa.String(length=50), nullable=False),
    sa.Column('technology_type', sa.String(length=50), nullable=False),
    sa.Column('operational_date', sa.Date(), nullable=True),
    sa.Column('capacity', sa.Float(), nullable=False),
    sa.Column('peak_demand', sa.Float(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('is_storage', sa.Boolean(), nullable=False),
    sa.Column('next_wh_id', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['gc_account.id'], name=op.f('fk_gc_device_account_id_gc_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gc_device'))
    )
    op.create_table('gc_storage_charge_record',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('charging_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('charging_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('charge_wh', sa.BigInteger(), nullable=False),
    sa.Column('remaining_wh', sa.BigInteger(), nullable=False),
    sa.Column('gc_allocation_bundle_ids', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['gc_device.id'], name=op.f('fk_gc_storage_charge_record_device_id_gc_device')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gc_storage_charge_record'))
    )
    op.create_table('gc_storage_discharge_record',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('discharging_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('discharging_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('discharge_wh', sa.BigInteger(), nullable=False),
    sa.Column('drawn_charge_wh', sa.BigInteger(), nullable=False),
    sa.Column('loss_wh', sa.BigInteger(), nullable=False),
    sa.Column('allocation_method', sa.String(length=20), nullable=False),
    sa.Column('storage_efficiency_factor', sa.Float(), nullable=False),
    sa.Column('scr_allocations', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['gc_device.id'], name=op.f('fk_gc_storage_discharge_record_device_id_gc_device')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gc_storage_discharge_record'))
    )



def downgrade() -> None:

    op.drop_table('gc_storage_discharge_record')
    op.drop_table('gc_storage_charge_record')
    op.drop_table('gc_device')
    op.drop_table('gc_account_whitelist')
    op.drop_table('gc_issuance_metadata')
    op.drop_table('gc_event')
    op.drop_table('gc_consumption')
    op.drop_table('gc_chain_head')
    with op.batch_alter_table('gc_bundle', schema=None) as batch_op:
        batch_op.drop_index('uq_gc_bundle_device_hour', postgresql_where=sa.text('parent_bundle_id IS NULL AND NOT is_storage'), sqlite_where=sa.text('parent_bundle_id IS NULL AND NOT is_storage'))
        batch_op.drop_index('ix_gc_bundle_account_status')

    op.drop_table('gc_bundle')
    op.drop_table('gc_account')

