# ruff: noqa: E501
"""claim records: gc_claim and gc_claim_part (the one claim path, GEC serials per claim)

Revision ID: 0004_claims
Revises: 0003_history
Create Date: 2026-11-29

Every claim, cancellation into storage and withdrawal is written by one registry function
(``Registry.claim``) as a claim record (``gc_claim``: id, kind, purpose, beneficiary, hours, Wh,
the operation that made it) and one part per bundle it cancelled (``gc_claim_part``: the bundle,
its hour and Wh, the GEC serial ranges behind it). Both tables are chained (their rows are
recorded by the events that write them). Claims made before this migration have no record: their
bundles keep status, beneficiary and purpose, and the hourly consumption rows keep counting them.

PostgreSQL: with an application role set (``GREENLINK_REGISTRY_APP_ROLE``), it may read and
insert claim records, never change or delete them::

    GRANT SELECT, INSERT ON gc_claim, gc_claim_part TO app;
"""

from __future__ import annotations

import os
import re

import sqlalchemy as sa
from alembic import context, op

revision = "0004_claims"
down_revision = "0003_history"
branch_labels = None
depends_on = None

APP_ROLE_ENV = "GREENLINK_REGISTRY_APP_ROLE"
APP_ROLE_ATTRIBUTE = "greenlink_registry_app_role"
_ROLE = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")


def _app_role() -> str | None:
    role = context.config.attributes.get(APP_ROLE_ATTRIBUTE) or os.environ.get(APP_ROLE_ENV)
    if not role:
        return None
    if not _ROLE.fullmatch(role):
        raise ValueError(f"application role {role!r} is not a plain SQL identifier")
    return str(role)


def upgrade() -> None:
    op.create_table('gc_claim',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('purpose', sa.String(length=50), nullable=True),
    sa.Column('beneficiary', sa.String(length=200), nullable=True),
    sa.Column('account_id', sa.String(length=64), nullable=True),
    sa.Column('operation', sa.String(length=100), nullable=False),
    sa.Column('request_digest', sa.String(length=64), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('hours', sa.Integer(), nullable=False),
    sa.Column('first_hour', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_hour', sa.DateTime(timezone=True), nullable=True),
    sa.Column('requested_wh', sa.BigInteger(), nullable=False),
    sa.Column('claimed_wh', sa.BigInteger(), nullable=False),
    sa.Column('shortfall_wh', sa.BigInteger(), nullable=False),
    sa.Column('storage_charge_record_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('created_event_seq', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("kind IN ('claim', 'withdraw')", name=op.f('ck_gc_claim_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gc_claim'))
    )
    with op.batch_alter_table('gc_claim', schema=None) as batch_op:
        batch_op.create_index('ix_gc_claim_beneficiary', ['beneficiary'], unique=False)

    op.create_table('gc_claim_part',
    sa.Column('bundle_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('claim_id', sa.String(length=100), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=64), nullable=False),
    sa.Column('hour_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('wh', sa.BigInteger(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=True),
    sa.Column('gec_serials', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['claim_id'], ['gc_claim.id'], name=op.f('fk_gc_claim_part_claim_id_gc_claim')),
    sa.PrimaryKeyConstraint('bundle_id', name=op.f('pk_gc_claim_part'))
    )
    with op.batch_alter_table('gc_claim_part', schema=None) as batch_op:
        batch_op.create_index('ix_gc_claim_part_claim', ['claim_id'], unique=False)
        batch_op.create_index('ix_gc_claim_part_hour', ['hour_start'], unique=False)

    if context.get_context().dialect.name != "postgresql":
        return
    role = _app_role()
    if role is not None:
        op.execute(f'GRANT SELECT, INSERT ON gc_claim, gc_claim_part TO "{role}"')


def downgrade() -> None:
    with op.batch_alter_table('gc_claim_part', schema=None) as batch_op:
        batch_op.drop_index('ix_gc_claim_part_hour')
        batch_op.drop_index('ix_gc_claim_part_claim')
    op.drop_table('gc_claim_part')
    with op.batch_alter_table('gc_claim', schema=None) as batch_op:
        batch_op.drop_index('ix_gc_claim_beneficiary')
    op.drop_table('gc_claim')
