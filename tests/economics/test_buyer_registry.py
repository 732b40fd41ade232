"""A buyer statement reconciles with the certificate registry's transfers for its month: the
granular certificates in the buyer's account and the GECs transferred to it (SQLite registry,
through the registry's public API)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from greenlink import flows
from greenlink.certificates.db import open_registry
from greenlink.certificates.received import merged, total_wh, without
from greenlink.economics.settlement import settle
from greenlink.workflows.settle import reconcile_with_registry

from .conftest import tiny_flows, tiny_scenario
from .test_cross_border import FX, NO_FEES, SLEEVED

MAPPING = """
[columns]
device = "Project"
production_month = "Month"
serial_start = "From"
serial_end = "To"
count = "Count"
status = "Status"
tradable = "Type"
holder = "Holder"
beneficiary = "Beneficiary"

[values.status]
"issued" = "issued"
"transferred" = "transferred"

[values.tradable]
"tradable" = true

[devices]
"P001" = "w"

[accounts]
"Park Co" = "park"
"""


def _registry(tmp_path: Path, hours_transferred: int):
    reg = open_registry("sqlite://")  # in memory
    reg.add_account("park", "Park operator")
    reg.add_account("buyer-x", "Buyer X BV", accepts_from=["park"])
    reg.add_device("w", account_id="park", energy_source="wind", technology_type="wind",
                   capacity_kw=3000)
    meta = reg.add_metadata(country_of_issuance="CN", connected_grid_identification="CN-JS",
                            issuing_body="test", issue_market_zone="CN-JS")
    # the contract's 50 kWh of every hour of January (China time), issued to the park
    starts = flows.hour_key(pd.date_range("2025-01-01", periods=744, freq="h",
                                          tz="Asia/Shanghai"))
    reg.issue(pd.DataFrame({"device_id": "w", "hour_start": starts, "energy_wh": 50_000}),
              metadata_id=meta)
    ids = reg.bundles(account_id="park")["id"].tolist()
    for bundle_id in ids[:hours_transferred]:
        reg.transfer(int(bundle_id), "buyer-x", from_account="park")
    # GECs of w for January: 200 issued to the park, 37 of them transferred to Buyer X BV
    rows = [["P001", "2025-01", "LZ2501T0001", "LZ2501T0200", "200", "issued", "tradable",
             "Park Co", ""],
            ["P001", "2025-01", "LZ2501T0001", "LZ2501T0037", "37", "transferred", "tradable",
             "Buyer X BV", ""]]
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows([["Project", "Month", "From", "To", "Count", "Status", "Type",
                                "Holder", "Beneficiary"], *rows])
    (tmp_path / "gec.csv").write_text(buf.getvalue(), encoding="utf-8")
    (tmp_path / "mapping.toml").write_text(MAPPING, encoding="utf-8")
    reg.import_gec_file(tmp_path / "gec.csv", tmp_path / "mapping.toml")
    return reg


def test_buyer_statement_reconciles_with_registry_transfers(tmp_path):
    s = settle(tiny_flows(months=1), tiny_scenario(SLEEVED), "2025-01", fees=NO_FEES, fx=FX)
    reg = _registry(tmp_path, hours_transferred=744)
    done = reconcile_with_registry(s, reg, "Asia/Shanghai", as_of=date(2025, 3, 1))
    (b,) = done.buyer_statements
    # 744 bundles of 50,000 Wh = 37,200,000 Wh in buyer-x's account = the statement's
    # certificates; 37 GECs LZ2501T0001–LZ2501T0037 = 37,200 kWh in whole MWh
    assert b.reconciled, b.registry
    assert any(r.startswith("ok: granular certificates") and "37,200,000 Wh" in r
               for r in b.registry)
    assert any(r.startswith("ok: GECs") and "LZ2501T0001–LZ2501T0037" in r for r in b.registry)


def test_missing_transfer_is_a_mismatch(tmp_path):
    s = settle(tiny_flows(months=1), tiny_scenario(SLEEVED), "2025-01", fees=NO_FEES, fx=FX)
    reg = _registry(tmp_path, hours_transferred=743)
    (b,) = reconcile_with_registry(s, reg, "Asia/Shanghai", as_of=date(2025, 3, 1)
                                   ).buyer_statements
    assert not b.reconciled
    assert any(r.startswith("MISMATCH") and "50,000 Wh still to transfer" in r
               for r in b.registry)
    assert b.attributes.energy_kwh == Decimal(37200)


def test_certificates_the_buyer_moved_on_still_reconcile(tmp_path):
    """Delivered is what entered the buyer's account in the month, wherever it went later: the
    buyer sends 100 bundles to its own customer, splits and claims part of another, and gets
    one sent back after passing it on (counted once)."""
    s = settle(tiny_flows(months=1), tiny_scenario(SLEEVED), "2025-01", fees=NO_FEES, fx=FX)
    reg = _registry(tmp_path, hours_transferred=744)
    reg.add_account("customer", "Buyer X's customer", accepts_from=["buyer-x"])
    reg.whitelist("buyer-x", "customer")
    held = reg.bundles(account_id="buyer-x")["id"].tolist()
    for bundle_id in held[:100]:
        reg.transfer(int(bundle_id), "customer", from_account="buyer-x")
    reg.transfer(int(held[0]), "buyer-x", from_account="customer")  # and back
    reg.transfer(int(held[200]), "customer", from_account="buyer-x", quantity_wh=20_000)
    (b,) = reconcile_with_registry(s, reg, "Asia/Shanghai", as_of=date(2025, 3, 1)
                                   ).buyer_statements
    # 744 × 50,000 Wh entered buyer-x, whatever happened next: 37,200,000 Wh
    assert b.reconciled, b.registry
    assert any("37,200,000 Wh" in r for r in b.registry if r.startswith("ok: granular"))


def test_certificates_of_another_month_or_device_do_not_count(tmp_path):
    """A bundle of February (China time) sent to the buyer is not January's delivery."""
    s = settle(tiny_flows(months=1), tiny_scenario(SLEEVED), "2025-01", fees=NO_FEES, fx=FX)
    reg = _registry(tmp_path, hours_transferred=744)
    meta = reg.add_metadata(country_of_issuance="CN", connected_grid_identification="CN-JS",
                            issuing_body="test", issue_market_zone="CN-JS")
    reg.add_device("w2", account_id="park", energy_source="wind", technology_type="wind",
                   capacity_kw=3000)
    # 2025-02-01 00:00 China time = 2025-01-31 16:00 UTC: February in the contract's zone
    feb = flows.hour_key(pd.date_range("2025-02-01", periods=2, freq="h", tz="Asia/Shanghai"))
    reg.issue(pd.DataFrame({"device_id": "w", "hour_start": feb, "energy_wh": 7_000}),
              metadata_id=meta)
    jan = flows.hour_key(pd.date_range("2025-01-05", periods=1, freq="h", tz="Asia/Shanghai"))
    reg.issue(pd.DataFrame({"device_id": "w2", "hour_start": jan, "energy_wh": 9_000}),
              metadata_id=meta)
    park = reg.bundles(account_id="park")
    for bundle_id in park[park["bundle_quantity"].isin([7_000, 9_000])]["id"]:
        reg.transfer(int(bundle_id), "buyer-x", from_account="park")
    (b,) = reconcile_with_registry(s, reg, "Asia/Shanghai", as_of=date(2025, 3, 1)
                                   ).buyer_statements
    assert b.reconciled, b.registry


def test_a_round_trip_or_a_withdrawal_is_no_delivery(tmp_path):
    """Certificates sent to the buyer and taken straight back (then sold to another buyer), or
    withdrawn by the issuing body after the transfer, were not delivered: a mismatch."""
    s = settle(tiny_flows(months=1), tiny_scenario(SLEEVED), "2025-01", fees=NO_FEES, fx=FX)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    reg = _registry(tmp_path / "a", hours_transferred=744)
    reg.whitelist("park", "buyer-x")
    reg.add_account("buyer-y", "Buyer Y", accepts_from=["park"])
    back = reg.bundles(account_id="buyer-x")["id"].tolist()
    for bundle_id in back[:10]:  # ten hours taken back and resold: 10 × 50,000 Wh missing
        reg.transfer(int(bundle_id), "park", from_account="buyer-x")
        reg.transfer(int(bundle_id), "buyer-y", from_account="park")
    (b,) = reconcile_with_registry(s, reg, "Asia/Shanghai", as_of=date(2025, 3, 1)
                                   ).buyer_statements
    assert not b.reconciled
    assert any(r.startswith("MISMATCH") and "36,700,000 Wh" in r and
               "500,000 Wh still to transfer" in r for r in b.registry), b.registry

    reg = _registry(tmp_path / "b", hours_transferred=744)
    for bundle_id in reg.bundles(account_id="buyer-x")["id"].tolist()[:3]:
        reg.withdraw(int(bundle_id), reason="meter data wrong")
    (b,) = reconcile_with_registry(s, reg, "Asia/Shanghai", as_of=date(2025, 3, 1)
                                   ).buyer_statements
    assert any(r.startswith("MISMATCH") and "150,000 Wh still to transfer" in r
               for r in b.registry), b.registry


def test_sent_back_and_delivered_again_counts_once(tmp_path):
    s = settle(tiny_flows(months=1), tiny_scenario(SLEEVED), "2025-01", fees=NO_FEES, fx=FX)
    reg = _registry(tmp_path, hours_transferred=744)
    reg.whitelist("park", "buyer-x")
    first = int(reg.bundles(account_id="buyer-x")["id"].iloc[0])
    reg.transfer(first, "park", from_account="buyer-x")
    reg.transfer(first, "buyer-x", from_account="park")
    (b,) = reconcile_with_registry(s, reg, "Asia/Shanghai", as_of=date(2025, 3, 1)
                                   ).buyer_statements
    assert b.reconciled, b.registry


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 60), st.integers(0, 15)), max_size=25))
def test_range_arithmetic_matches_a_set_of_ids(steps):
    """merged/without on inclusive id ranges behave as a set of ids (an independent model)."""
    ranges: list[tuple[int, int]] = []
    ids: set[int] = set()
    for add, lo, width in steps:
        span = (lo, lo + width)
        if add:
            ranges = merged([*ranges, span])
            ids |= set(range(lo, lo + width + 1))
        else:
            ranges = without(ranges, span)
            ids -= set(range(lo, lo + width + 1))
        assert {i for lo_, hi_ in ranges for i in range(lo_, hi_ + 1)} == ids
        assert total_wh(ranges) == len(ids)
        assert all(a[1] + 1 < b[0] for a, b in pairwise(ranges))
