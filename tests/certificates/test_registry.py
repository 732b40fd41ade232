"""Registry operations on SQLite and PostgreSQL (tiny cases, answers by hand)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect

from greenlink.certificates.db import VERSION_TABLE, open_registry
from greenlink.certificates.models import Base
from greenlink.certificates.registry import RegistryError
from tests.certificates.conftest import claim_ready, hours, park


def test_issue_ranges_and_no_double_issuance(db_url: str) -> None:
    reg, meta = park(db_url)
    assert reg.issue(hours("pv", [1000, 0, 2500]), metadata_id=meta) == 2  # 0 Wh skipped
    b = reg.bundles()
    assert b["certificate_bundle_id_range_start"].tolist() == [1, 1001]
    assert b["certificate_bundle_id_range_end"].tolist() == [1000, 3500]
    assert b["bundle_quantity"].tolist() == [1000, 2500]
    assert set(b["certificate_bundle_status"]) == {"Active"}
    with pytest.raises(RegistryError, match="already issued"):
        reg.issue(hours("pv", [5], start="2025-06-01 02:00"), metadata_id=meta)
    # capacity 1000 kW × 1 h × rating_margin 1.05 (the bound of meter ingest)
    reg.issue(hours("pv", [1_050_000], start="2025-06-02"), metadata_id=meta)
    with pytest.raises(RegistryError, match="above capacity"):
        reg.issue(hours("pv", [1_050_001], start="2025-06-03"), metadata_id=meta)
    with pytest.raises(RegistryError, match="not registered"):
        reg.issue(hours("nope", [1]), metadata_id=meta)
    assert len(reg.bundles()) == 3  # refused issues left nothing behind
    assert reg.verify().ok


def test_transfer_whitelist_split_cancel_withdraw(db_url: str) -> None:
    reg, meta = park(db_url)
    reg.issue(hours("pv", [1000, 800]), metadata_id=meta)
    claim_ready(reg)
    moved = reg.transfer(1, "alu", from_account="park", quantity_wh=300)
    b = reg.bundles().set_index("id")
    assert b.loc[1, "certificate_bundle_status"] == "Bundle Split"
    assert b.loc[moved, ["account_id", "bundle_quantity", "certificate_bundle_id_range_start",
                         "certificate_bundle_id_range_end"]].tolist() == ["alu", 300, 1, 300]
    rest = int(b[(b["parent_bundle_id"] == 1) & (b.index != moved)].index[0])
    assert b.loc[rest, ["account_id", "certificate_bundle_id_range_start"]].tolist() \
        == ["park", 301]
    with pytest.raises(RegistryError, match="not whitelisted"):
        reg.transfer(moved, "park")  # park does not accept from alu
    with pytest.raises(RegistryError, match="belongs to account"):
        reg.transfer(rest, "alu", from_account="alu")
    with pytest.raises(RegistryError, match="not Active"):
        reg.transfer(1, "alu")
    claimed = reg.cancel(moved, beneficiary="alu", purpose="tenant_scope2", quantity_wh=100)
    with pytest.raises(RegistryError, match="not Active"):
        reg.cancel(claimed, beneficiary="alu", purpose="tenant_scope2")
    with pytest.raises(RegistryError, match="purpose"):
        reg.cancel(rest, beneficiary="x", purpose="because")
    a, c = reg.split(2, 200)
    reg.withdraw(a, reason="meter error")
    final = reg.bundles().set_index("id")
    assert final.loc[claimed, ["certificate_bundle_status", "beneficiary", "claim_purpose"]
                     ].tolist() == ["Claimed", "alu", "tenant_scope2"]
    assert final.loc[a, "certificate_bundle_status"] == "Withdrawn"
    assert final.loc[c, "bundle_quantity"] == 600
    assert reg.verify().ok


def test_claims_never_exceed_hourly_consumption(db_url: str) -> None:
    reg, meta = park(db_url)
    reg.issue(hours("pv", [1000]), metadata_id=meta)
    claim_ready(reg, users=())  # the month's GECs
    reg.record_consumption("alu", datetime(2025, 6, 1, tzinfo=UTC), 700)
    reg.cancel(1, beneficiary="alu", purpose="product_batch", quantity_wh=600)
    rest = int(reg.bundles(status="Active")["id"].iloc[0])
    with pytest.raises(RegistryError, match="consumed 700 Wh"):
        reg.cancel(rest, beneficiary="alu", purpose="shipment")
    reg.cancel(rest, beneficiary="alu", purpose="shipment", quantity_wh=100)
    claimed = reg.bundles(status="Claimed")
    assert claimed["bundle_quantity"].sum() == 700


def test_storage_fifo_with_losses(db_url: str) -> None:
    reg, meta = park(db_url)
    reg.issue(hours("pv", [1000, 600]), metadata_id=meta)
    claim_ready(reg, users=("bess",))  # the battery's metered charging, the month's GECs
    scr1 = reg.storage_charge("bess", [1])
    scr2 = reg.storage_charge("bess", [2])
    assert (scr1, scr2) == (1, 2)
    # 900 Wh out at η = 0.9 draws ⌈1000⌉ Wh: all of the first record (FIFO), none of the 2nd
    reg.storage_discharge("bess", datetime(2025, 6, 1, 3, tzinfo=UTC), 900, efficiency=0.9,
                          metadata_id=meta)
    # 450 Wh more draws 500 Wh: from the second record
    reg.storage_discharge("bess", datetime(2025, 6, 1, 4, tzinfo=UTC), 450, efficiency=0.9,
                          metadata_id=meta)
    with pytest.raises(RegistryError, match="holds 100 Wh"):
        reg.storage_discharge("bess", datetime(2025, 6, 1, 5, tzinfo=UTC), 100,
                              efficiency=0.9, metadata_id=meta)
    sd = reg.bundles(device_id="bess")
    assert sd["bundle_quantity"].tolist() == [900, 450]
    assert sd["is_storage"].tolist() == [True, True]
    assert sd["storage_efficiency_factor"].tolist() == [0.9, 0.9]
    assert set(reg.bundles(status="Cancelled")["claim_purpose"]) == {"storage_charge"}
    assert reg.verify().ok


def test_migrations_make_the_model_schema(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    reg = open_registry(db_url)
    open_registry(db_url)  # second upgrade is a no-op
    names = set(inspect(reg.engine).get_table_names())
    assert VERSION_TABLE in names and "alembic_version" not in names
    with reg.engine.connect() as con:
        ctx = MigrationContext.configure(con, opts={"version_table": VERSION_TABLE})
        assert compare_metadata(ctx, Base.metadata) == []
