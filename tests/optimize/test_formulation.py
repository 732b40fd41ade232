"""The substituted import and the shifted state of charge give back consistent flows and costs."""

from __future__ import annotations

import numpy as np
import pytest

from greenlink.optimize.model import build_model
from greenlink.workflows.optimise import optimize_park
from tests.optimize.tiny import park, scenario


def _week() -> tuple[np.ndarray, np.ndarray]:
    hours = np.arange(24 * 7)
    pv = np.clip(np.sin((hours % 24 - 6) / 12 * np.pi), 0, None)
    load = 80.0 + 40.0 * (hours % 24 >= 18)
    return load, pv


def test_objective_equals_cost_breakdown_and_soc_stays_in_window() -> None:
    # the LP has no import column (m = L − d − b) and counts s from σ_min E; the objective must
    # still equal the costs recomputed from the flows, whose import and SoC are rebuilt from them
    bat = {"id": "bess", "energy_kwh": 1.0, "power_kw": 1.0, "charge_efficiency": 0.95,
           "discharge_efficiency": 0.9, "soc_min": 0.2, "soc_max": 0.9, "soc_initial": 0.5}
    load, pv = _week()
    prices = np.where(np.arange(len(load)) % 24 >= 18, 1.2, 0.4)
    sc = scenario(pv_max_kw=500.0, export_kw=30.0, export_price=0.3, extra={"batteries": [bat]},
                  optimize={"rules": "none",
                            "battery": {"max_energy_kwh": 2000.0, "max_power_kw": 500.0}})
    r = optimize_park(park(sc, load, pv, prices))
    assert r.sizes.battery_kwh > 1.0  # the evening peak price makes storage worth buying
    flows = r.run.flows
    assert r.solution.objective == pytest.approx(r.costs["total"], rel=1e-9)
    soc = flows["battery_soc_kwh"].to_numpy()
    e = r.sizes.battery_kwh
    assert soc.min() >= 0.2 * e - 1e-6
    assert soc.max() <= 0.9 * e + 1e-6
    assert soc.max() - soc.min() > 0.1 * e  # the window is used, not only its floor
    assert (flows["import_kwh"] >= -1e-6).all()
    lp, _v = build_model(r.inputs)
    assert "import_kwh" not in lp.col_blocks and "soc_min" not in lp.row_blocks
