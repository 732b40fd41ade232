"""Allocation of metered ("actual") energy among users, interval by interval.

The metered readings are summed per scenario interval and role, then split among users with the
scenario's allocation method (:func:`greenlink.dispatch.allocation.allocate`), exactly like the
simulation does with modelled data:

1. direct green supply ``min(generation, load)`` is allocated with each user's load as cap;
2. metered battery discharge is allocated among the users' remaining load;
3. the green part of the discharge follows the battery colour rule (pro rata to the stored mix,
   or FIFO) applied to the metered charge, whose green part is
   ``min(charge, max(generation − direct, 0))``; losses are removed in proportion
   (round-trip efficiency ``Σ discharge / Σ charge`` of the metered period, at most 1).

The result is a flows table in the documented format (docs/formats.md) so that settlement,
CBAM and reports consume metered and simulated data alike, plus one extra column,
``metered_residual_kwh = supply − use`` (measurement error; ``curtailed_kwh`` is 0 because a
generator meter measures what was delivered). Hourly matched green energy per user and per
production line is derived from it.

Hours (docs/metering.md): an hour is a **local clock hour** of the scenario's time zone,
:func:`greenlink.flows.hour_key` — the same hours the policy KPIs, the evidence packs and the
registry use. In a half-hour zone (India, UTC+5:30) a clock hour starts at half past a UTC hour.
Whole Wh for certificates and consumption come from :func:`greenlink.units.kwh_to_wh`, the rule
every claim uses too.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.dispatch.allocation import allocate
from greenlink.scenario.model import Scenario
from greenlink.units import kwh_to_wh

#: Extra column of :func:`actual_flows`: ``supply − use`` of the metered park [kWh].
METERED_RESIDUAL_KWH = "metered_residual_kwh"
#: Columns of :func:`hourly_matched`: the hour's start, and its load and matched green energy
#: [kWh] (named like the per-user quantities of the flows table).
HOUR_START = "hour_start"
MATCHED_LOAD_KWH = flows.USER_LOAD_KWH
MATCHED_GREEN_KWH = flows.USER_GREEN_KWH


@dataclass(frozen=True)
class MeteredArrays:
    """Metered energy per scenario interval (kWh), summed by what the meters measure."""

    index: pd.DatetimeIndex  # interval starts in the park's zone
    by_meter: dict[str, np.ndarray]  # meter id → (T,) kWh (0 where missing)
    present: dict[str, np.ndarray]  # meter id → (T,) bool, True where every sub-reading exists
    filled: dict[str, np.ndarray]  # meter id → (T,) bool, True where a filled reading is used


def metered_arrays(scenario: Scenario, con: duckdb.DuckDBPyConnection) -> MeteredArrays:
    """Sum the stored readings of every scenario meter into scenario intervals.

    DuckDB selects the readings of the scenario's meters in the year (integer keys, no strings);
    numpy sums them per meter and interval with one ``bincount`` over the flat cell index
    ``r · T + (ts − t0) // Δt`` (r: the meter's row, T intervals of Δt seconds from t0).
    """
    index = flows.year_index(scenario.time.year, scenario.time.interval_minutes,
                             scenario.site.timezone)
    t0 = int(index[0].tz_convert("UTC").timestamp())
    dt_s = scenario.time.interval_minutes * 60
    n = len(index)
    ids = [m.id for m in scenario.meters]
    con.register("wanted_meters", pd.DataFrame({"meter_id": ids,
                                                "r": np.arange(len(ids), dtype=np.int64)}))
    try:
        rows = con.sql(f"""
            SELECT w.r * {n} + (x.ts_s - {t0}) // {dt_s} AS cell, x.energy_kwh, x.filled
            FROM readings x JOIN meters USING (meter_key)
                 JOIN wanted_meters w USING (meter_id)
            WHERE x.ts_s >= {t0} AND x.ts_s < {t0 + n * dt_s}""").to_arrow_table()
    finally:
        con.unregister("wanted_meters")
    cell = rows["cell"].to_numpy()
    size = len(ids) * n
    energy = np.bincount(cell, weights=rows["energy_kwh"].to_numpy(),
                         minlength=size).reshape(len(ids), n)
    count = np.bincount(cell, minlength=size).reshape(len(ids), n)
    was_filled = rows["filled"].to_numpy(zero_copy_only=False)
    fill = ((np.bincount(cell[was_filled], minlength=size) > 0) if was_filled.any()
            else np.zeros(size, dtype=bool)).reshape(len(ids), n)
    by_meter: dict[str, np.ndarray] = {}
    present: dict[str, np.ndarray] = {}
    filled: dict[str, np.ndarray] = {}
    for i, m in enumerate(scenario.meters):
        by_meter[m.id] = energy[i]
        present[m.id] = count[i] >= dt_s // (m.interval_minutes * 60)
        filled[m.id] = fill[i]
    return MeteredArrays(index, by_meter, present, filled)


def _plant_ids(scenario: Scenario) -> list[str]:
    return [p.id for p in scenario.pv] + [w.id for w in scenario.wind]


def _sum(arrays: MeteredArrays, scenario: Scenario, role: str, measures: str | None = None
         ) -> np.ndarray:
    total = np.zeros(len(arrays.index))
    for m in scenario.meters:
        if m.role == role and (measures is None or m.measures == measures):
            total += np.maximum(arrays.by_meter[m.id], 0.0)
    return total


def _green_discharge(charge: np.ndarray, charge_green: np.ndarray, discharge: np.ndarray,
                     fifo: bool) -> np.ndarray:
    """Green part of each discharge, following the stored mix (pro rata) or FIFO.

    Stored energy is tracked in charge-terminal kWh; a discharge ``d`` removes ``d / η`` of it,
    η = Σ discharge / Σ charge (at most 1).
    """
    total_in = charge.sum()
    eta = min(1.0, discharge.sum() / total_in) if total_in > 0 else 1.0
    eta = eta if eta > 0 else 1.0
    out = np.zeros_like(discharge)
    stored = 0.0
    green = 0.0
    queue: list[list[float]] = []  # FIFO: [amount, green amount]
    for t in range(len(discharge)):
        if charge[t] > 0:
            stored += charge[t]
            green += charge_green[t]
            if fifo:
                queue.append([charge[t], charge_green[t]])
        d = discharge[t]
        if d <= 0 or stored <= 0:
            continue
        take = min(d / eta, stored)
        if fifo:
            need, got = take, 0.0
            while need > 1e-12 and queue:
                amount, g = queue[0]
                part = min(need, amount)
                got += g * part / amount
                queue[0] = [amount - part, g - g * part / amount]
                if queue[0][0] <= 1e-12:
                    queue.pop(0)
                need -= part
            taken_green = got
        else:
            taken_green = green * take / stored
        out[t] = min(d, taken_green * eta)
        stored -= take
        green = max(green - taken_green, 0.0)
    return out


def actual_flows(scenario: Scenario, arrays: MeteredArrays) -> pd.DataFrame:
    """Flows table (docs/formats.md) of metered values, allocated among users."""
    users = scenario.users
    n = len(arrays.index)
    dt = scenario.time.interval_minutes / 60
    gen_each = {pid: _sum(arrays, scenario, "generator", pid) for pid in _plant_ids(scenario)}
    gen = np.sum(list(gen_each.values()), axis=0) if gen_each else np.zeros(n)
    load = np.zeros((n, len(users)))
    for j, u in enumerate(users):
        whole = [m for m in scenario.meters if m.role == "user_load" and m.measures == u.id]
        role = "user_load" if whole else "line_submeter"
        load[:, j] = _sum(arrays, scenario, role, u.id)
    charge = _sum(arrays, scenario, "battery_charge")
    discharge = _sum(arrays, scenario, "battery_discharge")
    grid_import = _sum(arrays, scenario, "grid_import")
    export = _sum(arrays, scenario, "grid_export")
    total_load = load.sum(axis=1)
    kwargs = {"shares": np.array([u.share or 0.0 for u in users]),
              "priorities": np.array([u.priority or 1 for u in users]),
              "entitlements": np.array([(u.contracted_kw or 0.0) * dt for u in users])}
    method = scenario.allocation.method
    user_direct = allocate(np.minimum(gen, total_load), load, method, **kwargs)
    direct = user_direct.sum(axis=1)
    charge_green = np.minimum(charge, np.maximum(gen - direct, 0.0))
    discharge_green = _green_discharge(charge, charge_green, discharge,
                                       scenario.allocation.battery_colour_rule == "fifo")
    user_batt = allocate(discharge, np.maximum(load - user_direct, 0.0), method, **kwargs)
    frac = np.divide(discharge_green, discharge, out=np.zeros(n), where=discharge > 0)
    user_green = np.minimum(user_direct + user_batt * frac[:, None], load)
    soc = np.cumsum(charge - discharge)
    soc_green = np.cumsum(charge_green - discharge_green)
    supply = gen + discharge + grid_import
    use = total_load + charge + export
    columns: dict[str, np.ndarray] = {
        flows.GENERATION_KWH: gen, flows.LOAD_KWH: total_load,
        flows.GREEN_TO_LOAD_KWH: user_green.sum(axis=1), flows.GREEN_DIRECT_KWH: direct,
        flows.BATTERY_CHARGE_KWH: charge, flows.BATTERY_CHARGE_GREEN_KWH: charge_green,
        flows.BATTERY_DISCHARGE_KWH: discharge,
        flows.BATTERY_DISCHARGE_GREEN_KWH: discharge_green,
        flows.BATTERY_SOC_KWH: soc - min(soc.min(initial=0.0), 0.0),
        flows.BATTERY_SOC_GREEN_KWH: np.maximum(soc_green, 0.0),
        flows.EXPORT_KWH: export, flows.CURTAILED_KWH: np.zeros(n),
        flows.IMPORT_KWH: grid_import,
        flows.IMPORT_OVER_LIMIT_KWH: np.maximum(
            grid_import - scenario.grid.import_limit_kw * dt, 0.0),
    }
    for gen_id, values in gen_each.items():
        columns[flows.generator_generation(gen_id)] = values
    for j, u in enumerate(users):
        columns[flows.user_load(u.id)] = load[:, j]
        columns[flows.user_green(u.id)] = user_green[:, j]
        columns[flows.user_grid(u.id)] = load[:, j] - user_green[:, j]
    columns[METERED_RESIDUAL_KWH] = supply - use
    frame = pd.DataFrame(columns, index=arrays.index)
    frame.index.name = flows.INTERVAL_START
    return frame


def _repeat_text(values: list[str], each: int) -> pd.Index | np.ndarray:
    """``np.repeat(values, each)`` as a text column, built from the distinct values once."""
    if not values:
        return np.repeat(values, each)
    return pd.Index(values).take(np.repeat(np.arange(len(values)), each))


def _local_hours(scenario: Scenario, index: pd.DatetimeIndex
                 ) -> tuple[np.ndarray, pd.DatetimeIndex]:
    """Code of each interval's local clock hour (:func:`greenlink.flows.hour_key` in the
    scenario's zone) and the distinct hour starts, in time order."""
    keys = flows.hour_key(index, scenario.site.timezone)
    codes, hours = pd.factorize(keys, sort=True)
    return codes, pd.DatetimeIndex(hours, name=HOUR_START)


def _hourly(codes: np.ndarray, n_hours: int, values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` per hour code (the one summation for generation and consumption)."""
    return np.bincount(codes, weights=values, minlength=n_hours)


def hourly_matched(scenario: Scenario, flow_table: pd.DataFrame, arrays: MeteredArrays
                   ) -> pd.DataFrame:
    """Hourly matched green energy per user and per production line (tidy).

    Columns ``hour_start`` (start of the scenario's local clock hour, park zone), ``user_id``,
    ``production_line`` ('' for the whole user), ``load_kwh``, ``green_kwh``. A line's green
    energy is its user's green energy in each interval times the line's share of the metered
    line loads: ``green_line = green_user · load_line / Σ load_lines`` (Σ lines of that user).
    """
    codes, hours = _local_hours(scenario, pd.DatetimeIndex(flow_table.index))
    n_hours = len(hours)
    rows = len(flow_table)
    names: list[tuple[str, str]] = []
    loads: list[np.ndarray] = []
    greens: list[np.ndarray] = []
    for u in scenario.users:
        load = flow_table[flows.user_load(u.id)].to_numpy(dtype=float)
        green = flow_table[flows.user_green(u.id)].to_numpy(dtype=float)
        names.append((u.id, ""))
        loads.append(_hourly(codes, n_hours, load))
        greens.append(_hourly(codes, n_hours, green))
        lines = [m for m in scenario.meters if m.role == "line_submeter" and m.measures == u.id]
        if lines:
            line_load = {m.production_line or m.id: np.zeros(rows) for m in lines}
            for m in lines:
                line_load[m.production_line or m.id] += np.maximum(arrays.by_meter[m.id], 0.0)
            total = np.sum(list(line_load.values()), axis=0)
            for name, values in sorted(line_load.items()):
                share = np.divide(values, total, out=np.zeros(rows), where=total > 0)
                names.append((u.id, name))
                loads.append(_hourly(codes, n_hours, values))
                greens.append(_hourly(codes, n_hours, green * share))
    k = len(names)
    return pd.DataFrame({
        HOUR_START: pd.to_datetime(np.tile(hours.tz_convert("UTC").as_unit("s").asi8, k),
                                   unit="s", utc=True).tz_convert(hours.tz),
        "user_id": _repeat_text([n[0] for n in names], n_hours),
        "production_line": _repeat_text([n[1] for n in names], n_hours),
        MATCHED_LOAD_KWH: np.concatenate(loads) if loads else np.zeros(0),
        MATCHED_GREEN_KWH: np.concatenate(greens) if greens else np.zeros(0)})


def hourly_consumption_wh(matched: pd.DataFrame) -> pd.DataFrame:
    """Users' metered consumption per hour in whole Wh, to register in the certificate registry.

    ``matched`` is :func:`hourly_matched` output; returns ``beneficiary``, ``hour_start`` and
    ``wh`` (:func:`greenlink.units.kwh_to_wh` of the hour's load, the rule of issuance and
    claims).
    """
    whole = matched[matched["production_line"] == ""]
    return pd.DataFrame({"beneficiary": whole["user_id"].to_numpy(),
                         HOUR_START: whole[HOUR_START].to_numpy(),
                         "wh": kwh_to_wh(whole[MATCHED_LOAD_KWH].to_numpy(dtype=float))})


def hourly_generation_wh(scenario: Scenario, arrays: MeteredArrays) -> pd.DataFrame:
    """Metered generation per plant and hour for certificate issuance.

    Columns ``device_id``, ``hour_start`` (start of the scenario's local clock hour as a UTC
    instant), ``energy_wh`` (whole Wh, :func:`greenlink.units.kwh_to_wh`: rounded down, as
    EnergyTag requires, by the rule every claim uses), ``complete`` (every reading of the hour
    present and none filled).
    """
    codes, hours = _local_hours(scenario, arrays.index)
    n_hours = len(hours)
    starts = hours.tz_convert("UTC")
    parts: list[pd.DataFrame] = []
    for pid in _plant_ids(scenario):
        meters = [m for m in scenario.meters if m.role == "generator" and m.measures == pid]
        if not meters:
            continue
        energy = np.sum([np.maximum(arrays.by_meter[m.id], 0.0) for m in meters], axis=0)
        ok = np.all([arrays.present[m.id] & ~arrays.filled[m.id] for m in meters], axis=0)
        bad = _hourly(codes, n_hours, (~ok).astype(float))
        parts.append(pd.DataFrame({"device_id": pid, HOUR_START: starts,
                                   "energy_wh": kwh_to_wh(_hourly(codes, n_hours, energy)),
                                   "complete": bad == 0}))
    if not parts:
        return pd.DataFrame({"device_id": pd.Series(dtype=object),
                             HOUR_START: pd.Series(dtype="datetime64[ns, UTC]"),
                             "energy_wh": pd.Series(dtype=np.int64),
                             "complete": pd.Series(dtype=bool)})
    return pd.concat(parts, ignore_index=True)
