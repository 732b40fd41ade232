"""One copy of the PV defaults: the scenario model and the PV functions take them from
``greenlink.scenario.pv_defaults``."""

from __future__ import annotations

import inspect
from dataclasses import fields
from typing import get_args

from greenlink.resource.pv import pv_energy_kwh, pv_hourly_ac_power_kw
from greenlink.scenario.model import PVPlant
from greenlink.scenario.pv_defaults import PV_DEFAULTS, Mounting


def test_scenario_plant_defaults_are_the_pv_defaults() -> None:
    plant = PVPlant(id="p", capacity_kw_dc=100.0, tilt_deg=20.0)
    names = [f.name for f in fields(PV_DEFAULTS) if f.name in PVPlant.model_fields]
    assert len(names) == 6  # all but albedo, which the scenario does not set
    for name in names:
        assert getattr(plant, name) == getattr(PV_DEFAULTS, name), name
    assert get_args(PVPlant.model_fields["mounting"].annotation) == get_args(Mounting)


def test_pv_function_defaults_are_the_pv_defaults() -> None:
    checked: set[str] = set()
    for func in (pv_hourly_ac_power_kw, pv_energy_kwh):
        params = inspect.signature(func).parameters
        for f in fields(PV_DEFAULTS):
            if f.name in params and params[f.name].default is not inspect.Parameter.empty:
                assert params[f.name].default == getattr(PV_DEFAULTS, f.name), (func, f.name)
                checked.add(f.name)
        assert params["tilt_deg"].default is inspect.Parameter.empty  # stated per plant
    assert checked == {f.name for f in fields(PV_DEFAULTS)} - {"azimuth_deg"}
