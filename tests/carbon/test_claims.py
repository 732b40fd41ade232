"""No double claim: a batch claim cancels the certificates of its hours in the registry."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from greenlink.carbon.batches import check_batches
from greenlink.carbon.claims import batch_hour_claims, cancel_for_claims
from greenlink.certificates.db import open_registry
from greenlink.certificates.registry import RegistryError
from tests.certificates.conftest import gec_issued

from .conftest import make_flows


def test_batch_claim_cancels_and_blocks_a_second_claim(tmp_path: Path) -> None:
    reg = open_registry(f"sqlite:///{tmp_path / 'reg.sqlite'}")
    reg.add_account("park")
    reg.add_device("ground", account_id="park", energy_source="solar",
                   technology_type="pv", capacity_kw=1000)
    meta = reg.add_metadata(country_of_issuance="CN", connected_grid_identification="line",
                            issuing_body="test", issue_market_zone="CN-JS")
    hours = pd.date_range("2025-03-01", periods=4, freq="1h", tz="Asia/Shanghai")
    reg.issue(pd.DataFrame({"device_id": "ground", "hour_start": hours,
                            "energy_wh": 400_000}), metadata_id=meta)
    # the plant's metered consumption (1 MWh an hour) and the month's GECs
    reg.record_consumption_table(pd.DataFrame({"beneficiary": "plant", "hour_start": hours,
                                               "wh": 1_000_000}))
    gec_issued(reg, tmp_path, "ground", "2025-03", 10)
    flows = make_flows(hours=4, load_kwh=1000.0, green_kwh=400.0)
    batches = check_batches(pd.DataFrame([{
        "batch_id": "b1", "process": "mill", "sku": "S", "start": "2025-03-01T00:30",
        "end": "2025-03-01T02:15", "tonnes": 5}]), "Asia/Shanghai")
    claims = batch_hour_claims(batches, flows, "plant", {"mill": 0.5})
    # 0.5 h × 400 × 0.5, 1 h × 400 × 0.5, 0.25 h × 400 × 0.5 kWh
    assert list(claims["claim_wh"]) == [100_000, 200_000, 50_000]
    done = cancel_for_claims(reg, claims, account_id="park", beneficiary="plant")
    assert list(done["cancelled_wh"]) == [100_000, 200_000, 50_000]
    assert done["shortfall_wh"].sum() == 0
    claimed = reg.bundles(account_id="park", status="Claimed")
    assert claimed["bundle_quantity"].sum() == 350_000
    assert set(claimed["claim_purpose"]) == {"product_batch"}
    assert done["gec_serials"].iat[0] == "GECGROUND202503T000001"  # the serial behind it
    again = cancel_for_claims(reg, claims, account_id="park", beneficiary="plant")
    assert again["bundle_ids"].tolist() == done["bundle_ids"].tolist()  # the first result
    assert reg.bundles(account_id="park", status="Claimed")["bundle_quantity"].sum() == 350_000
    with pytest.raises(RegistryError):  # the same MWh cannot back a Scope 2 claim too
        reg.cancel(int(done["bundle_ids"].iat[0][0]), beneficiary="plant",
                   purpose="tenant_scope2", account_id="park")
    active = reg.bundles(account_id="park", status="Active")
    assert active["bundle_quantity"].sum() == 4 * 400_000 - 350_000
