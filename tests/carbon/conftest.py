"""Shared fixtures for the carbon/CBAM tests: tiny flows tables and installations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from greenlink.scenario.installations import Installation


def make_flows(hours: int = 48, interval_minutes: int = 60, load_kwh: float = 1000.0,
               green_kwh: float = 400.0, user: str = "plant",
               start: str = "2025-03-01T00:00") -> pd.DataFrame:
    """A flows table with one user: constant load and green energy per interval."""
    n = hours * 60 // interval_minutes
    index = pd.date_range(start, periods=n, freq=f"{interval_minutes}min", tz="Asia/Shanghai",
                          name="interval_start")
    return pd.DataFrame({f"{user}.load_kwh": np.full(n, load_kwh),
                         f"{user}.green_kwh": np.full(n, green_kwh)}, index=index)


EVIDENCE_OK = {
    "route": "direct_technical_link", "source": "pv1", "ef_t_per_mwh": 0.0,
    "single_line_diagram": "SLD-1", "single_line_diagram_sha256": "a" * 64,
    "meter_interval_minutes": 15, "production_meter": "m_gen", "delivery_meter": "m_load",
    "offtake_contract": "C-1"}


def cement_installation(**changes: object) -> Installation:
    """Kiln (clinker) → grinding (cement) plus purchased clinker; numbers chosen by hand."""
    data: dict[str, object] = {
        "id": "cem", "name": "Test cement works", "user": "plant",
        "grid_factor": {"ef_t_per_mwh": 0.5, "source": "test factor"},
        "electricity_evidence": [EVIDENCE_OK],
        "processes": [
            {"id": "kiln", "name": "Kiln", "cn_code": "2523 10 00", "activity_level_t": 1000,
             "fuels": [{"name": "coal", "amount": 100, "ef_t_co2_per_unit": 2.5}],
             "process_emissions_t": 500, "electricity_mwh": 20},
            {"id": "mill", "name": "Mill", "cn_code": "2523 29 00", "activity_level_t": 2000,
             "electricity_mwh": 30,
             "precursors": [{"precursor": "kiln", "amount_t": 800},
                            {"precursor": "bought", "amount_t": 400}]},
        ],
        "purchased_precursors": [
            {"id": "bought", "name": "Bought clinker", "cn_code": "25231000", "data": "actual",
             "see_direct_t_per_t": 0.8, "see_indirect_t_per_t": 0.05,
             "verification_report": "VR-1"}],
    }
    data.update(changes)
    return Installation.model_validate(data)


@pytest.fixture()
def flows() -> pd.DataFrame:
    return make_flows()
