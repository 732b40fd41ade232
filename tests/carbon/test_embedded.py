"""Specific embedded emissions: hand-computed cases, recursion, rounding, bad input."""

from __future__ import annotations

import pytest

from greenlink.carbon.embedded import round_half_up, round_see
from greenlink.carbon.installations import account, see_table
from greenlink.errors import InputError
from greenlink.scenario.installations import Installation

from .conftest import cement_installation, make_flows

# load 2000 kWh/h and green 800 kWh/h for 48 h: 96 MWh, 38.4 MWh; green fraction 0.4 everywhere
FLOWS = make_flows(load_kwh=2000.0, green_kwh=800.0)


def test_complex_good_by_hand() -> None:
    acc = account(cement_installation(), FLOWS, interval_minutes=60)
    kiln, mill = acc.see["kiln"], acc.see["mill"]
    # EF = 0.6 × 0.5 = 0.3 t/MWh (weighted average, IR 2025/2547 Art 9(1))
    assert acc.decisions["kiln"].route == "weighted_average"
    assert acc.decisions["kiln"].ef_t_per_mwh == pytest.approx(0.3)
    # kiln: (100 t coal × 2.5 + 500) / 1000 t; indirect 20 MWh × 0.3 / 1000 t
    assert kiln.see_direct_t_per_t == pytest.approx(0.75)
    assert kiln.see_indirect_t_per_t == pytest.approx(0.006)
    # mill: (800 × 0.75 + 400 × 0.8) / 2000 ; (30 × 0.3 + 800 × 0.006 + 400 × 0.05) / 2000
    assert mill.see_direct_t_per_t == pytest.approx(0.46)
    assert mill.see_indirect_t_per_t == pytest.approx(0.0169)
    assert mill.indirect_counted_t_per_t == pytest.approx(0.0169)
    grid_only = acc.see_grid_only["mill"]
    assert grid_only.see_indirect_t_per_t == pytest.approx((30 * 0.5 + 800 * 0.01 + 20) / 2000)
    assert len(mill.audit) >= 5 and any("precursor kiln" in a.quantity for a in mill.audit)


def test_annex_ii_good_has_zero_cbam_saving_but_a_footprint_saving() -> None:
    inst = Installation.model_validate({
        "id": "bolts", "user": "plant", "grid_factor": {"ef_t_per_mwh": 0.5, "source": "t"},
        "electricity_evidence": [cement_installation().electricity_evidence[0].model_dump()],
        "processes": [{"id": "forming", "cn_code": "7318 15 88", "activity_level_t": 100,
                       "electricity_mwh": 50, "precursors": [{"precursor": "rod",
                                                              "amount_t": 105}]}],
        "purchased_precursors": [{"id": "rod", "cn_code": "72139110", "country": "CN"}]})
    acc = account(inst, FLOWS, interval_minutes=60)
    row = see_table(acc).iloc[0]
    assert row["cbam_saving_t_per_t"] == 0.0
    # footprint: 50 MWh × (0.5 − 0.3) / 100 t = 0.1 t/t
    assert row["footprint_saving_t_per_t"] == pytest.approx(0.1)
    # wire rod default 3.169 (IR 2025/2621 Annex I, China), 105 t per 100 t
    assert acc.see["forming"].see_direct_t_per_t == pytest.approx(1.05 * 3.169)


def test_rounding_half_up_five_decimals() -> None:
    assert round_see(0.123455) == 0.12346
    assert round_see(2.675004999) == 2.675
    assert round_half_up(0.5, 0) == 1.0 and round_half_up(2.5, 0) == 3.0


def test_precursor_loop_is_an_error() -> None:
    procs = [
        {"id": "a", "cn_code": "25231000", "activity_level_t": 10, "electricity_mwh": 1,
         "precursors": [{"precursor": "b", "amount_t": 1}]},
        {"id": "b", "cn_code": "25232900", "activity_level_t": 10, "electricity_mwh": 1,
         "precursors": [{"precursor": "a", "amount_t": 1}]}]
    with pytest.raises(InputError, match="precursor loop: a → b → a"):
        account(cement_installation(processes=procs, purchased_precursors=[]), FLOWS)


def test_process_without_activity_is_an_error() -> None:
    procs = [{"id": "a", "cn_code": "25231000", "activity_level_t": 0, "electricity_mwh": 1}]
    with pytest.raises(InputError, match="no activity"):
        account(cement_installation(processes=procs, purchased_precursors=[]), FLOWS)


def test_unknown_cn_code_is_an_error() -> None:
    procs = [{"id": "a", "cn_code": "85076000", "activity_level_t": 5, "electricity_mwh": 1}]
    with pytest.raises(InputError, match="not a CBAM good"):
        account(cement_installation(processes=procs, purchased_precursors=[]), FLOWS)


def test_actual_precursor_without_verification_falls_back_to_default() -> None:
    inst = cement_installation(purchased_precursors=[{
        "id": "bought", "cn_code": "25232900", "data": "actual", "see_direct_t_per_t": 0.1}],
        processes=[{"id": "mill", "cn_code": "25232900", "activity_level_t": 10,
                    "electricity_mwh": 1, "precursors": [{"precursor": "bought",
                                                          "amount_t": 10}]}])
    acc = account(inst, FLOWS)
    assert acc.see["bought"].data == "default"
    assert acc.see["bought"].see_direct_t_per_t == 1.35


def test_missing_evidence_means_grid_factor_and_says_why() -> None:
    ev = {**cement_installation().electricity_evidence[0].model_dump(),
          "offtake_contract": None}
    acc = account(cement_installation(electricity_evidence=[ev]), FLOWS)
    assert acc.decisions["mill"].route == "default"
    assert "off-take contract" in see_table(acc).set_index("process").loc["mill",
                                                                            "missing_evidence"]


def test_shares_above_one_are_an_error() -> None:
    procs = [{"id": "a", "cn_code": "25231000", "activity_level_t": 5, "electricity_share": 0.7},
             {"id": "b", "cn_code": "25232900", "activity_level_t": 5, "electricity_share": 0.6}]
    with pytest.raises(InputError, match="at most 1"):
        account(cement_installation(processes=procs, purchased_precursors=[]), FLOWS)
