"""Ingest: read meter files, validate them, store them, report (``greenlink ingest``).

One call is one transaction on the store: either every file is stored or none is. Every file
passes :func:`greenlink.metering.guard.guard_readings` before anything is written: a file with a
reading that is not finite, above what its meter can measure, or outside the scenario year is
refused whole.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from greenlink import flows, jsonio
from greenlink.errors import InputError, Problem
from greenlink.metering.actuals import MeteredArrays, metered_arrays
from greenlink.metering.guard import guard_readings, meter_limits
from greenlink.metering.readfile import (
    DEFAULT_MAPPING,
    ColumnMapping,
    FileReadings,
    Layout,
    read_meter_file,
)
from greenlink.metering.store import Batch, WriteResult, open_store, write_batches
from greenlink.metering.validate import (
    ValidationParams,
    balance_issues,
    check_readings,
    summarise_issues,
)
from greenlink.scenario.meters import Meter
from greenlink.scenario.model import Scenario
from greenlink.tablefile import Decimal


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did and found."""

    files: list[WriteResult]
    names: list[str]
    readings: int
    issues: pd.DataFrame  # meter_id, interval_start (park zone), check, energy_kwh, detail
    per_meter: pd.DataFrame  # index meter_id; readings and one column per check
    arrays: MeteredArrays | None = None  # the whole store summed per scenario interval
    read_as: tuple[str, ...] = ()  # per file: format and detected encoding ("CSV, GBK …")

    def to_json(self) -> dict[str, object]:
        return {
            "files": [{"name": n, "sha256": r.file_sha, "already_stored": r.already_stored,
                       "inserted": r.inserted, "superseded": r.superseded,
                       "unchanged": r.unchanged,
                       **({"read_as": self.read_as[i]} if i < len(self.read_as) else {})}
                      for i, (n, r) in enumerate(zip(self.names, self.files, strict=True))],
            "readings": self.readings,
            "per_meter": {str(k): {c: int(v) for c, v in row.items()}
                          for k, row in self.per_meter.iterrows()},
            "issues": [{"meter_id": m, flows.INTERVAL_START: t.isoformat(), "check": c,
                        "energy_kwh": None if np.isnan(e) else e, "detail": d}
                       for m, t, c, e, d in zip(
                           self.issues["meter_id"].astype(str).tolist(),
                           pd.DatetimeIndex(self.issues[flows.INTERVAL_START]),
                           self.issues["check"].astype(str).tolist(),
                           self.issues["energy_kwh"].astype(float).tolist(),
                           self.issues["detail"].astype(str).tolist(), strict=True)],
        }

    def write(self, path: Path) -> None:
        """JSON report (``.json``) or the issues as CSV (any other suffix), written atomically."""
        tmp = path.with_name(path.name + ".tmp")
        if path.suffix == ".json":
            tmp.write_text(jsonio.dumps(self.to_json(), indent=1))
        else:
            self.issues.to_csv(tmp, index=False)
        tmp.replace(path)


def _overlaps(files: list[FileReadings]) -> None:
    """Two files of one ingest must not give different values for one meter and interval."""
    if len(files) < 2:
        return
    seen: dict[str, int] = {}
    for f in files:
        for meter_id in {str(x) for x in pd.unique(f.readings["meter_id"])}:
            seen[meter_id] = seen.get(meter_id, 0) + 1
    shared = [m for m, n in seen.items() if n > 1]
    if not shared:
        return
    parts = [f.readings.assign(file=i)[["meter_id", "ts_s", "energy_kwh", "file"]]
             for i, f in enumerate(files)]
    parts = [p[p["meter_id"].isin(shared)] for p in parts]
    both = pd.concat(parts, ignore_index=True)
    both["meter_id"] = both["meter_id"].astype(str)
    both = both.sort_values(["meter_id", "ts_s", "file"], kind="stable", ignore_index=True)
    m = both["meter_id"].to_numpy()
    t = both["ts_s"].to_numpy()
    e = both["energy_kwh"].to_numpy()
    fi = both["file"].to_numpy()
    clash = np.flatnonzero((m[1:] == m[:-1]) & (t[1:] == t[:-1]) & (fi[1:] != fi[:-1])
                           & ~np.isclose(e[1:], e[:-1], rtol=0, atol=1e-9))
    if clash.size:
        i = int(clash[0]) + 1
        when = pd.Timestamp(int(t[i]), unit="s", tz="UTC").isoformat()
        raise InputError(Problem(
            f"files {files[fi[i - 1]].path.name} and {files[fi[i]].path.name} give different "
            f"values for meter {m[i]!r} at {when} ({clash.size} clash(es))",
            file=str(files[fi[i]].path),
            expected="overlapping corrected files ingested one after the other (the later "
            "supersedes), not together"))


def _balance(scenario: Scenario, arrays: MeteredArrays, params: ValidationParams
             ) -> pd.DataFrame:
    roles = {m.role for m in scenario.meters}
    if not ({"grid_import", "grid_export"} <= roles and "generator" in roles
            and ({"user_load", "line_submeter"} & roles)):
        return pd.DataFrame(columns=["meter_id", "ts_s", "check", "energy_kwh", "detail"])
    complete = np.all([arrays.present[m.id] for m in scenario.meters], axis=0)
    supply = np.zeros(len(arrays.index))
    use = np.zeros(len(arrays.index))
    users_with_whole = {m.measures for m in scenario.meters if m.role == "user_load"}
    for m in scenario.meters:
        e = arrays.by_meter[m.id]
        if m.role in ("generator", "battery_discharge", "grid_import"):
            supply += e
        elif m.role in ("battery_charge", "grid_export", "user_load") or (
                m.role == "line_submeter" and m.measures not in users_with_whole):
            use += e
    ts = arrays.index.tz_convert("UTC").as_unit("s").asi8
    return balance_issues(supply[complete], use[complete], ts[complete], params)


def ingest_files(scenario: Scenario, paths: Sequence[Path | str], store: Path | str, *,
                 mapping: ColumnMapping = DEFAULT_MAPPING, layout: Layout = "auto",
                 timezone: str | None = None, fill: bool = False,
                 params: ValidationParams | None = None,
                 before_commit: Callable[[], None] | None = None,
                 sheet: str | None = None, decimal: Decimal = ".") -> IngestReport:
    """Read, validate and store meter files; return the validation report.

    Parameters
    ----------
    timezone : zone of naive time stamps in the files (default: the park's)
    sheet : xlsx files: the worksheet (default: the first)
    decimal : ``","`` for files written with decimal commas
    fill : fill short gaps linearly (every filled interval is flagged ``filled``)
    """
    if not scenario.meters:
        raise InputError(Problem("the scenario has no [[meters]]",
                                 expected="[[meters]] tables naming each meter's id, role and "
                                 "unit (docs/metering.md)"))
    params = params or ValidationParams.defaults()
    meters: dict[str, Meter] = {m.id: m for m in scenario.meters}
    tz = timezone or scenario.site.timezone
    limits = meter_limits(scenario, params)
    read = []
    for p in paths:
        f = read_meter_file(p, meters, timezone=tz, mapping=mapping, layout=layout, sheet=sheet,
                            decimal=decimal)
        guard_readings(f.readings, limits, file=str(f.path), value_column=f.value_column)
        read.append(f)
    _overlaps(read)
    ratings = limits.rating_kw
    batches: list[Batch] = []
    issue_parts: list[pd.DataFrame] = []
    counts: list[pd.Series] = []
    for f in read:
        clean, issues = check_readings(f.readings, meters, ratings, params, fill=fill)
        batches.append(Batch(f.sha256, f.path.name, clean))
        issue_parts.append(issues)
        if len(f.dst_anomalies):
            issue_parts.append(pd.DataFrame({
                "meter_id": f.dst_anomalies["meter_id"], "ts_s": np.int64(0),
                "check": "dst_anomaly", "energy_kwh": np.nan,
                "detail": [f"{f.path.name} row {r}: {d}" for r, d in
                           zip(f.dst_anomalies["row"], f.dst_anomalies["detail"],
                               strict=True)]}))
        counts.append(f.readings["meter_id"].value_counts().rename(index=str))
    with open_store(store) as con:
        results = write_batches(con, batches, before_commit=before_commit)
        arrays = metered_arrays(scenario, con)
    issue_parts.append(_balance(scenario, arrays, params))
    issues = pd.concat([p for p in issue_parts if len(p)], ignore_index=True) \
        if any(len(p) for p in issue_parts) else pd.DataFrame(
            columns=["meter_id", "ts_s", "check", "energy_kwh", "detail"])
    per_meter = summarise_issues(issues, pd.concat(counts).groupby(level=0).sum()
                                 if counts else pd.Series(dtype=int))
    issues.insert(1, flows.INTERVAL_START, pd.to_datetime(issues["ts_s"].astype("int64"),
                                                          unit="s", utc=True).dt.tz_convert(tz))
    issues = issues.drop(columns="ts_s")
    return IngestReport(results, [f.path.name for f in read],
                        int(sum(len(f.readings) for f in read)), issues, per_meter, arrays,
                        tuple(f.read_as for f in read))
