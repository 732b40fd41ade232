"""Production batches and shipments: CBAM period values, and batch-resolved product footprints.

**CBAM figures are period values.** IR 2025/2547 attributes emissions per production process over
the reporting period (Art 9(2): a source or subset of sources "for a given production process"),
not per consignment or customer. So every batch, and every shipment, of a process carries the
process's SEE over the period (:func:`greenlink.carbon.embedded.installation_see`): the same for
every shipment of that process and period, whatever hours its batches ran in. Moving batches
between sunny and dark hours changes no CBAM number.

**Batch-resolved footprints are product footprints, labelled as such.** A batch (line = process
id, SKU, start, end, tonnes) also takes the electricity its line drew in the intervals it ran in:
the user's metered consumption ``<user>.load_kwh`` × the line's share, and the green part from
``<user>.green_kwh`` × the same share (× the process's share of its contract, when the contract
caps the claim). Partial intervals count pro rata to the time overlap. The ``footprint_*``
columns are the buyer-facing product footprint of the batch from those hours, under the regime
that allows hour-resolved electricity (``ghg-scope2-hourly``, data/regimes); they never enter a
CBAM figure.
A shipment (customer, SKU, tonnes, batches) takes the tonne-weighted average of its batches.

All tables are tidy pandas DataFrames; the energy integral uses cumulative sums, so 10,000
batches over a year of 15-minute data cost a few milliseconds. The flows table comes in through
:func:`greenlink.flows.normalise` (index or column, any zone: batches and intervals are compared
as instants).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.carbon.embedded import GoodSee, round_see
from greenlink.errors import InputError, Problem
from greenlink.tablefile import Decimal, TableSource, parse_datetimes, read_table

BATCH_COLUMNS = ("batch_id", "process", "sku", "start", "end", "tonnes")
SHIPMENT_COLUMNS = ("shipment_id", "customer", "sku", "cn_code", "tonnes", "batches", "date")


def _require(table: pd.DataFrame, columns: tuple[str, ...], file: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(Problem(f"missing columns {missing}", file=file,
                                 expected="columns " + ", ".join(columns)))


def read_batch_file(path: str | Path, tz: str, *, sheet: str | None = None,
                    decimal: Decimal = ".") -> tuple[pd.DataFrame, TableSource]:
    """:func:`read_batches`, and how the file was read (format, detected encoding, sheet)."""
    read = read_table(path, sheet=sheet, decimal=decimal)
    return check_batches(read.frame, tz, str(path)), read.source


def read_batches(path: str | Path, tz: str, *, sheet: str | None = None,
                 decimal: Decimal = ".") -> pd.DataFrame:
    """Read and check a batches table (CSV in UTF-8/GBK/GB18030, xlsx or Parquet; columns
    ``batch_id, process, sku, start, end, tonnes``).

    Naive timestamps are taken in ``tz``. Raises :class:`InputError` for a negative or missing
    tonnage, an end not after its start, or duplicate ids.
    """
    return read_batch_file(path, tz, sheet=sheet, decimal=decimal)[0]


def _to_time(values: pd.Series, tz: str, file: str, column: str) -> pd.Series:
    try:
        times = pd.Series(parse_datetimes(values.astype(str)), index=values.index) \
            if not pd.api.types.is_datetime64_any_dtype(values) else values
    except (ValueError, TypeError) as exc:
        raise InputError(Problem(f"unreadable timestamps in {column}: {exc}", file=file,
                                 location=column, expected="ISO 8601 date-times")) from None
    if times.dt.tz is None:
        return times.dt.tz_localize(tz)
    return times.dt.tz_convert(tz)


def check_batches(table: pd.DataFrame, tz: str, file: str = "batches") -> pd.DataFrame:
    """Validate a batches table and return it with tz-aware ``start``/``end``."""
    _require(table, BATCH_COLUMNS, file)
    out = table.loc[:, list(BATCH_COLUMNS)].copy()
    out["batch_id"] = out["batch_id"].astype(str)
    out["process"] = out["process"].astype(str)
    out["tonnes"] = _positive_tonnes(table, out["batch_id"], "batch", file)
    out["start"] = _to_time(out["start"], tz, file, "start")
    out["end"] = _to_time(out["end"], tz, file, "end")
    wrong = out["end"] <= out["start"]
    if wrong.any():
        i = int(np.flatnonzero(wrong.to_numpy())[0])
        raise InputError(Problem(f"batch {out['batch_id'].iat[i]} ends before it starts",
                                 file=file, location=f"row {i + 2}, end",
                                 expected="end after start"))
    dup = out["batch_id"].duplicated()
    if dup.any():
        raise InputError(Problem(f"duplicate batch id {out.loc[dup, 'batch_id'].iat[0]}",
                                 file=file, location="batch_id", expected="unique ids"))
    ordered = out.sort_values(["process", "start"])
    same = ordered["process"].eq(ordered["process"].shift())
    overlap = same & (ordered["start"] < ordered["end"].shift())
    if overlap.any():
        row = ordered[overlap].iloc[0]
        raise InputError(Problem(f"batch {row['batch_id']} overlaps the previous batch on line "
                                 f"{row['process']}", file=file, location="start",
                                 expected="batches on one line one after another"))
    return out


def batch_energy(batches: pd.DataFrame, table: pd.DataFrame, user: str,
                 line_share: Mapping[str, float], file: str = "batches") -> pd.DataFrame:
    """Electricity and green energy of each batch from the hourly flows.

    Parameters
    ----------
    batches : DataFrame
        From :func:`check_batches`.
    table : DataFrame
        The flows table (docs/formats.md) with ``interval_start`` (index or column, any zone),
        ``<user>.load_kwh`` and ``<user>.green_kwh``; normalised by
        :func:`greenlink.flows.normalise`.
    user : str
        The installation's user.
    line_share : mapping process id → share of the user's consumption drawn by that line.

    Returns
    -------
    DataFrame
        The batch columns plus ``electricity_mwh``, ``green_mwh``, ``green_share``.

    Notes
    -----
    With cumulative energy ``C(k) = Σ_{j<k} e_j`` and position ``x = (t − t0)/Δt``, the energy
    between ``a`` and ``b`` is ``C(b) − C(a)`` with ``C(x) = C(⌊x⌋) + (x − ⌊x⌋) e_⌊x⌋``.

    Raises
    ------
    InputError
        A batch outside the metered (simulated) hours, or a line with no share.
    """
    load_col, green_col = flows.user_load(user), flows.user_green(user)
    for col in (load_col, green_col):
        if col not in table.columns:
            raise InputError(Problem(f"flows table has no column {col}", location=col,
                                     expected="per-user load and green columns (formats.md)"))
    table = flows.normalise(table)
    starts = flows.time_index(table)
    t0 = starts[0]
    dt = starts[1] - starts[0] if len(starts) > 1 else pd.Timedelta(hours=1)
    t_end = starts[-1] + dt
    outside = (batches["start"] < t0) | (batches["end"] > t_end)
    if outside.any():
        row = batches[outside].iloc[0]
        raise InputError(Problem(f"batch {row['batch_id']} ({row['start']} – {row['end']}) lies "
                                 f"outside the metered hours {t0} – {t_end}", file=file,
                                 location=f"batch {row['batch_id']}",
                                 expected="batches inside the period of the flows table"))
    unknown = sorted(set(batches["process"]) - set(line_share))
    if unknown:
        raise InputError(Problem(f"batches name unknown lines {unknown}", file=file,
                                 location="process",
                                 expected="process ids of the installation: "
                                          + ", ".join(sorted(line_share))))
    load = table[load_col].to_numpy(dtype=float)
    green = table[green_col].to_numpy(dtype=float)
    step_ns = float(dt.value)
    base = t0.value

    def integral(series: np.ndarray, a_ns: np.ndarray, b_ns: np.ndarray) -> np.ndarray:
        cum = np.concatenate(([0.0], np.cumsum(series)))
        padded = np.concatenate((series, [0.0]))

        def at(t: np.ndarray) -> np.ndarray:
            x = (t - base) / step_ns
            k = np.floor(x).astype(np.int64)
            k = np.clip(k, 0, len(series))
            return cum[k] + (x - k) * padded[k]
        return at(b_ns) - at(a_ns)

    a = pd.DatetimeIndex(batches["start"]).as_unit("ns").asi8.astype(float)
    b = pd.DatetimeIndex(batches["end"]).as_unit("ns").asi8.astype(float)
    share = batches["process"].map(line_share).to_numpy(dtype=float)
    out = batches.copy()
    out["electricity_mwh"] = integral(load, a, b) * share / 1000.0
    out["green_mwh"] = np.minimum(integral(green, a, b) * share / 1000.0, out["electricity_mwh"])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["green_share"] = np.where(out["electricity_mwh"] > 0,
                                      out["green_mwh"] / out["electricity_mwh"], 0.0)
    return out


#: The regime under which the batch-resolved ``footprint_*`` columns are a product footprint.
BATCH_FOOTPRINT_REGIME = "ghg-scope2-hourly"


def batch_footprints(energy: pd.DataFrame, see: Mapping[str, GoodSee],
                     see_grid: Mapping[str, GoodSee], grid_ef_t_per_mwh: float,
                     source_ef_t_per_mwh: Mapping[str, float] | float = 0.0,
                     claimable: Mapping[str, float] | None = None,
                     benchmark_a: Mapping[str, float] | None = None) -> pd.DataFrame:
    """CBAM period values of each batch's process, and the batch's own product footprint.

    Parameters
    ----------
    energy : DataFrame
        From :func:`batch_energy`.
    see, see_grid : mapping process id → GoodSee
        The period SEE with the direct connection (the route the evidence allows) and grid-only.
    grid_ef_t_per_mwh : float
        Grid factor for the batch footprint.
    source_ef_t_per_mwh : float or mapping process id → float
        Factor of the green electricity (the accepted evidence entry's; 0 for PV and wind).
    claimable : mapping process id → fraction, optional
        Share of the matched green energy the process may claim (its share of the contract).
    benchmark_a : mapping process id → t/t, optional
        Effective column-A benchmark per tonne (complex goods included).

    Returns
    -------
    DataFrame
        The energy columns plus, per batch: ``cn_code``, ``annex_ii``; the **CBAM period
        values** of its process ``see_direct_t_per_t``, ``see_indirect_t_per_t``,
        ``see_indirect_grid_t_per_t``, ``see_counted_grid_t_per_t``, ``see_counted_dc_t_per_t``
        (``benchmark_a_t_per_t``); and the **batch product footprint** ``footprint_grid_t_per_t``,
        ``footprint_dc_t_per_t`` (direct + the batch's own electricity + precursors; regime
        :data:`BATCH_FOOTPRINT_REGIME`), with ``electricity_mwh_per_t`` and ``green_share`` of
        the batch's hours.
    """
    t = energy["tonnes"].to_numpy(dtype=float)
    e = energy["electricity_mwh"].to_numpy(dtype=float)
    proc = energy["process"]
    lines = list(proc.unique())

    def col(table: Mapping[str, GoodSee], attr: str) -> np.ndarray:
        return proc.map({p: float(getattr(table[p], attr)) for p in lines}).to_numpy(dtype=float)

    ratio = proc.map({p: float((claimable or {}).get(p, 1.0)) for p in lines}).to_numpy(
        dtype=float)
    if isinstance(source_ef_t_per_mwh, Mapping):
        src = proc.map({p: float(source_ef_t_per_mwh.get(p, 0.0)) for p in lines}).to_numpy(
            dtype=float)
    else:
        src = np.full(len(energy), float(source_ef_t_per_mwh))
    g = energy["green_mwh"].to_numpy(dtype=float) * ratio
    see_dir = col(see, "see_direct_t_per_t")
    own_ind = col(see, "indirect_emissions_t") / col(see, "activity_t")
    prec_ind = col(see, "see_indirect_t_per_t") - own_ind
    out = energy.copy()
    out["green_mwh"] = g
    with np.errstate(invalid="ignore", divide="ignore"):
        out["green_share"] = np.where(e > 0, g / e, 0.0)
    out["cn_code"] = proc.map({p: see[p].cn_code for p in lines})
    out["annex_ii"] = col(see, "annex_ii").astype(bool)
    out["electricity_mwh_per_t"] = e / t
    out["see_direct_t_per_t"] = see_dir
    out["see_indirect_t_per_t"] = col(see, "see_indirect_t_per_t")
    out["see_indirect_grid_t_per_t"] = col(see_grid, "see_indirect_t_per_t")
    out["see_counted_grid_t_per_t"] = col(see_grid, "see_direct_t_per_t") + col(
        see_grid, "indirect_counted_t_per_t")
    out["see_counted_dc_t_per_t"] = see_dir + col(see, "indirect_counted_t_per_t")
    out["footprint_grid_t_per_t"] = see_dir + e * grid_ef_t_per_mwh / t + prec_ind
    out["footprint_dc_t_per_t"] = see_dir + (g * src + (e - g) * grid_ef_t_per_mwh) / t + prec_ind
    if benchmark_a is not None:
        out["benchmark_a_t_per_t"] = proc.map(benchmark_a).to_numpy(dtype=float)
    return out


def read_shipment_file(path: str | Path, tz: str, *, sheet: str | None = None,
                       decimal: Decimal = ".") -> tuple[pd.DataFrame, TableSource]:
    """:func:`read_shipments`, and how the file was read (format, detected encoding, sheet)."""
    read = read_table(path, sheet=sheet, decimal=decimal)
    return check_shipments(read.frame, tz, str(path)), read.source


def read_shipments(path: str | Path, tz: str, *, sheet: str | None = None,
                   decimal: Decimal = ".") -> pd.DataFrame:
    """Read and check a shipments table (``shipment_id, customer, sku, cn_code, tonnes,
    batches, date``; ``batches`` separated by ``;``), CSV, xlsx or Parquet."""
    return read_shipment_file(path, tz, sheet=sheet, decimal=decimal)[0]


def _positive_tonnes(table: pd.DataFrame, ids: pd.Series, kind: str, file: str) -> pd.Series:
    """The ``tonnes`` column as floats; the first non-positive or unreadable one is an error."""
    tonnes = pd.to_numeric(table["tonnes"], errors="coerce")
    bad = tonnes.isna() | (tonnes <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(Problem(f"{kind} {ids.iat[i]}: tonnage {table['tonnes'].iat[i]!r} is "
                                 "not positive", file=file, location=f"row {i + 2}, tonnes",
                                 expected="a positive number of tonnes"))
    return tonnes.astype(float)


def check_shipments(table: pd.DataFrame, tz: str, file: str = "shipments") -> pd.DataFrame:
    """Validate a shipments table; ``date`` becomes tz-aware, ``year`` is added."""
    _require(table, SHIPMENT_COLUMNS, file)
    out = table.copy()
    out["tonnes"] = _positive_tonnes(table, out["shipment_id"], "shipment", file)
    out["date"] = _to_time(out["date"], tz, file, "date")
    out["year"] = out["date"].dt.year
    if "importer" not in out.columns:
        out["importer"] = ""
    out["importer"] = out["importer"].fillna("").astype(str)
    return out


#: Tonne-weighted over a shipment's batches: the CBAM period values (equal for every batch of
#: one process) and the batch product footprint.
_AGG = ("electricity_mwh_per_t", "see_direct_t_per_t", "see_indirect_t_per_t",
        "see_indirect_grid_t_per_t", "see_counted_grid_t_per_t", "see_counted_dc_t_per_t",
        "footprint_grid_t_per_t", "footprint_dc_t_per_t")


def shipment_footprints(shipments: pd.DataFrame, batch_table: pd.DataFrame,
                        file: str = "shipments") -> pd.DataFrame:
    """Tonne-weighted specific values of each shipment's batches, plus its green share.

    The CBAM columns (``see_*``) are the period values of the shipment's process (a shipment of
    one process carries exactly its process's values); ``footprint_*``,
    ``electricity_mwh_per_t`` and ``green_share`` are the product footprint of its batches'
    hours. ``process`` names the
    process (``;``-joined if its batches come from several).

    Raises
    ------
    InputError
        A shipment names an unknown batch, a batch of another SKU, or more tonnes than its
        batches produced.
    """
    links = shipments[["shipment_id", "sku", "tonnes", "batches"]].copy()
    links["batch_id"] = links["batches"].fillna("").astype(str).str.split(";")
    links = links.explode("batch_id")
    links["batch_id"] = links["batch_id"].str.strip()
    idx = batch_table.set_index("batch_id")
    unknown = ~links["batch_id"].isin(idx.index)
    if unknown.any():
        row = links[unknown].iloc[0]
        raise InputError(Problem(f"shipment {row['shipment_id']} names unknown batch "
                                 f"{row['batch_id']!r}", file=file, location="batches",
                                 expected="batch ids of the batches file, separated by ';'"))
    joined = links.join(idx, on="batch_id", rsuffix="_batch")
    wrong = joined["sku"] != joined["sku_batch"]
    if wrong.any():
        row = joined[wrong].iloc[0]
        raise InputError(Problem(f"shipment {row['shipment_id']} (SKU {row['sku']}) names batch "
                                 f"{row['batch_id']} of SKU {row['sku_batch']}", file=file,
                                 location="batches", expected="batches of the shipped SKU"))
    w = joined["tonnes_batch"]
    cols = [*_AGG, *(["benchmark_a_t_per_t"] if "benchmark_a_t_per_t" in joined else [])]
    agg = joined[cols].mul(w, axis=0)
    agg["w"] = w
    agg["electricity_mwh"] = joined["electricity_mwh"]
    agg["green_mwh"] = joined["green_mwh"]
    agg["shipment_id"] = joined["shipment_id"]
    sums = agg.groupby("shipment_id", sort=False).sum()
    procs = joined.groupby("shipment_id", sort=False)["process"].agg(
        lambda v: ";".join(sorted(set(map(str, v)))))
    result = shipments.set_index("shipment_id")
    over = result["tonnes"] > sums["w"].reindex(result.index) * (1 + 1e-9)
    if over.any():
        sid = over[over].index[0]
        raise InputError(Problem(f"shipment {sid} ships {result.loc[sid, 'tonnes']:g} t but its "
                                 f"batches made {sums.loc[sid, 'w']:g} t", file=file,
                                 location=f"shipment {sid}", expected="at most the batch tonnes"))
    for c in cols:
        result[c] = sums[c] / sums["w"]
    result["process"] = procs
    result["green_share"] = (sums["green_mwh"] / sums["electricity_mwh"]).fillna(0.0)
    result["batch_tonnes"] = sums["w"]
    result["see_counted_dc_rounded"] = result["see_counted_dc_t_per_t"].map(round_see)
    return result.reset_index()
