"""Electricity emission factor routes and D.4.3 evidence."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from greenlink.carbon.emission_factor_routes import GridFactor, decide_factor, missing_evidence
from greenlink.scenario.installations import ElectricityEvidence

from .conftest import EVIDENCE_OK

GRID = GridFactor(0.465, "test grid", "D.4(a)")


def test_weighted_average_example_from_the_notes() -> None:
    # cbam.md §6 vector 5: 600 MWh at 0 + 400 MWh grid at 0.465 -> 0.186 t/MWh
    ppa = ElectricityEvidence.model_validate({
        "route": "ppa", "source": "wind", "meter_interval_minutes": 60,
        "production_meter": "a", "delivery_meter": "b", "ppa_contract": "P",
        "grid_connection_proof": "TSO letter"})
    d = decide_factor(1000, 600, GRID, [ppa])
    assert d.route == "weighted_average" and d.template_code == "Mix"
    assert abs(d.ef_t_per_mwh - 0.186) < 1e-12


def test_single_source_when_all_matched() -> None:
    d = decide_factor(100, 100, GRID, [ElectricityEvidence.model_validate(EVIDENCE_OK)])
    assert (d.route, d.template_code, d.ef_t_per_mwh) == ("actual_direct_link", "D.4.3.1", 0.0)


def test_no_evidence_means_grid_factor() -> None:
    d = decide_factor(100, 100, GRID)
    assert (d.route, d.ef_t_per_mwh, d.template_code) == ("default", 0.465, "D.4(a)")


def test_missing_evidence_is_listed() -> None:
    ev = ElectricityEvidence.model_validate(
        {**EVIDENCE_OK, "single_line_diagram_sha256": None, "meter_interval_minutes": 1440})
    gaps = missing_evidence(ev)
    assert any("SHA-256" in g for g in gaps) and any("1440" in g for g in gaps)
    d = decide_factor(100, 50, GRID, [ev])
    assert d.route == "default" and len(d.missing_evidence) == 2


def test_ppa_needs_grid_connection_proof() -> None:
    ev = ElectricityEvidence.model_validate({
        "route": "ppa", "source": "wind", "meter_interval_minutes": 60,
        "production_meter": "a", "delivery_meter": "b", "ppa_contract": "P"})
    assert any("grid connection" in g for g in missing_evidence(ev))


def test_hourly_data_required() -> None:
    d = decide_factor(100, 50, GRID, [ElectricityEvidence.model_validate(EVIDENCE_OK)],
                      data_interval_minutes=1440)
    assert d.route == "default"


def test_claim_capped_at_contracted_amount() -> None:
    ev = ElectricityEvidence.model_validate({**EVIDENCE_OK, "offtake_contracted_mwh": 20})
    d = decide_factor(100, 50, GRID, [ev])
    assert d.green_mwh_claimed == 20 and abs(d.ef_t_per_mwh - 0.8 * 0.465) < 1e-12


@given(total=st.floats(0.001, 1e6), share=st.floats(0, 1), grid=st.floats(0, 2),
       src=st.floats(0, 2))
def test_factor_lies_between_source_and_grid(total: float, share: float, grid: float,
                                             src: float) -> None:
    ev = ElectricityEvidence.model_validate({**EVIDENCE_OK, "ef_t_per_mwh": src})
    d = decide_factor(total, share * total, GridFactor(grid, "g"), [ev])
    lo, hi = min(grid, src), max(grid, src)
    assert lo - 1e-9 <= d.ef_t_per_mwh <= hi + 1e-9
