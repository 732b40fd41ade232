"""Validation of meter readings, per meter and interval.

Checks (each flagged interval becomes one row of the report, ``check`` column):

``duplicate``
    the same meter and interval more than once in what was ingested together; the last reading
    wins (in file order) and every duplicate is reported with both values.
``gap``
    a missing interval between a meter's first and last reading.
``negative``
    a reading below zero (meters here measure one direction each).
``above_rating``
    a reading above ``rating_kw · Δt · margin`` (Δt in hours; the margin is in
    ``data/metering/defaults.toml``) — often unit confusion (Wh read as kWh). Ingest never gets
    here with one: :mod:`greenlink.metering.guard` refuses such a file before it is checked.
``stuck``
    the same non-zero reading for at least ``stuck_min_intervals`` consecutive intervals.
``dst_anomaly``
    a naive local time stamp that does not exist or is ambiguous in the file's zone (dropped).
``filled``
    an interval filled by linear interpolation (only when filling was requested).
``balance``
    park boundary closure: ``|supply − use| > rel · max(supply, use) + abs`` where
    supply = generation + battery discharge + grid import and
    use = user loads + battery charge + grid export, per scenario interval.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from greenlink.scenario.meters import Meter
from greenlink.tomlfile import load_toml


class _ValidationTable(BaseModel):
    """``[validation]`` of ``data/metering/defaults.toml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    balance_relative_tolerance: float = Field(ge=0)
    balance_absolute_tolerance_kwh: float = Field(ge=0)
    stuck_min_intervals: int = Field(ge=1)
    rating_margin: float = Field(gt=0)
    max_fill_intervals: int = Field(ge=0)


class _DefaultsFile(BaseModel):
    """``data/metering/defaults.toml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    validation: _ValidationTable


def _defaults_path() -> Path:
    return Path(str(resources.files("greenlink") / "data" / "metering" / "defaults.toml"))


@dataclass(frozen=True)
class ValidationParams:
    """Parameters of the checks (defaults from ``data/metering/defaults.toml``)."""

    balance_relative_tolerance: float
    balance_absolute_tolerance_kwh: float
    stuck_min_intervals: int
    rating_margin: float
    max_fill_intervals: int

    @classmethod
    def defaults(cls, **overrides: float | int | None) -> ValidationParams:
        values = load_toml(_defaults_path(), _DefaultsFile, kind="metering defaults file",
                           expected="the [validation] table of data/metering/defaults.toml")
        params = cls(**values.validation.model_dump())
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(params, **given)  # type: ignore[arg-type]


ISSUE_COLUMNS = ["meter_id", "ts_s", "check", "energy_kwh", "detail"]


def interval_limit_kwh(rating_kw: float | np.ndarray, interval_minutes: int | np.ndarray,
                       margin: float) -> float | np.ndarray:
    """The most energy a meter of ``rating_kw`` can read in one interval: rating × Δt × margin
    [kWh]."""
    return rating_kw * (np.asarray(interval_minutes) / 60.0) * margin


def _issues(meter_ids: np.ndarray, ts_s: np.ndarray, check: str, energy: np.ndarray,
            detail: list[str] | str) -> pd.DataFrame:
    details = detail if isinstance(detail, list) else [detail] * len(ts_s)
    return pd.DataFrame({"meter_id": np.asarray(meter_ids, dtype=object),
                         "ts_s": np.asarray(ts_s, dtype=np.int64), "check": check,
                         "energy_kwh": np.asarray(energy, dtype=float), "detail": details})


def _runs(values: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start index and length of runs where ``same[i]`` says value i equals value i-1."""
    starts = np.flatnonzero(~same)
    lengths = np.diff(np.append(starts, len(values)))
    return starts, lengths


def check_readings(readings: pd.DataFrame, meters: dict[str, Meter],
                   ratings_kw: dict[str, float], params: ValidationParams, *,
                   fill: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate readings; return (clean readings, issues).

    Parameters
    ----------
    readings : columns meter_id, ts_s (int64 s, UTC interval start), energy_kwh
    ratings_kw : meter id → rating in kW (meters without one are not checked against it)
    fill : fill gaps of at most ``params.max_fill_intervals`` linearly (flagged ``filled``)

    Returns
    -------
    clean : meter_id, ts_s, energy_kwh, filled (bool), one row per meter and interval, sorted
    issues : meter_id, ts_s, check, energy_kwh, detail
    """
    frame = readings[["meter_id", "ts_s", "energy_kwh"]]
    code, uniques = pd.factorize(frame["meter_id"], sort=True)
    codes_u = np.asarray(uniques, dtype=object).astype(str)
    ts = frame["ts_s"].to_numpy(dtype=np.int64)
    energy = frame["energy_kwh"].to_numpy(dtype=float)
    in_order = bool(np.all((code[1:] > code[:-1])
                           | ((code[1:] == code[:-1]) & (ts[1:] >= ts[:-1]))))
    if not in_order:  # stable: file order within an interval
        order = np.lexsort((np.arange(len(ts)), ts, code))
        code, ts, energy = code[order], ts[order], energy[order]
    issues: list[pd.DataFrame] = []

    same_key = np.zeros(len(ts), dtype=bool)
    same_key[1:] = (code[1:] == code[:-1]) & (ts[1:] == ts[:-1])
    if same_key.any():
        dup = np.flatnonzero(same_key)
        detail = [f"{energy[i - 1]:g} then {energy[i]:g} kWh; kept the last" for i in dup]
        issues.append(_issues(codes_u[code[dup]], ts[dup], "duplicate", energy[dup], detail))
        keep = np.append(~same_key[1:], True)  # last of each run of equal keys
        code, ts, energy = code[keep], ts[keep], energy[keep]

    step = np.array([meters[m].interval_minutes * 60 for m in codes_u], dtype=np.int64)[code]
    new_meter = np.ones(len(ts), dtype=bool)
    new_meter[1:] = code[1:] != code[:-1]
    missing = np.zeros(len(ts), dtype=np.int64)
    missing[1:] = np.where(new_meter[1:], 0, (ts[1:] - ts[:-1]) // step[1:] - 1)
    gap_at = np.flatnonzero(missing > 0)
    filled_parts: list[pd.DataFrame] = []
    for i in gap_at:
        n = int(missing[i])
        gap_ts = ts[i - 1] + step[i] * np.arange(1, n + 1)
        meter = codes_u[code[i]]
        if fill and n <= params.max_fill_intervals:
            frac = np.arange(1, n + 1) / (n + 1)
            values = energy[i - 1] + (energy[i] - energy[i - 1]) * frac
            filled_parts.append(pd.DataFrame({"meter_id": meter, "ts_s": gap_ts,
                                              "energy_kwh": values, "filled": True}))
            issues.append(_issues(np.full(n, meter, dtype=object), gap_ts, "filled", values,
                                  f"linear fill of a {n}-interval gap"))
        else:
            issues.append(_issues(np.full(n, meter, dtype=object), gap_ts, "gap",
                                  np.full(n, np.nan), f"{n} missing interval(s)"))

    neg = np.flatnonzero(energy < 0)
    if neg.size:
        issues.append(_issues(codes_u[code[neg]], ts[neg], "negative", energy[neg],
                              "negative reading"))
    rating = np.array([ratings_kw.get(m, np.inf) for m in codes_u])[code]
    limit = np.asarray(interval_limit_kwh(rating, step // 60, params.rating_margin))
    high = np.flatnonzero(energy > limit)
    if high.size:
        detail = [f"above {limit[i]:g} kWh (rating {rating[i]:g} kW); unit confusion?"
                  for i in high]
        issues.append(_issues(codes_u[code[high]], ts[high], "above_rating", energy[high],
                              detail))
    same_val = np.zeros(len(ts), dtype=bool)
    same_val[1:] = (~new_meter[1:]) & (missing[1:] == 0) & (energy[1:] == energy[:-1]) \
        & (energy[1:] != 0)
    starts, lengths = (_runs(energy, same_val)
                       if same_val.any() or params.stuck_min_intervals <= 1
                       else (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)))
    stuck_runs = np.flatnonzero(lengths >= params.stuck_min_intervals)
    for r in stuck_runs:
        sl = slice(starts[r], starts[r] + lengths[r])
        issues.append(_issues(codes_u[code[sl]], ts[sl], "stuck", energy[sl],
                              f"{lengths[r]} equal readings in a row"))

    clean = pd.DataFrame({"meter_id": pd.Categorical.from_codes(
                              code, categories=pd.Index(codes_u, dtype=object)),
                          "ts_s": ts, "energy_kwh": energy,
                          "filled": np.zeros(len(ts), dtype=bool)}, copy=False)
    if filled_parts:
        clean["meter_id"] = clean["meter_id"].astype(str)
        clean = pd.concat([clean, *filled_parts], ignore_index=True).sort_values(
            ["meter_id", "ts_s"], kind="stable", ignore_index=True)
    report = (pd.concat(issues, ignore_index=True) if issues
              else pd.DataFrame({c: pd.Series(dtype=t) for c, t in
                                 zip(ISSUE_COLUMNS, [object, np.int64, object, float, object],
                                     strict=True)}))
    return clean, report


def balance_issues(supply_kwh: np.ndarray, use_kwh: np.ndarray, ts_s: np.ndarray,
                   params: ValidationParams) -> pd.DataFrame:
    """Flag intervals whose park boundary balance does not close within the tolerance.

    ``|supply − use| > rel · max(supply, use) + abs`` (kWh per scenario interval).
    """
    residual = supply_kwh - use_kwh
    allowed = (params.balance_relative_tolerance * np.maximum(supply_kwh, use_kwh)
               + params.balance_absolute_tolerance_kwh)
    bad = np.flatnonzero(np.abs(residual) > allowed)
    detail = [f"supply {supply_kwh[i]:.3f} kWh vs use {use_kwh[i]:.3f} kWh "
              f"(allowed ±{allowed[i]:.3f})" for i in bad]
    return _issues(np.full(bad.size, "park", dtype=object), ts_s[bad], "balance",
                   residual[bad], detail)


def summarise_issues(issues: pd.DataFrame, readings_per_meter: pd.Series) -> pd.DataFrame:
    """One row per meter: readings and the count of each check."""
    counts = (issues.groupby(["meter_id", "check"]).size().unstack(fill_value=0)
              if len(issues) else pd.DataFrame())
    table = pd.DataFrame({"readings": readings_per_meter})
    table = table.join(counts, how="outer").fillna(0).astype(int)
    table.index.name = "meter_id"
    return table
