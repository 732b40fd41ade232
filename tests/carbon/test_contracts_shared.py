"""Issue 12, point 2: a contract's deliverable MWh are shared by every process drawing on it, and
the evidence entry the route check accepts is the one every output uses.

Hand case (conftest ``make_flows``): 48 h at 1000 kWh/h, green 400 kWh/h → the user's load
48 MWh, green 19.2 MWh. Two processes draw half each: E = 24 MWh, matched G = 9.6 MWh each,
19.2 MWh together, on a contract that delivers 12 MWh. Each may claim 12 × 9.6 / 19.2 = 6 MWh
(not 9.6 each: 19.2 MWh claimed on a 12 MWh contract). Grid 0.5 t/MWh, source EF 0:
EF = (6 × 0 + 18 × 0.5) / 24 = 0.375 t/MWh.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from greenlink.carbon.emission_factor_routes import (
    ContractClaim,
    GridFactor,
    accepted_evidence,
    contract_key,
    decide_factor,
    share_contracts,
)
from greenlink.carbon.installations import (
    account,
    claimable_ratio,
    contract_claims,
    scenario_contract_pool,
    source_factors,
)
from greenlink.scenario.installations import ElectricityEvidence, Installation

from .conftest import EVIDENCE_OK, make_flows

FLOWS = make_flows(load_kwh=1000.0, green_kwh=400.0)
CAPPED = {**EVIDENCE_OK, "offtake_contracted_mwh": 12.0}


def _two_lines(evidence: list[dict[str, object]], inst_id: str = "cem",
               shares: tuple[float, float] = (0.5, 0.5)) -> Installation:
    return Installation.model_validate({
        "id": inst_id, "user": "plant", "grid_factor": {"ef_t_per_mwh": 0.5, "source": "t"},
        "electricity_evidence": evidence,
        "processes": [
            {"id": "kiln", "cn_code": "2523 10 00", "activity_level_t": 1000,
             "process_emissions_t": 500, "electricity_share": shares[0]},
            {"id": "mill", "cn_code": "2523 29 00", "activity_level_t": 2000,
             "electricity_share": shares[1]}]})


def test_share_contracts_by_hand() -> None:
    claims = [ContractClaim("a", "C", 220.0, 300.0), ContractClaim("b", "C", 220.0, 300.0),
              ContractClaim("c", "D", 50.0, None)]
    shares = share_contracts(claims)
    # 440 MWh matched on a 300 MWh contract: 150 each; a contract with no amount caps nothing
    assert shares == {"a": 150.0, "b": 150.0, "c": None}
    assert share_contracts([ContractClaim("a", "C", 100.0, 300.0)]) == {"a": 100.0}


def test_two_processes_share_one_contract() -> None:
    acc = account(_two_lines([CAPPED]), FLOWS)
    for pid in ("kiln", "mill"):
        d = acc.decisions[pid]
        assert d.green_mwh_claimed == pytest.approx(6.0)
        assert d.ef_t_per_mwh == pytest.approx(0.375)
        assert d.contract == "direct_technical_link:C-1" and d.evidence_index == 0
        assert any("2 processes" in w for w in d.warnings)
    total = sum(d.green_mwh_claimed for d in acc.decisions.values())
    assert total == pytest.approx(12.0)  # never more than the contract delivers
    assert claimable_ratio(acc.decisions, acc.green_mwh) == {"kiln": 0.625, "mill": 0.625}


def test_installations_naming_the_same_contract_share_it() -> None:
    a = _two_lines([CAPPED], "a", (0.25, 0.25))
    b = _two_lines([CAPPED], "b", (0.25, 0.25))
    pool = scenario_contract_pool([a, b], FLOWS)
    assert len(pool) == 4 and {c.contract for c in pool} == {contract_key(
        ElectricityEvidence.model_validate(CAPPED))}
    # four processes match 4.8 MWh each (19.2 together) on 12 MWh: 3 MWh each
    acc = account(a, FLOWS, contract_pool=pool)
    assert [d.green_mwh_claimed for d in acc.decisions.values()] == pytest.approx([3.0, 3.0])
    alone = account(a, FLOWS)  # without the pool only a's two processes share it
    assert [d.green_mwh_claimed for d in alone.decisions.values()] == pytest.approx([4.8, 4.8])


def test_the_accepted_entry_is_the_one_every_output_uses(tmp_path: Path) -> None:
    # entry 0: incomplete (no diagram hash) with EF 0.2; entry 1: complete with EF 0.1
    first = {**EVIDENCE_OK, "single_line_diagram_sha256": None, "ef_t_per_mwh": 0.2,
             "offtake_contract": "C-0"}
    second = {**EVIDENCE_OK, "ef_t_per_mwh": 0.1, "offtake_contract": "C-2"}
    inst = _two_lines([first, second])
    index, gaps = accepted_evidence([ElectricityEvidence.model_validate(e)
                                     for e in (first, second)])
    assert index == 1 and any("SHA-256" in g for g in gaps)
    assert [c.contract for c in contract_claims(inst, {"kiln": 1.0, "mill": 1.0})] == [
        "direct_technical_link:C-2"] * 2
    acc = account(inst, FLOWS)
    assert acc.decisions["mill"].evidence_index == 1
    # period: EF = (9.6 × 0.1 + 14.4 × 0.5) / 24 = 0.34
    assert acc.decisions["mill"].ef_t_per_mwh == pytest.approx(0.34)
    assert source_factors(inst, acc.decisions) == {"kiln": 0.1, "mill": 0.1}
    # a batch of the mill over 10 h: E = 10 × 1000 × 0.5 = 5 MWh, G = 2 MWh at the accepted
    # entry's 0.1 (not the first entry's 0.2): (2 × 0.1 + 3 × 0.5) / 100 t = 0.017 t/t
    pd.DataFrame([{"batch_id": "b1", "process": "mill", "sku": "C", "tonnes": 100.0,
                   "start": "2025-03-01T00:00", "end": "2025-03-01T10:00"}]).to_csv(
        tmp_path / "b.csv", index=False)
    acc = account(inst.model_copy(update={"batches_file": "b.csv"}), FLOWS, base_dir=tmp_path,
                  tz="Asia/Shanghai")
    row = acc.batches.iloc[0]
    assert row["footprint_dc_t_per_t"] - row["see_direct_t_per_t"] == pytest.approx(0.017)


def test_single_claimant_cap_unchanged() -> None:
    ev = ElectricityEvidence.model_validate({**EVIDENCE_OK, "offtake_contracted_mwh": 20})
    d = decide_factor(100, 50, GridFactor(0.465, "g"), [ev])
    assert d.green_mwh_claimed == 20 and d.contract_share_mwh == 20.0
