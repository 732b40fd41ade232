"""Interval-by-interval simulation of a park: direct supply, allocation, storage, grid.

Order of use of green generation in each interval:

1. **direct supply** to loads, ``min(generation, load)``, allocated among users by the scenario's
   method (never more than a user's load);
2. the **surplus** charges the batteries, then is **exported** up to the feed-in cap (only where
   reverse flow is allowed), and the rest is **curtailed**;
3. a **deficit** is met by battery discharge (allocated among users' remaining deficits by the
   same method), then by **grid import**.

The energy balance ``generation + discharge + import = load + charge + export + curtailed``
closes in every interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.dispatch.allocation import Method, allocate
from greenlink.inputs import ParkInputs

__all__ = ["BatteryArrays", "DispatchResult", "battery_arrays",
           "dispatch_arrays", "flows_table", "simulate"]


@dataclass(frozen=True)
class BatteryArrays:
    """Battery parameters as arrays (one entry per battery, in scenario order)."""

    energy_kwh: np.ndarray
    max_kwh_per_interval: np.ndarray
    eta_charge: np.ndarray
    eta_discharge: np.ndarray
    soc_min: np.ndarray
    soc_max: np.ndarray
    soc_initial: np.ndarray
    grid_charging: np.ndarray

    @staticmethod
    def empty() -> BatteryArrays:
        z = np.zeros(0)
        return BatteryArrays(z, z, z, z, z, z, z, np.zeros(0, dtype=bool))


@dataclass(frozen=True)
class DispatchResult:
    """Park and per-user energy arrays of one simulated period (kWh per interval)."""

    generation: np.ndarray
    load: np.ndarray
    green_direct: np.ndarray
    green_to_load: np.ndarray
    battery_charge: np.ndarray
    battery_charge_green: np.ndarray
    battery_discharge: np.ndarray
    battery_discharge_green: np.ndarray
    battery_soc: np.ndarray
    battery_soc_green: np.ndarray
    battery_soc_each: np.ndarray  # (T, B)
    export: np.ndarray
    curtailed: np.ndarray
    grid_import: np.ndarray
    import_over_limit: np.ndarray
    user_load: np.ndarray  # (T, U)
    user_green: np.ndarray  # (T, U)


def dispatch_arrays(load_kwh: np.ndarray, generation_kwh: np.ndarray, *,
                    batteries: BatteryArrays, export_cap_kwh: float, import_limit_kwh: float,
                    method: Method = "pro_rata", shares: np.ndarray | None = None,
                    priorities: np.ndarray | None = None,
                    entitlements_kwh: np.ndarray | None = None,
                    cheap: np.ndarray | None = None, fifo: bool = False) -> DispatchResult:
    """Simulate one period from plain arrays.

    Parameters
    ----------
    load_kwh : (T, U) consumption of each user per interval, kWh
    generation_kwh : (T,) available green generation per interval, kWh
    batteries : battery parameters (may be empty)
    export_cap_kwh : feed-in allowed per interval, kWh (0 where reverse flow is not allowed)
    import_limit_kwh : import limit per interval, kWh (exceedances are reported, not curtailed)
    method, shares, priorities, entitlements_kwh : allocation (see :mod:`.allocation`)
    cheap : (T,) bool, intervals in which grid charging is allowed (the tariff's cheapest period)
    fifo : colour rule of stored energy (False: pro rata)
    """
    load_kwh = np.asarray(load_kwh, dtype=float)
    gen = np.asarray(generation_kwh, dtype=float)
    n_t = load_kwh.shape[0]
    total_load = load_kwh.sum(axis=1)
    direct = np.minimum(gen, total_load)
    kwargs = {"shares": shares, "priorities": priorities, "entitlements": entitlements_kwh}
    user_direct = allocate(direct, load_kwh, method, **kwargs)
    direct = user_direct.sum(axis=1)
    surplus = np.maximum(gen - direct, 0.0)
    deficit = np.maximum(total_load - direct, 0.0)
    cheap_arr = np.zeros(n_t, dtype=bool) if cheap is None else np.asarray(cheap, dtype=bool)
    headroom = np.maximum(import_limit_kwh - deficit, 0.0)

    n_b = len(batteries.energy_kwh)
    if n_b:
        # compiled on first use; the optimiser, which only builds flows tables, never loads it
        from greenlink.dispatch.battery import run_batteries

        e = batteries.energy_kwh
        cg, cr, dis, dis_g, soc, soc_g = run_batteries(
            surplus, deficit, cheap_arr, headroom, batteries.max_kwh_per_interval,
            batteries.eta_charge, batteries.eta_discharge, e * batteries.soc_min,
            e * batteries.soc_max, e * batteries.soc_initial,
            batteries.grid_charging.astype(np.bool_), fifo)
    else:
        cg = cr = dis = dis_g = soc = soc_g = np.zeros((n_t, 1))
    charge_green = cg.sum(axis=1)
    charge_grid = cr.sum(axis=1)
    discharge = dis.sum(axis=1)
    discharge_green = dis_g.sum(axis=1)

    left = surplus - charge_green
    export = np.minimum(left, export_cap_kwh)
    curtailed = left - export
    remaining = deficit - discharge
    grid_import = remaining + charge_grid
    over = np.maximum(grid_import - import_limit_kwh, 0.0)

    user_batt = allocate(discharge, load_kwh - user_direct, method, **kwargs)
    green_fraction = np.divide(discharge_green, discharge, out=np.zeros(n_t), where=discharge > 0)
    user_green = user_direct + user_batt * green_fraction[:, None]
    return DispatchResult(
        generation=gen, load=total_load, green_direct=direct,
        green_to_load=user_green.sum(axis=1),
        battery_charge=charge_green + charge_grid, battery_charge_green=charge_green,
        battery_discharge=discharge, battery_discharge_green=discharge_green,
        battery_soc=soc.sum(axis=1) if n_b else np.zeros(n_t),
        battery_soc_green=soc_g.sum(axis=1) if n_b else np.zeros(n_t),
        battery_soc_each=soc if n_b else np.zeros((n_t, 0)),
        export=export, curtailed=curtailed, grid_import=grid_import, import_over_limit=over,
        user_load=load_kwh, user_green=user_green)


def battery_arrays(inputs: ParkInputs) -> BatteryArrays:
    bats = inputs.scenario.batteries
    if not bats:
        return BatteryArrays.empty()
    dt = inputs.interval_hours

    def arr(name: str) -> np.ndarray:
        return np.array([float(getattr(b, name)) for b in bats])

    return BatteryArrays(
        energy_kwh=arr("energy_kwh"), max_kwh_per_interval=arr("power_kw") * dt,
        eta_charge=arr("charge_efficiency"), eta_discharge=arr("discharge_efficiency"),
        soc_min=arr("soc_min"), soc_max=arr("soc_max"), soc_initial=arr("soc_initial"),
        grid_charging=np.array([b.grid_charging for b in bats], dtype=bool))


def simulate(inputs: ParkInputs) -> pd.DataFrame:
    """Simulate the scenario year; return the flows table (see docs/formats.md)."""
    sc = inputs.scenario
    dt = inputs.interval_hours
    users = sc.users
    prices = inputs.price_per_kwh
    cheap = np.isclose(prices, prices.min()) if len(prices) else None
    grid = sc.grid
    export_cap = grid.export_limit_kw * dt if grid.reverse_flow_allowed else 0.0
    result = dispatch_arrays(
        inputs.load_kwh, inputs.total_generation_kwh, batteries=battery_arrays(inputs),
        export_cap_kwh=export_cap, import_limit_kwh=grid.import_limit_kw * dt,
        method=sc.allocation.method,
        shares=np.array([u.share or 0.0 for u in users]),
        priorities=np.array([u.priority or 1 for u in users]),
        entitlements_kwh=np.array([(u.contracted_kw or 0.0) * dt for u in users]),
        cheap=cheap, fifo=sc.allocation.battery_colour_rule == "fifo")
    return flows_table(inputs, result)


def _park_columns(r: DispatchResult) -> dict[str, np.ndarray]:
    """The park columns of the flows table, by schema name."""
    return {
        flows.GENERATION_KWH: r.generation, flows.LOAD_KWH: r.load,
        flows.GREEN_TO_LOAD_KWH: r.green_to_load, flows.GREEN_DIRECT_KWH: r.green_direct,
        flows.BATTERY_CHARGE_KWH: r.battery_charge,
        flows.BATTERY_CHARGE_GREEN_KWH: r.battery_charge_green,
        flows.BATTERY_DISCHARGE_KWH: r.battery_discharge,
        flows.BATTERY_DISCHARGE_GREEN_KWH: r.battery_discharge_green,
        flows.BATTERY_SOC_KWH: r.battery_soc, flows.BATTERY_SOC_GREEN_KWH: r.battery_soc_green,
        flows.EXPORT_KWH: r.export, flows.CURTAILED_KWH: r.curtailed,
        flows.IMPORT_KWH: r.grid_import, flows.IMPORT_OVER_LIMIT_KWH: r.import_over_limit,
    }


def flows_table(inputs: ParkInputs, r: DispatchResult) -> pd.DataFrame:
    """The documented flows table from a dispatch result (columns in the schema's order:
    park columns, then per generator, per battery and per user)."""
    park = _park_columns(r)
    columns: dict[str, np.ndarray] = {name: park[name] for name in flows.PARK_COLUMNS}
    for gen_id, values in inputs.generation_kwh.items():
        columns[flows.generator_generation(gen_id)] = values
    for b, bat in enumerate(inputs.scenario.batteries):
        columns[flows.battery_soc(bat.id)] = r.battery_soc_each[:, b]
    for j, user in enumerate(inputs.scenario.users):
        columns[flows.user_load(user.id)] = r.user_load[:, j]
        columns[flows.user_green(user.id)] = r.user_green[:, j]
        columns[flows.user_grid(user.id)] = r.user_load[:, j] - r.user_green[:, j]
    frame = pd.DataFrame(columns, index=inputs.index)
    frame.index.name = flows.INTERVAL_START
    return frame
