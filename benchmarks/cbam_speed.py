"""CBAM speed: a year of hourly data, 10,000 batches and 1,000 shipments through footprint and
liability (2026–2034). Floor: under 2 s. Prints the time against a simple baseline measured in
the same run (a per-batch loop with boolean masks over the hourly series, the obvious way).

Checks (exit 1 when one fails): one energy row per batch, each batch's electricity equal to a
plain loop over the hours it overlaps (fractions of hours included, every 10th batch), one
liability row per shipment and year.

Run: ``.venv/bin/python benchmarks/cbam_speed.py [--smoke]``; ``--smoke``: 500 batches and 50
shipments, one timed run (seconds). Last line: ``ratio=<baseline / greenlink> greenlink_s=<…>
baseline_s=<…> floor_s=2.0``.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

from greenlink.carbon.batches import (
    batch_energy,
    batch_footprints,
    check_batches,
    check_shipments,
    shipment_footprints,
)
from greenlink.carbon.cbam_data import phase_in_years
from greenlink.carbon.embedded import installation_see
from greenlink.carbon.emission_factor_routes import GridFactor, decide_factor
from greenlink.carbon.liability import annual_summary, price_assumptions, shipment_liability
from greenlink.carbon.synthetic import synthetic_batches, synthetic_shipments
from greenlink.scenario.installations import Installation

YEARS = phase_in_years()
TZ = "Asia/Shanghai"
FLOOR_S = 2.0
SHARE = {"l1": 0.5, "l2": 0.4}


def check(ok: bool, what: str) -> None:
    """Stop with exit status 1 when a correctness check fails."""
    if not ok:
        print(f"CHECK FAILED: {what}", file=sys.stderr)
        raise SystemExit(1)


def _inputs(per_process: int = 5000, n_ships: int = 1000
            ) -> tuple[pd.DataFrame, Installation, pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(7)
    index = pd.date_range("2025-01-01", periods=8760, freq="1h", tz=TZ, name="interval_start")
    load = rng.uniform(2000, 4000, len(index))
    green = load * np.clip(np.sin(np.linspace(0, 365 * 2 * np.pi, len(index))), 0, 1)
    flows = pd.DataFrame({"plant.load_kwh": load, "plant.green_kwh": green}, index=index)
    inst = Installation.model_validate({
        "id": "bench", "user": "plant", "grid_factor": {"ef_t_per_mwh": 0.58, "source": "b"},
        "processes": [
            {"id": "l1", "cn_code": "25232900", "activity_level_t": 300000,
             "electricity_share": 0.5},
            {"id": "l2", "cn_code": "73181588", "activity_level_t": 20000,
             "electricity_share": 0.4}]})
    raw = synthetic_batches({"l1": ("CEM", 35.0), "l2": ("BOLT", 2.5)},
                            "2025-01-01T00:00", "2025-12-31T23:00", TZ, batch_hours=1.75)
    raw = raw.groupby("process").head(per_process).reset_index(drop=True)
    ships = synthetic_shipments(raw, [f"c{i}" for i in range(40)],
                                {"CEM": "25232900", "BOLT": "73181588"}, 10, 2026, "imp")
    return flows, inst, raw, ships.iloc[:n_ships].reset_index(drop=True)


def greenlink_run(flows: pd.DataFrame, inst: Installation, raw: pd.DataFrame,
                  ships: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    grid = GridFactor(0.58, "bench")
    share = SHARE
    total = flows["plant.load_kwh"].sum() / 1000
    el = {p: s * total for p, s in share.items()}
    decisions = {p: decide_factor(el[p], 0.0, grid) for p in share}
    see = installation_see(inst, el, decisions)
    batches = check_batches(raw, TZ)
    energy = batch_energy(batches, flows, "plant", share)
    table = batch_footprints(energy, see, see, 0.58, 0.0)  # grid-only = with dc: no evidence
    shipments = shipment_footprints(check_shipments(ships, TZ), table)
    liab = shipment_liability(shipments, years=YEARS, prices=price_assumptions())
    summary = annual_summary(liab)
    return energy, liab, summary


def baseline_energy(flows: pd.DataFrame, raw: pd.DataFrame) -> np.ndarray:
    """The obvious loop: for each batch, mask the hours it overlaps and sum (whole hours)."""
    idx = flows.index
    load = flows["plant.load_kwh"].to_numpy()
    starts = pd.to_datetime(raw["start"])
    ends = pd.to_datetime(raw["end"])
    out = np.empty(len(raw))
    for i, (a, b) in enumerate(zip(starts, ends, strict=True)):
        mask = (idx >= a.floor("h")) & (idx < b)
        out[i] = load[mask].sum()
    return out


def reference_kwh(flows: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> float:
    """The user's load between two instants, hour by hour (fractions of hours pro rata)."""
    load = flows["plant.load_kwh"]
    total = 0.0
    for hour, kwh in load[(load.index < end) & (load.index + pd.Timedelta(hours=1) > start)
                          ].items():
        lo, hi = max(hour, start), min(hour + pd.Timedelta(hours=1), end)
        total += kwh * (hi - lo) / pd.Timedelta(hours=1)
    return total


def check_results(flows: pd.DataFrame, raw: pd.DataFrame, ships: pd.DataFrame,
                  energy: pd.DataFrame, liab: pd.DataFrame) -> None:
    check(len(energy) == len(raw), f"{len(energy)} energy rows for {len(raw)} batches")
    for i in range(0, len(energy), 10):
        row = energy.iloc[i]
        want = SHARE[row["process"]] * reference_kwh(flows, pd.Timestamp(row["start"]),
                                                     pd.Timestamp(row["end"])) / 1000
        got = float(row["electricity_mwh"])
        check(abs(got - want) <= 1e-9 * max(1.0, abs(want)),
              f"batch {row['batch_id']}: {got!r} MWh, the hour-by-hour loop {want!r}")
    check(len(liab) == len(ships) * len(YEARS),
          f"{len(liab)} liability rows for {len(ships)} shipments × {len(YEARS)} years")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="500 batches, 50 shipments, one timed run (seconds)")
    args = parser.parse_args()
    flows, inst, raw, ships = _inputs(250, 50) if args.smoke else _inputs()
    print(f"inputs: {len(flows)} hours, {len(raw)} batches, {len(ships)} shipments, "
          f"{len(YEARS)} years")
    energy, liab, _ = greenlink_run(flows, inst, raw, ships)  # warm caches (data files)
    check_results(flows, raw, ships, energy, liab)
    runs = []
    for _ in range(1 if args.smoke else 3):
        t = time.perf_counter()
        greenlink_run(flows, inst, raw, ships)
        runs.append(time.perf_counter() - t)
    best = min(runs)
    t = time.perf_counter()
    baseline_energy(flows, raw)
    base = time.perf_counter() - t
    print(f"greenlink footprint + liability 2026–2034: {best:.3f} s (best of {len(runs)})")
    print(f"baseline per-batch mask loop (batch energy only): {base:.3f} s")
    print(f"ratio baseline / greenlink: {base / best:.1f}x")
    print(f"floor {FLOOR_S:.1f} s: {'PASS' if best < FLOOR_S else 'FAIL'}")
    print(f"ratio={base / best:.2f} greenlink_s={best:.4f} baseline_s={base:.4f} "
          f"floor_s={FLOOR_S}")


if __name__ == "__main__":
    main()
