"""One kWh → Wh rule and one hour convention for issuance and every claim.

Certificates are issued from the meter store (``issue_from_store``) and claimed through the
evidence pack's registry link (``with_registry_certificates``): both sides convert kWh to whole
Wh with :func:`greenlink.units.kwh_to_wh` and group intervals by the scenario's local clock hour
(:func:`greenlink.flows.hour_key`), so a fully green hour is claimable in full, in any zone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from greenlink import flows
from greenlink.carbon.claims import batch_hour_claims
from greenlink.certificates.db import open_registry
from greenlink.certificates.from_meters import issue_from_store
from greenlink.certificates.registry import Registry, RegistryError
from greenlink.errors import GreenlinkError
from greenlink.evidence.build import build_green_share_pack, with_registry_certificates
from greenlink.evidence.verify import verify_pack
from greenlink.metering.actuals import actual_flows, hourly_generation_wh, metered_arrays
from greenlink.metering.ingest import ingest_files
from greenlink.metering.store import open_store
from greenlink.scenario.model import Scenario
from greenlink.units import kwh_to_wh
from tests.certificates.conftest import gec_issued
from tests.evidence.conftest import request_for

# Quarter-hour readings [kWh] of one plant and one user, equal interval by interval: every hour
# is fully green. Their sums carry float noise just *below* a whole Wh (0.2 + 0.7 + 0.1 =
# 0.9999999999999999 kWh, i.e. 999.9999999999999 Wh): a plain floor(kWh · 1000) loses a Wh
# there, so issuance and claims must share one rule for the hour to be claimable in full.
QUARTERS = [0.0, 0.2, 0.7, 0.1,   # 1000 Wh
            0.1, 0.2, 0.6, 0.0,   # 900 Wh
            0.0, 0.1, 0.7, 0.3]   # 1100 Wh
HOUR_WH = [1000, 900, 1100]
# Readings without float noise (binary fractions), for the hour convention alone.
EXACT_QUARTERS = [0.25, 0.25, 0.25, 0.25, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.25, 0.5]
EXACT_HOUR_WH = [1000, 1500, 1000]


def _scenario(timezone: str) -> Scenario:
    return Scenario.model_validate({
        "name": "one plant, one user",
        "site": {"latitude": 23.0, "longitude": 80.0, "timezone": timezone,
                 "province": "test-zone"},
        "time": {"year": 2025, "interval_minutes": 15},
        "weather": {"kind": "synthetic"},
        "allocation": {"method": "pro_rata"},
        "users": [{"id": "a", "load": {"path": "x.csv", "column": "a"}}],
        "pv": [{"id": "pv", "capacity_kw_dc": 400, "tilt_deg": 20}],
        "grid": {"connection_capacity_kw": 1000, "import_limit_kw": 1000,
                 "export_limit_kw": 200},
        "tariff": {"prices_per_kwh": {"flat": 0.6},
                   "seasons": [{"name": "all", "months": list(range(1, 13)),
                                "default_period": "flat"}]},
        "meters": [{"id": "gen", "role": "generator", "measures": "pv", "unit": "kWh"},
                   {"id": "load_a", "role": "user_load", "measures": "a", "unit": "kWh"}],
    })


def _metered_park(tmp_path: Path, timezone: str, quarters: list[float]
                  ) -> tuple[Scenario, Path, pd.Timestamp]:
    """Store the readings from local midnight of 2025-01-01; return scenario, store, start."""
    sc = _scenario(timezone)
    t0 = pd.Timestamp("2025-01-01", tz=timezone)
    stamps = [t0 + pd.Timedelta(minutes=15 * i) for i in range(len(quarters))]
    rows = [(t, m, v) for m in ("gen", "load_a") for t, v in zip(stamps, quarters, strict=True)]
    f = tmp_path / "m.parquet"
    pd.DataFrame(rows, columns=["timestamp", "meter_id", "value"]).to_parquet(f)
    store = tmp_path / "s.duckdb"
    ingest_files(sc, [f], store)
    return sc, store, t0


def _claim(sc: Scenario, store: Path, t0: pd.Timestamp, reg: Registry, hours: int) -> Any:
    with open_store(store, read_only=True) as con:
        metered = actual_flows(sc, metered_arrays(sc, con))
    request = request_for(metered, "a", start=t0, end=t0 + pd.Timedelta(hours=hours),
                          timezone=sc.site.timezone)
    return with_registry_certificates(request, reg, account_id="park")


def test_fully_green_hours_are_claimed_in_full(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    sc, store, t0 = _metered_park(tmp_path, "Asia/Shanghai", QUARTERS)
    reg = open_registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    issued = issue_from_store(reg, sc, store)
    assert issued.bundles == len(HOUR_WH) and issued.wh == sum(HOUR_WH)
    issued_wh = reg.bundles(device_id="pv")["bundle_quantity"].tolist()
    assert issued_wh == HOUR_WH
    gec_issued(reg, tmp_path, "pv", "2025-01", 1)  # the month's GEC (1 MWh covers 3 kWh)
    req = _claim(sc, store, t0, reg, len(HOUR_WH))  # checked now, cancelled by the build
    built = build_green_share_pack(req, key, tmp_path / "p.zip", summaries=False)
    context = built.claim["certificates"]
    assert context["claimed_wh_requested"] == sum(HOUR_WH)
    assert context["shortfall_wh"] == 0
    claimed = reg.bundles(status="Claimed")
    assert claimed["bundle_quantity"].tolist() == HOUR_WH  # every issued Wh, none split off
    assert reg.bundles(status="Active").empty
    assert built.claim["certificates"]["total_wh"] == sum(HOUR_WH)
    assert verify_pack(tmp_path / "p.zip", key.public_key()).ok


@pytest.mark.parametrize(("timezone", "first_utc"), [
    ("Asia/Shanghai", "2024-12-31T16:00:00+00:00"),  # whole-hour zone: UTC hours, as before
    ("Asia/Kolkata", "2024-12-31T18:30:00+00:00"),   # +5:30: local clock hours at hh:30 UTC
])
def test_certificates_are_issued_and_claimed_per_local_clock_hour(
        tmp_path: Path, timezone: str, first_utc: str) -> None:
    sc, store, t0 = _metered_park(tmp_path, timezone, EXACT_QUARTERS)
    n = len(EXACT_HOUR_WH)
    with open_store(store, read_only=True) as con:
        gen = hourly_generation_wh(sc, metered_arrays(sc, con))
    done = gen[gen["complete"].to_numpy() & (gen["energy_wh"] > 0).to_numpy()]
    local_hours = pd.date_range(t0, periods=n, freq="h")
    assert pd.DatetimeIndex(done["hour_start"]).equals(
        pd.DatetimeIndex(flows.hour_key(local_hours, timezone)).tz_convert("UTC"))
    assert done["energy_wh"].tolist() == EXACT_HOUR_WH
    reg = open_registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    issue_from_store(reg, sc, store)
    bundles = reg.bundles(device_id="pv")
    starts = pd.to_datetime(bundles["production_starting_interval"], utc=True)
    assert starts.iloc[0].isoformat() == first_utc
    assert list(starts.dt.tz_convert(timezone).dt.minute) == [0] * n
    gec_issued(reg, tmp_path, "pv", "2025-01", 1)  # the month (China time) of every hour
    req = _claim(sc, store, t0, reg, n)  # checked now, cancelled by the build
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    built = build_green_share_pack(req, key, tmp_path / "p.zip", summaries=False)
    assert built.claim["certificates"]["shortfall_wh"] == 0
    assert reg.bundles(status="Claimed")["bundle_quantity"].tolist() == EXACT_HOUR_WH
    assert verify_pack(tmp_path / "p.zip", key.public_key()).ok  # certificates per local hour
    with pytest.raises(GreenlinkError, match=r"second pack|already backed"):
        _claim(sc, store, t0, reg, n)


def test_batch_claims_use_the_local_clock_hours_of_the_flows() -> None:
    # a +5:30 park; the batch runs 00:30-01:30 local, given in UTC (19:00-20:00)
    index = pd.date_range("2025-01-01", periods=8, freq="15min", tz="Asia/Kolkata",
                          name=flows.INTERVAL_START)
    table = pd.DataFrame({flows.user_green("plant"): [0.1] * 4 + [0.2] * 4}, index=index)
    batches = pd.DataFrame({"batch_id": ["b1"], "process": ["mill"],
                            "start": [pd.Timestamp("2024-12-31 19:00", tz="UTC")],
                            "end": [pd.Timestamp("2024-12-31 20:00", tz="UTC")]})
    claims = batch_hour_claims(batches, table, "plant", {"mill": 1.0})
    assert [t.isoformat() for t in claims["hour_start"]] == ["2024-12-31T18:30:00+00:00",
                                                             "2024-12-31T19:30:00+00:00"]
    assert claims["claim_wh"].tolist() == [200, 400]  # half of 0.4 kWh, half of 0.8 kWh


def test_registry_takes_quarter_hour_starts_only(tmp_path: Path) -> None:
    reg = open_registry(f"sqlite:///{tmp_path / 'r.sqlite'}")
    reg.add_account("park")
    reg.add_device("pv", account_id="park", energy_source="solar",
                   technology_type="photovoltaic", capacity_kw=1)
    meta = reg.add_metadata(country_of_issuance="IN", connected_grid_identification="x",
                            issuing_body="test", issue_market_zone="x")
    kolkata = pd.date_range("2025-01-01", periods=2, freq="h", tz="Asia/Kolkata")
    assert reg.issue(pd.DataFrame({"device_id": "pv", "hour_start": kolkata,
                                   "energy_wh": 1000}), metadata_id=meta) == 2
    with pytest.raises(RegistryError, match="quarter"):
        reg.issue(pd.DataFrame({"device_id": "pv", "hour_start": [
            pd.Timestamp("2025-01-02 00:10", tz="UTC")], "energy_wh": 5}), metadata_id=meta)
    # 1 kW × 1 h × rating_margin 1.05 = 1050 Wh: the bound meter ingest puts on the readings
    with pytest.raises(RegistryError, match="above capacity"):
        reg.issue(pd.DataFrame({"device_id": "pv", "hour_start": [
            pd.Timestamp("2025-01-03", tz="UTC")], "energy_wh": 1051}), metadata_id=meta)


KWH = st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(a=KWH, b=KWH)
def test_kwh_to_wh_is_monotone_and_never_above_the_energy(a: float, b: float) -> None:
    lo, hi = min(a, b), max(a, b)
    assert kwh_to_wh(lo) <= kwh_to_wh(hi)
    assert kwh_to_wh(a) <= a * 1000 + 1e-6
    assert isinstance(kwh_to_wh(a), int)


@settings(max_examples=300, deadline=None)
@given(a=KWH, b=KWH)
def test_kwh_to_wh_of_parts_is_at_most_one_wh_above_the_whole(a: float, b: float) -> None:
    assert kwh_to_wh(a) + kwh_to_wh(b) <= kwh_to_wh(a + b) + 1


@settings(max_examples=100, deadline=None)
@given(values=st.lists(KWH, max_size=20))
def test_kwh_to_wh_of_an_array_is_the_scalar_rule(values: list[float]) -> None:
    wh = kwh_to_wh(np.array(values, dtype=float))
    assert wh.dtype == np.int64
    assert wh.tolist() == [kwh_to_wh(v) for v in values]


def test_kwh_to_wh_absorbs_float_noise() -> None:
    noisy = 0.2 + 0.7 + 0.1
    assert noisy * 1000 < 1000 and kwh_to_wh(noisy) == 1000
    assert kwh_to_wh([noisy, 1.0999999999999999]).tolist() == [1000, 1100]
    assert kwh_to_wh(0.0009994) == 0 and kwh_to_wh(-1e-9) == 0
