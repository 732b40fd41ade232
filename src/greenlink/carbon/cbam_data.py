"""CBAM parameters shipped as data: phase-in, mark-ups, default values, benchmarks, prices.

Every value sits in a CSV under ``data/cbam/`` with its legal source and a confidence mark
(see ``data/cbam/SOURCES.md``). Values marked ``UNVERIFIED`` are parameters: they are used as
stated defaults, flagged in every result that uses them, and can be overridden by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pandas as pd

from greenlink.errors import InputError, Problem


def _read(name: str) -> pd.DataFrame:
    path = resources.files("greenlink").joinpath(f"data/cbam/{name}")
    with path.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype=str, keep_default_na=False)
    if "legal_source" in table.columns:  # "idem" repeats the row above
        table["legal_source"] = table["legal_source"].where(
            table["legal_source"] != "idem").ffill()
    return table


@dataclass(frozen=True)
class Parameter:
    """One shipped parameter: value (``None`` where not shipped), unit, source, confidence."""

    key: str
    value: float | None
    unit: str
    source: str
    confidence: str
    note: str

    @property
    def unverified(self) -> bool:
        """True when the value is a stated default rather than settled law."""
        return self.confidence.upper() == "UNVERIFIED"


@lru_cache(maxsize=1)
def parameters() -> dict[str, Parameter]:
    """All rows of ``parameters.csv`` by key."""
    out: dict[str, Parameter] = {}
    for rec in _read("parameters.csv").to_dict("records"):
        raw = str(rec["value"]).strip()
        out[str(rec["key"])] = Parameter(
            key=str(rec["key"]), value=float(raw) if raw else None, unit=str(rec["unit"]),
            source=str(rec["legal_source"]), confidence=str(rec["confidence"]),
            note=str(rec["note"]))
    return out


def parameter(key: str) -> float:
    """The value of a shipped numeric parameter.

    Raises
    ------
    InputError
        The parameter has no shipped value (the user must supply it).
    """
    par = parameters()[key]
    if par.value is None:
        raise InputError(Problem(f"parameter {key!r} has no shipped value: {par.note}",
                                 file="data/cbam/parameters.csv", location=key,
                                 expected=f"a value in {par.unit} with its source"))
    return par.value


@lru_cache(maxsize=1)
def _phase_in() -> pd.DataFrame:
    table = _read("phase_in.csv")
    table["year"] = table["year"].astype(int)
    table["cbam_factor"] = table["cbam_factor"].astype(float)
    table["phase_in"] = table["phase_in"].astype(float)
    return table.set_index("year")


@lru_cache(maxsize=1)
def phase_in_years() -> tuple[int, ...]:
    """The years of the CBAM phase-in, as ``phase_in.csv`` lists them (2026 … 2034 shipped).

    The one source of these years: liability and exposure run over them by default, and texts
    name them with :func:`phase_in_span`.
    """
    years = tuple(int(y) for y in _phase_in().index)
    if not years or years != tuple(range(years[0], years[-1] + 1)):
        raise InputError(Problem(f"years {years} are not consecutive",
                                 file="data/cbam/phase_in.csv", location="year",
                                 expected="one row per year, no gaps"))
    return years


def phase_in_span() -> str:
    """First and last phase-in year for texts, e.g. ``"2026–2034"``."""
    years = phase_in_years()
    return f"{years[0]}–{years[-1]}"


def cbam_factor(year: int) -> float:
    """Share of free allocation still deducted in ``year`` (Dir 2003/87 Art 10a(1a)).

    As ``phase_in.csv`` gives it (0.975 in 2026 … 0 in 2034); 1 before the first phase-in year
    (no certificates yet), the last year's value after the last.
    """
    years = phase_in_years()
    if year < years[0]:
        return 1.0
    return float(_phase_in()["cbam_factor"].to_dict()[min(year, years[-1])])


def phase_in(year: int) -> float:
    """Share of the obligation phased in: ``1 − cbam_factor(year)``."""
    return 1.0 - cbam_factor(year)


@lru_cache(maxsize=1)
def _markups() -> pd.DataFrame:
    table = _read("markups.csv")
    table["year_from"] = table["year_from"].astype(int)
    table["markup_fraction"] = table["markup_fraction"].astype(float)
    return table


def markup(sector: str, year: int) -> float:
    """Default-value mark-up for ``sector`` in ``year`` (IR 2025/2621 as replaced by 2026/1740).

    Cement, iron and steel, aluminium, hydrogen: 0.10 (2026), 0.20 (2027), 0.30 (2028 on);
    fertilisers 0.01 from 2026; 0 before 2026.
    """
    rows = _markups()
    rows = rows[(rows["sector"] == sector) & (rows["year_from"] <= year)]
    if rows.empty:
        return 0.0
    return float(rows.sort_values("year_from").iloc[-1]["markup_fraction"])


@dataclass(frozen=True)
class DefaultValue:
    """A default value of IR 2025/2621 Annex I (before mark-up), t CO2e per t.

    ``total_t_per_t`` is the published "total" column (direct and indirect are rounded
    separately, so the total need not be their sum); the mark-up applies to it.
    """

    country: str
    cn_prefix: str
    direct_t_per_t: float
    indirect_t_per_t: float
    source: str
    confidence: str
    fallback: str | None = None
    route: str = ""
    total_t_per_t: float = 0.0

    @property
    def unverified(self) -> bool:
        return self.confidence.upper() == "UNVERIFIED"


@lru_cache(maxsize=1)
def _defaults() -> pd.DataFrame:
    table = _read("default_values.csv")
    table["direct"] = table["direct_t_per_t"].astype(float)
    table["indirect"] = table["indirect_t_per_t"].replace("", "0").astype(float)
    table["total"] = table["total_t_per_t"].astype(float)
    order = table["cn_prefix"].str.len().sort_values(ascending=False, kind="stable").index
    return table.loc[order]


def default_value(cn_code: str, country: str = "CN") -> DefaultValue:
    """Default embedded emissions for a good and production country, longest CN prefix first.

    Falls back to ``other_countries`` when the country has no value (Annex I opening paragraph)
    and says so in ``fallback``.

    Raises
    ------
    InputError
        No default shipped for the code (the user must supply actual data or the value).
    """
    table = _defaults()
    for who in (country, "other_countries"):
        rows = table[(table["country"] == who)
                     & table["cn_prefix"].map(lambda p: cn_code.startswith(p))]
        if not rows.empty:
            row = rows.iloc[0]
            return DefaultValue(
                country=who, cn_prefix=str(row["cn_prefix"]), direct_t_per_t=float(row["direct"]),
                indirect_t_per_t=float(row["indirect"]), source=str(row["legal_source"]),
                confidence=str(row["confidence"]), route=str(row.get("default_route", "")),
                total_t_per_t=float(row["total"]),
                fallback=None if who == country else
                f"no default for {country}; 'Other countries and territories' used")
    raise InputError(Problem(f"no CBAM default value shipped for CN {cn_code} ({country})",
                             file="data/cbam/default_values.csv", location=cn_code,
                             expected="actual embedded emissions, or a default value added to "
                                      "default_values.csv with its source"))


@dataclass(frozen=True)
class Benchmark:
    """A CBAM benchmark of IR 2025/2620 (column A: actual data, B: default values)."""

    cn_prefix: str
    column: str
    route: str
    benchmark_t_per_t: float
    source: str
    confidence: str


@lru_cache(maxsize=1)
def _benchmarks() -> pd.DataFrame:
    table = _read("benchmarks.csv")
    table["benchmark_t_per_t"] = table["benchmark_t_per_t"].astype(float)
    order = table["cn_prefix"].str.len().sort_values(ascending=False, kind="stable").index
    return table.loc[order]


def benchmark(cn_code: str, column: str, route: str = "") -> Benchmark | None:
    """Benchmark for a good (longest prefix), column ``"A"`` or ``"B"`` and optional route.

    Returns ``None`` when none is shipped: the free-allocation adjustment is then not
    computable and the caller must say so (it is never silently zero).
    """
    table = _benchmarks()
    rows = table[(table["column"] == column)
                 & table["cn_prefix"].map(lambda p: cn_code.startswith(p))]
    if route:
        exact = rows[rows["route"] == route]
        rows = exact if not exact.empty else rows
    if rows.empty:
        return None
    row = rows.iloc[0]
    return Benchmark(cn_prefix=str(row["cn_prefix"]), column=column, route=str(row["route"]),
                     benchmark_t_per_t=float(row["benchmark_t_per_t"]),
                     source=str(row["legal_source"]), confidence=str(row["confidence"]))
