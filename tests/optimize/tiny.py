"""Tiny parks built directly as arrays (no files, no weather model): optima known by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from greenlink.inputs import ParkInputs, tariff_periods
from greenlink.scenario.model import Scenario


def scenario(*, users: int = 1, pv_max_kw: float = 100.0, battery: bool = True,
             export_kw: float = 0.0, import_kw: float = 1000.0, optimize: dict | None = None,
             ruleset: str = "cn-ndrc-nea-2025-650", parameters: dict | None = None,
             price: float = 1.0, export_price: float = 0.0, extra: dict | None = None
             ) -> Scenario:
    data: dict[str, Any] = {
        "name": "tiny", "site": {"latitude": 32.0, "longitude": 119.0,
                                 "timezone": "Asia/Shanghai", "province": "CN-JS"},
        "time": {"year": 2026, "interval_minutes": 60},
        "weather": {"kind": "synthetic"},
        "users": [{"id": f"u{j}", "load": {"path": "x.csv", "column": f"u{j}"}}
                  for j in range(users)],
        "pv": [{"id": "pv", "capacity_kw_dc": 1.0, "tilt_deg": 20,
                "max_capacity_kw_dc": pv_max_kw}],
        "batteries": [{"id": "bess", "energy_kwh": 1.0, "power_kw": 1.0,
                       "charge_efficiency": 1.0, "discharge_efficiency": 1.0,
                       "soc_min": 0.0, "soc_max": 1.0, "soc_initial": 0.0}] if battery else [],
        "grid": {"connection_capacity_kw": max(import_kw, export_kw, 1.0),
                 "import_limit_kw": import_kw, "export_limit_kw": export_kw,
                 "reverse_flow_allowed": export_kw > 0},
        "tariff": {"prices_per_kwh": {"flat": price}, "export_price_per_kwh": export_price,
                   "seasons": [{"name": "all", "months": list(range(1, 13)),
                                "default_period": "flat"}]},
        "policy": {"ruleset": ruleset, "parameters": parameters or {},
                   "check_date": "2026-12-31"},
        # the optima by hand have no direct-line fees; tests of the fees ask for them
        "optimize": {"fees": "none", **(optimize or {})},
    }
    data.update(extra or {})
    return Scenario.model_validate(data)


def park(sc: Scenario, load_kwh: np.ndarray, pv_kwh_per_kw: np.ndarray,
         prices: np.ndarray | None = None) -> ParkInputs:
    """ParkInputs over len(load) hourly intervals from 2026-01-01 (PV modelled at 1 kWp)."""
    load = np.asarray(load_kwh, dtype=float)
    if load.ndim == 1:
        load = load[:, None]
    index = pd.date_range("2026-01-01", periods=len(load), freq="60min", tz="Asia/Shanghai")
    periods = tariff_periods(sc.tariff, index)
    price = np.array([sc.tariff.prices_per_kwh[p] for p in periods]) if prices is None \
        else np.asarray(prices, dtype=float)
    return ParkInputs(scenario=sc, source=None, index=index, load_kwh=load,
                      generation_kwh={"pv": np.asarray(pv_kwh_per_kw, dtype=float)},
                      price_per_kwh=price, tariff_period=periods, weather=None)
