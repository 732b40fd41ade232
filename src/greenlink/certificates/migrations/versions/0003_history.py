"""signed history: event signatures, append-only event table, application-role grants

Revision ID: 0003_history
Revises: 0002_gec
Create Date: 2026-12-01

* ``gc_event`` and ``gc_chain_head`` get ``signer`` (raw Ed25519 public key, hex) and
  ``signature`` (hex): the last event of every commit is signed (docs/registry.md).
* The chain head row (id 1, event 0) exists from the start, so the first writers already lock it.
* A registry with history from before signed heads is adopted: an ``adopt`` event restates every
  row of every chained table in the new digest form (bundle ``hash`` columns rewritten); the
  operator signs it with the next write or ``greenlink registry checkpoint --seal``.
* PostgreSQL: a trigger refuses UPDATE, DELETE and TRUNCATE on ``gc_event`` (for every role;
  only the table owner can drop it). When an application role is set
  (``GREENLINK_REGISTRY_APP_ROLE`` or ``greenlink.certificates.db.upgrade(app_role=…)``), it
  is granted what the registry needs — SELECT and INSERT on ``gc_event``; SELECT, INSERT and
  UPDATE on the other registry tables; SELECT on the version table; the sequences — and
  nothing else: no UPDATE, DELETE or TRUNCATE on the event table, no DELETE or TRUNCATE
  anywhere. Run the migrations as the owner role, and the registry (service, CLI) as the
  application role. The same grants by hand::

      REVOKE ALL ON gc_event FROM app;  GRANT SELECT, INSERT ON gc_event TO app;
      GRANT SELECT, INSERT, UPDATE ON gc_account, gc_account_whitelist, gc_device,
          gc_issuance_metadata, gc_bundle, gc_consumption, gc_storage_charge_record,
          gc_storage_discharge_record, gc_gec_record, gc_chain_head TO app;
      GRANT SELECT ON alembic_version_registry TO app;
      GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO app;
"""

from __future__ import annotations

import os
import re

import sqlalchemy as sa
from alembic import context, op

revision = "0003_history"
down_revision = "0002_gec"
branch_labels = None
depends_on = None

APP_ROLE_ENV = "GREENLINK_REGISTRY_APP_ROLE"
APP_ROLE_ATTRIBUTE = "greenlink_registry_app_role"
#: Registry tables the application role may read, insert and update (never delete).
WRITABLE = ("gc_account", "gc_account_whitelist", "gc_device", "gc_issuance_metadata",
            "gc_bundle", "gc_consumption", "gc_storage_charge_record",
            "gc_storage_discharge_record", "gc_gec_record", "gc_chain_head")
_ROLE = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")

APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION gc_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'gc_event is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'the registry history is never changed; see docs/registry.md';
END
$$
"""


def _app_role() -> str | None:
    role = context.config.attributes.get(APP_ROLE_ATTRIBUTE) or os.environ.get(APP_ROLE_ENV)
    if not role:
        return None
    if not _ROLE.fullmatch(role):
        raise ValueError(f"application role {role!r} is not a plain SQL identifier")
    return str(role)


def upgrade() -> None:
    for table in ("gc_event", "gc_chain_head"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("signer", sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column("signature", sa.String(length=128), nullable=True))
    from greenlink.certificates.adopt import adopt_history
    from greenlink.certificates.digests import GENESIS

    if context.is_offline_mode():  # an SQL script: for a new, empty registry
        op.execute(f"INSERT INTO gc_chain_head (id, seq, hash) VALUES (1, 0, '{GENESIS}')")
    else:
        bind = op.get_bind()
        adopted = adopt_history(bind, "migration 0002_history: rows restated in signed-history "
                                      "digests", migration=revision)
        if adopted is None and bind.execute(sa.text("SELECT count(*) FROM gc_chain_head")
                                            ).scalar() == 0:
            bind.execute(sa.text("INSERT INTO gc_chain_head (id, seq, hash) VALUES (1, 0, :h)"),
                         {"h": GENESIS})
    if context.get_context().dialect.name != "postgresql":
        return
    op.execute(APPEND_ONLY_FUNCTION)
    op.execute("CREATE TRIGGER gc_event_append_only BEFORE UPDATE OR DELETE ON gc_event "
               "FOR EACH ROW EXECUTE FUNCTION gc_event_append_only()")
    op.execute("CREATE TRIGGER gc_event_no_truncate BEFORE TRUNCATE ON gc_event "
               "FOR EACH STATEMENT EXECUTE FUNCTION gc_event_append_only()")
    role = _app_role()
    if role is None:
        return
    version_table = context.config.get_main_option("version_table") or "alembic_version"
    op.execute(f'REVOKE ALL ON gc_event FROM "{role}"')
    op.execute(f'GRANT SELECT, INSERT ON gc_event TO "{role}"')
    op.execute(f'GRANT SELECT, INSERT, UPDATE ON {", ".join(WRITABLE)} TO "{role}"')
    op.execute(f'GRANT SELECT ON "{version_table}" TO "{role}"')
    op.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"')


def downgrade() -> None:
    """Drops the trigger and the signatures (a downgraded registry keeps its adopt event and
    new-style digests, which the code of 0001 does not read)."""
    if context.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS gc_event_no_truncate ON gc_event")
        op.execute("DROP TRIGGER IF EXISTS gc_event_append_only ON gc_event")
        op.execute("DROP FUNCTION IF EXISTS gc_event_append_only()")
    for table in ("gc_chain_head", "gc_event"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("signature")
            batch_op.drop_column("signer")
