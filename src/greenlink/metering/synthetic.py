"""Synthetic meter files from simulated flows (for the example park, tests and benchmarks).

Each meter reads its simulated flow times ``1 + ε``, ε ~ N(0, ``noise``) per reading (meter
error and unmetered auxiliaries), rounded to the meter's resolution. Generator meters read what
was delivered: available generation minus the plant's share of curtailment. Production-line
sub-meters split their user's load with fixed shares plus noise.

Planted faults (``faults=True``; each names the meter and the interval it affects):

* ``gap`` — 8 readings (2 h) of ``load_cement_grinding`` missing on 2025-03-12 from 10:00;
* ``duplicate`` — one reading of ``load_steel_fasteners`` repeated (same value) on 04-02 09:00;
* ``negative`` — ``gen_rooftops`` reads −3 kWh on 05-05 03:00 (a reversed CT at night);
* ``stuck`` — ``load_data_centre`` repeats one value for 12 readings on 06-10 from 14:00.

Every planted fault is one that ingest reports and stores. A reading above what its meter can
measure (e.g. 1000× too much, Wh written as kWh) is not planted: ingest refuses the whole file
(:mod:`greenlink.metering.guard`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from greenlink import flows as fl
from greenlink.scenario.meters import KWH_PER_UNIT
from greenlink.scenario.model import Scenario


@dataclass(frozen=True)
class MeterSpec:
    """What to write for one meter: its flow column (or share of one) and its file."""

    id: str
    role: str
    measures: str
    unit: str
    column: str
    share: float = 1.0
    production_line: str | None = None


def example_meter_specs(scenario: Scenario) -> list[MeterSpec]:
    """Meters of a park: one per plant, battery direction, user, grid direction (+ 2 lines of
    the first user)."""
    specs: list[MeterSpec] = []
    for pid in [p.id for p in scenario.pv] + [w.id for w in scenario.wind]:
        specs.append(MeterSpec(f"gen_{pid}", "generator", pid,
                               "MWh" if pid == "ground" else "kWh",
                               fl.generator_generation(pid)))
    for b in scenario.batteries:
        specs.append(MeterSpec(f"{b.id}_charge", "battery_charge", b.id, "kWh",
                               fl.BATTERY_CHARGE_KWH))
        specs.append(MeterSpec(f"{b.id}_discharge", "battery_discharge", b.id, "kWh",
                               fl.BATTERY_DISCHARGE_KWH))
    for u in scenario.users:
        specs.append(MeterSpec(f"load_{u.id}", "user_load", u.id, "kWh", fl.user_load(u.id)))
    first = scenario.users[0].id
    specs.append(MeterSpec(f"line_{first}_1", "line_submeter", first, "kWh",
                           fl.user_load(first), 0.6, "line-1"))
    specs.append(MeterSpec(f"line_{first}_2", "line_submeter", first, "kWh",
                           fl.user_load(first), 0.4, "line-2"))
    specs.append(MeterSpec("grid_import", "grid_import", "grid", "kWh", fl.IMPORT_KWH))
    specs.append(MeterSpec("grid_export", "grid_export", "grid", "Wh", fl.EXPORT_KWH))
    return specs


def metered_values_kwh(flows: pd.DataFrame, specs: list[MeterSpec], *, seed: int,
                       noise: float = 0.002) -> dict[str, np.ndarray]:
    """True-ish readings in kWh per meter (delivered generation, noise applied)."""
    rng = np.random.default_rng(seed)
    gen_total = flows[fl.GENERATION_KWH].to_numpy()
    delivered = np.divide(gen_total - flows[fl.CURTAILED_KWH].to_numpy(), gen_total,
                          out=np.zeros(len(flows)), where=gen_total > 0)
    out: dict[str, np.ndarray] = {}
    for s in specs:
        base = flows[s.column].to_numpy(dtype=float) * s.share
        if s.role == "generator":
            base = base * delivered
        out[s.id] = np.maximum(base * (1 + rng.normal(0.0, noise, len(base))), 0.0)
    return out


def write_example_meter_files(scenario: Scenario, flows: pd.DataFrame, out_dir: Path, *,
                              seed: int = 2025, faults: bool = True) -> list[Path]:
    """Write the example's meter files; return their paths.

    * ``meters_<year>.parquet`` — long layout (timestamp in UTC, meter_id, value, unit),
      interval-beginning, every meter except the ground plant's;
    * ``ground_<year>.csv`` — wide layout, naive local time, interval-ending, MWh
      (as a plant operator's SCADA export would be).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    specs = example_meter_specs(scenario)
    values = metered_values_kwh(flows, specs, seed=seed)
    index = pd.DatetimeIndex(flows.index)
    year = scenario.time.year
    tz = scenario.site.timezone
    step = pd.Timedelta(minutes=scenario.time.interval_minutes)
    long_parts: list[pd.DataFrame] = []
    paths: list[Path] = []
    for s in specs:
        if s.id == "gen_ground":
            continue
        v = values[s.id] / KWH_PER_UNIT[s.unit]
        ts = index.tz_convert("UTC")
        frame = pd.DataFrame({"timestamp": ts, "meter_id": s.id, "value": np.round(v, 3),
                              "unit": s.unit})
        if faults:
            frame = _plant_faults(frame, s.id, tz, year)
        long_parts.append(frame)
    long = pd.concat(long_parts, ignore_index=True)
    p_long = out_dir / f"meters_{year}.parquet"
    long.to_parquet(p_long, index=False)
    paths.append(p_long)
    ground = next((s for s in specs if s.id == "gen_ground"), None)
    if ground is not None:
        ending = (index + step).tz_localize(None)
        wide = pd.DataFrame({"timestamp": ending.strftime("%Y-%m-%d %H:%M:%S"),
                             ground.id: np.round(values[ground.id] / KWH_PER_UNIT[ground.unit],
                                                 6)})
        p_wide = out_dir / f"ground_{year}.csv"
        wide.to_csv(p_wide, index=False)
        paths.append(p_wide)
    return paths


def _plant_faults(frame: pd.DataFrame, meter_id: str, tz: str, year: int) -> pd.DataFrame:
    def at(text: str) -> pd.Timestamp:
        return pd.Timestamp(f"{year}-{text}", tz=tz).tz_convert("UTC")

    ts = frame["timestamp"]
    if meter_id == "load_cement_grinding":
        start = at("03-12 10:00")
        frame = frame[~((ts >= start) & (ts < start + pd.Timedelta(hours=2)))]
    elif meter_id == "load_steel_fasteners":
        frame = pd.concat([frame, frame[ts == at("04-02 09:00")]], ignore_index=True)
    elif meter_id == "gen_rooftops":
        frame = frame.copy()
        frame.loc[ts == at("05-05 03:00"), "value"] = -3.0
    elif meter_id == "load_data_centre":
        frame = frame.copy()
        start = at("06-10 14:00")
        sel = (ts >= start) & (ts < start + pd.Timedelta(hours=3))
        frame.loc[sel, "value"] = frame.loc[sel, "value"].iloc[0]
    return frame.reset_index(drop=True)


def meters_toml(scenario: Scenario) -> str:
    """``[[meters]]`` tables for the specs of :func:`example_meter_specs`."""
    lines: list[str] = []
    for s in example_meter_specs(scenario):
        lines.append("[[meters]]")
        lines.append(f'id = "{s.id}"')
        lines.append(f'role = "{s.role}"')
        lines.append(f'measures = "{s.measures}"')
        lines.append(f'unit = "{s.unit}"')
        lines.append(f"interval_minutes = {scenario.time.interval_minutes}")
        if s.id == "gen_ground":
            lines.append('label = "interval_ending"')
        if s.production_line:
            lines.append(f'production_line = "{s.production_line}"')
        lines.append("")
    return "\n".join(lines)
