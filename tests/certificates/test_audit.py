"""Tamper evidence: editing any stored event or bundle row directly is found and named."""

from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from greenlink.certificates.digests import bundle_hash
from greenlink.cli.registry_cmd import registry_app
from tests.certificates.conftest import claim_ready, hours, park


def build(url: str):  # type: ignore[no-untyped-def]
    reg, meta = park(url)
    reg.issue(hours("pv", [1000, 800, 600]), metadata_id=meta)
    moved = reg.transfer(1, "alu", quantity_wh=400)
    claim_ready(reg)  # alu's metered consumption and the month's GECs
    reg.cancel(moved, beneficiary="alu", purpose="tenant_scope2")
    assert reg.verify().ok
    return reg


def tamper(reg, sql: str) -> str:  # type: ignore[no-untyped-def]
    with reg.engine.begin() as con:
        if con.dialect.name == "postgresql":
            # the attacker has full write access: past the append-only trigger of gc_event
            con.execute(text("SET LOCAL session_replication_role = replica"))
        con.execute(text(sql))
    result = reg.verify()
    assert not result.ok
    return result.problems[0]


def test_edited_event_payload_is_the_broken_link(db_url: str) -> None:
    reg = build(db_url)
    first = tamper(reg, "UPDATE gc_event SET payload = replace(payload, 'alu', 'steel') "
                   "WHERE kind = 'transfer'")
    assert first.startswith("event ") and "(transfer): broken link" in first


def test_deleted_event_is_found(db_url: str) -> None:
    reg = build(db_url)
    assert "event 3 is missing" in tamper(reg, "DELETE FROM gc_event WHERE seq = 3")


@pytest.mark.parametrize("sql", [
    "UPDATE gc_bundle SET account_id = 'steel' WHERE id = 3",  # steal an Active bundle
    "UPDATE gc_bundle SET bundle_quantity = 5000 WHERE id = 2",  # inflate an issued bundle
    "UPDATE gc_bundle SET certificate_bundle_status = 'Active' WHERE claim_purpose IS NOT NULL",
])
def test_edited_bundle_row_is_named(db_url: str, sql: str) -> None:
    reg = build(db_url)
    first = tamper(reg, sql)
    assert first.startswith("bundle ") or "issue" in first


def test_edit_with_recomputed_hash_column_is_still_found(db_url: str) -> None:
    reg = build(db_url)
    row = reg.bundles().set_index("id").loc[3].to_dict()
    row["id"] = 3
    row["account_id"] = "steel"
    forged = bundle_hash(row)
    first = tamper(reg, f"UPDATE gc_bundle SET account_id = 'steel', hash = '{forged}' "
                   "WHERE id = 3")
    assert "bundle 3" in first or "issue" in first


def test_cli_verify_exit_codes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    reg = build(url)
    ok = CliRunner().invoke(registry_app, ["verify", "--db", url])
    assert ok.exit_code == 0 and "chain intact" in ok.output
    with reg.engine.begin() as con:
        con.execute(text("UPDATE gc_bundle SET beneficiary = 'someone' WHERE id = 4"))
    bad = CliRunner().invoke(registry_app, ["verify", "--db", url])
    assert bad.exit_code == 1 and "TAMPERED" in bad.output and "bundle 4" in bad.output
