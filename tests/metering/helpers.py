"""A tiny park (2 users, 1 PV plant, 1 battery, grid meters) as a Scenario object."""

from __future__ import annotations

from typing import Any

from greenlink.scenario.model import Scenario

METERS: list[dict[str, Any]] = [
    {"id": "gen", "role": "generator", "measures": "pv", "unit": "kWh"},
    {"id": "load_a", "role": "user_load", "measures": "a", "unit": "kWh"},
    {"id": "load_b", "role": "user_load", "measures": "b", "unit": "Wh"},
    {"id": "line_a1", "role": "line_submeter", "measures": "a", "production_line": "l1"},
    {"id": "line_a2", "role": "line_submeter", "measures": "a", "production_line": "l2"},
    {"id": "chg", "role": "battery_charge", "measures": "bess"},
    {"id": "dis", "role": "battery_discharge", "measures": "bess"},
    {"id": "imp", "role": "grid_import"},
    {"id": "exp", "role": "grid_export", "unit": "MWh"},
]


def scenario(meters: list[dict[str, Any]] | None = None, **allocation: Any) -> Scenario:
    data: dict[str, Any] = {
        "name": "meter test park",
        "site": {"latitude": 31.9, "longitude": 118.9, "timezone": "Asia/Shanghai",
                 "province": "CN-JS"},
        "time": {"year": 2025, "interval_minutes": 15},
        "weather": {"kind": "synthetic"},
        "allocation": allocation or {"method": "pro_rata"},
        "users": [{"id": "a", "load": {"path": "x.csv", "column": "a"}},
                  {"id": "b", "load": {"path": "x.csv", "column": "b"}}],
        "pv": [{"id": "pv", "capacity_kw_dc": 400, "tilt_deg": 20}],
        "batteries": [{"id": "bess", "energy_kwh": 200, "power_kw": 100}],
        "grid": {"connection_capacity_kw": 1000, "import_limit_kw": 1000,
                 "export_limit_kw": 200},
        "tariff": {"prices_per_kwh": {"flat": 0.6},
                   "seasons": [{"name": "all", "months": list(range(1, 13)),
                                "default_period": "flat"}]},
        "meters": METERS if meters is None else meters,
    }
    return Scenario.model_validate(data)
