"""Named KPIs computed from a flows table (vocabulary: ``shared/reference/kpis.md``).

Every ratio KPI is a pure function ``f(flows, user_id=None, *, soc_green_start_kwh=None,
readings=KpiReadings()) -> float`` over the rows it is given (one period); ``user_id=None`` means
the park scope. Rule sets refer to KPIs only by name through :data:`KPI_FUNCTIONS` (ratio KPIs
computed from flows) and :data:`STRUCTURAL_KPIS` (facts about the set-up, supplied by the caller).

Flows columns follow ``docs/formats.md``: ``generation_kwh`` is the *available* generation (before
curtailment); the generation actually produced is ``generation_kwh - curtailed_kwh``.

A ratio whose denominator is zero is ``nan`` (undefined), never 0 or 1.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal, Protocol

import numpy as np
import pandas as pd

from greenlink.errors import InputError, Problem

Period = Literal["year", "month"]

GENERATION = "generation_kwh"
LOAD = "load_kwh"
GREEN_TO_LOAD = "green_to_load_kwh"
CHARGE_GREEN = "battery_charge_green_kwh"
DISCHARGE_GREEN = "battery_discharge_green_kwh"
SOC_GREEN = "battery_soc_green_kwh"
EXPORT = "export_kwh"
CURTAILED = "curtailed_kwh"

#: Park columns the KPIs read.
REQUIRED_PARK_COLUMNS: tuple[str, ...] = (
    GENERATION, LOAD, GREEN_TO_LOAD, CHARGE_GREEN, DISCHARGE_GREEN, SOC_GREEN, EXPORT, CURTAILED,
)
#: Per-user column suffixes the KPIs read (``<user_id>.load_kwh`` ...).
REQUIRED_USER_SUFFIXES: tuple[str, ...] = ("load_kwh", "green_kwh")

PARK_SCOPE = "park"
_EPS = 1e-12


@dataclass(frozen=True)
class KpiReadings:
    """Readings of unclear rule text; each is a rule-set parameter of the same name.

    Attributes
    ----------
    storage_losses_count_as_self_use
        Green energy lost in the battery counts as self-used (storage serving the load is
        self-use). Default ``True``.
    curtailment_in_denominator
        Curtailed energy stays in the "total available generation" denominator (650:
        "占总可用发电量") of ``self_use_share_of_generation`` and
        ``export_share_of_generation``. Default ``True``.
    """

    storage_losses_count_as_self_use: bool = True
    curtailment_in_denominator: bool = True

    def to_dict(self) -> dict[str, bool]:
        return asdict(self)


DEFAULT_READINGS = KpiReadings()

#: Reading parameters each KPI depends on (a verdict on it rests on these readings).
KPI_READING_PARAMETERS: dict[str, tuple[str, ...]] = {
    "self_use_share_of_generation": (
        "storage_losses_count_as_self_use", "curtailment_in_denominator"),
    "export_share_of_generation": ("curtailment_in_denominator",),
}


class KpiFunction(Protocol):
    """Signature shared by every ratio KPI function."""

    def __call__(self, flows: pd.DataFrame, user_id: str | None = None, *,
                 soc_green_start_kwh: float | None = None,
                 readings: KpiReadings = DEFAULT_READINGS) -> float: ...


# ---------------------------------------------------------------------------------------------
# helpers


def _ratio(numerator_kwh: float, denominator_kwh: float) -> float:
    if not np.isfinite(denominator_kwh) or abs(denominator_kwh) <= _EPS:
        return float("nan")
    return float(numerator_kwh / denominator_kwh)


def _col(flows: pd.DataFrame, name: str) -> pd.Series:
    if name not in flows.columns:
        raise InputError(Problem(f"flows table has no column {name!r}", location=name,
                                 expected="the columns of docs/formats.md"))
    return flows[name].astype(float)


def _user_col(flows: pd.DataFrame, user_id: str, suffix: str) -> pd.Series:
    return _col(flows, f"{user_id}.{suffix}")


def _time_index(flows: pd.DataFrame) -> pd.DatetimeIndex:
    if isinstance(flows.index, pd.DatetimeIndex):
        index = flows.index
    elif "interval_start" in flows.columns:
        index = pd.DatetimeIndex(flows["interval_start"])
    else:
        raise InputError(Problem("flows table has no interval_start index or column",
                                 location="interval_start",
                                 expected="tz-aware interval-beginning timestamps"))
    if index.tz is None:
        raise InputError(Problem("interval_start is not timezone-aware", location="interval_start",
                                 expected="tz-aware timestamps, e.g. 2025-01-01T00:00+08:00"))
    return index


def prepare_flows(flows: pd.DataFrame, user_ids: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """Return the flows with a sorted tz-aware ``interval_start`` index, checking the columns.

    Raises
    ------
    InputError
        When the time stamps are missing or naive, or a park or user column is missing.
    """
    index = _time_index(flows)
    frame = flows.drop(columns=["interval_start"], errors="ignore") \
        if not isinstance(flows.index, pd.DatetimeIndex) else flows
    frame = frame.set_axis(index.rename("interval_start"), axis=0).sort_index()
    wanted = list(REQUIRED_PARK_COLUMNS) + [
        f"{u}.{s}" for u in user_ids for s in REQUIRED_USER_SUFFIXES]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise InputError([Problem(f"flows table has no column {c!r}", location=c,
                                  expected="the columns of docs/formats.md") for c in missing])
    if PARK_SCOPE in user_ids:
        raise InputError(Problem("a user may not be called 'park'", location="user_ids",
                                 expected="a user id other than the scope name 'park'"))
    return frame


def green_battery_loss_kwh(flows: pd.DataFrame, soc_green_start_kwh: float | None = None) -> float:
    """Green energy lost in storage over the rows of ``flows``.

    ``Σ battery_charge_green − Σ battery_discharge_green − (soc_green_end − soc_green_start)``.

    Parameters
    ----------
    flows
        Rows of one period.
    soc_green_start_kwh
        Green stored energy at the end of the interval before the period. ``None``: the first
        row's ``battery_soc_green_kwh`` minus its own net green change (charge − discharge).
    """
    if len(flows) == 0:
        return 0.0
    charge = _col(flows, CHARGE_GREEN)
    discharge = _col(flows, DISCHARGE_GREEN)
    soc = _col(flows, SOC_GREEN)
    if soc_green_start_kwh is None:
        soc_green_start_kwh = float(soc.iloc[0] - (charge.iloc[0] - discharge.iloc[0]))
    return float(charge.sum() - discharge.sum() - (soc.iloc[-1] - soc_green_start_kwh))


def _hour_keys(flows: pd.DataFrame) -> pd.DatetimeIndex:
    """Clock hour (local wall time) of each row."""
    return _time_index(flows).tz_localize(None).floor("h")


def hourly_green_supply_kwh(flows: pd.DataFrame, user_id: str | None = None) -> pd.DataFrame:
    """Green supply ``a_h`` and load per clock hour, for the park or one user.

    Park: ``a_h = produced − green into storage + green out of storage`` with produced =
    ``generation_kwh − curtailed_kwh``. User *u*: ``a_u,h = green_kwh_u,h + s_u,h · surplus_h``
    with ``surplus_h = max(a_h − green_to_load_h, 0)`` (the hour's green supply not delivered to a
    load) and ``s_u,h = load_u,h / load_h`` (0 when the park load of the hour is 0), so that
    ``Σ_u a_u,h = a_h`` whenever the park has load.

    Returns
    -------
    pandas.DataFrame
        Indexed by clock hour, columns ``supply_kwh`` and ``load_kwh``.
    """
    produced = _col(flows, GENERATION) - _col(flows, CURTAILED)
    supply = produced - _col(flows, CHARGE_GREEN) + _col(flows, DISCHARGE_GREEN)
    keys = _hour_keys(flows)
    park = pd.DataFrame({
        "supply_kwh": supply.to_numpy(),
        "load_kwh": _col(flows, LOAD).to_numpy(),
        "green_to_load_kwh": _col(flows, GREEN_TO_LOAD).to_numpy(),
    }, index=keys).groupby(level=0).sum()
    if user_id is None:
        return park[["supply_kwh", "load_kwh"]]
    user = pd.DataFrame({
        "green_kwh": _user_col(flows, user_id, "green_kwh").to_numpy(),
        "load_kwh": _user_col(flows, user_id, "load_kwh").to_numpy(),
    }, index=keys).groupby(level=0).sum()
    surplus = (park["supply_kwh"] - park["green_to_load_kwh"]).clip(lower=0.0)
    park_load = park["load_kwh"].to_numpy()
    share = np.divide(user["load_kwh"].to_numpy(), park_load,
                      out=np.zeros(len(park_load)), where=park_load > _EPS)
    return pd.DataFrame({"supply_kwh": user["green_kwh"].to_numpy() + share * surplus.to_numpy(),
                         "load_kwh": user["load_kwh"].to_numpy()}, index=park.index)


def _load_and_green(flows: pd.DataFrame, user_id: str | None) -> tuple[float, float]:
    if user_id is None:
        return float(_col(flows, LOAD).sum()), float(_col(flows, GREEN_TO_LOAD).sum())
    return (float(_user_col(flows, user_id, "load_kwh").sum()),
            float(_user_col(flows, user_id, "green_kwh").sum()))


def _park_only(name: str, user_id: str | None) -> None:
    if user_id is not None:
        raise InputError(Problem(f"KPI {name!r} is defined for the park scope only",
                                 location=f"scope {user_id!r}", expected="scope 'park'"))


def _generation_denominator_kwh(flows: pd.DataFrame, readings: KpiReadings) -> float:
    available = float(_col(flows, GENERATION).sum())
    if readings.curtailment_in_denominator:
        return available
    return available - float(_col(flows, CURTAILED).sum())


# ---------------------------------------------------------------------------------------------
# ratio KPIs


def self_use_share_of_generation(flows: pd.DataFrame, user_id: str | None = None, *,
                                 soc_green_start_kwh: float | None = None,
                                 readings: KpiReadings = DEFAULT_READINGS) -> float:
    """Σ self-used green ÷ Σ available generation (park scope only).

    Self-used green = ``green_to_load_kwh`` (+ green battery losses when
    ``readings.storage_losses_count_as_self_use``). The denominator is ``generation_kwh``
    (available, curtailment included) or, when ``readings.curtailment_in_denominator`` is false,
    ``generation_kwh − curtailed_kwh``.
    """
    _park_only("self_use_share_of_generation", user_id)
    self_used_kwh = float(_col(flows, GREEN_TO_LOAD).sum())
    if readings.storage_losses_count_as_self_use:
        self_used_kwh += green_battery_loss_kwh(flows, soc_green_start_kwh)
    return _ratio(self_used_kwh, _generation_denominator_kwh(flows, readings))


def export_share_of_generation(flows: pd.DataFrame, user_id: str | None = None, *,
                               soc_green_start_kwh: float | None = None,
                               readings: KpiReadings = DEFAULT_READINGS) -> float:
    """Σ ``export_kwh`` ÷ Σ available generation (park scope only; same denominator reading)."""
    _park_only("export_share_of_generation", user_id)
    return _ratio(float(_col(flows, EXPORT).sum()), _generation_denominator_kwh(flows, readings))


def green_share_of_consumption(flows: pd.DataFrame, user_id: str | None = None, *,
                               soc_green_start_kwh: float | None = None,
                               readings: KpiReadings = DEFAULT_READINGS) -> float:
    """Σ green delivered to load ÷ Σ load (park: ``green_to_load_kwh``; user: ``green_kwh``)."""
    load_kwh, green_kwh = _load_and_green(flows, user_id)
    return _ratio(green_kwh, load_kwh)


def physically_delivered_share(flows: pd.DataFrame, user_id: str | None = None, *,
                               soc_green_start_kwh: float | None = None,
                               readings: KpiReadings = DEFAULT_READINGS) -> float:
    """What the direct line actually carried: equal to :func:`green_share_of_consumption`."""
    load_kwh, green_kwh = _load_and_green(flows, user_id)
    return _ratio(green_kwh, load_kwh)


def annual_matched_share(flows: pd.DataFrame, user_id: str | None = None, *,
                         soc_green_start_kwh: float | None = None,
                         readings: KpiReadings = DEFAULT_READINGS) -> float:
    """Volumetric matching: ``min(Σ a, Σ load) ÷ Σ load`` over the period.

    ``a`` is the green supply of :func:`hourly_green_supply_kwh` (produced − green into storage
    + green out of storage, attributed to a user by the allocation), so the same supply is matched
    over the whole period here and hour by hour in :func:`hourly_matched_share`.
    """
    hourly = hourly_green_supply_kwh(flows, user_id)
    load_kwh = float(hourly["load_kwh"].sum())
    return _ratio(min(float(hourly["supply_kwh"].sum()), load_kwh), load_kwh)


def hourly_matched_share(flows: pd.DataFrame, user_id: str | None = None, *,
                         soc_green_start_kwh: float | None = None,
                         readings: KpiReadings = DEFAULT_READINGS) -> float:
    """CFE score: ``Σ_h min(a_h, load_h) ÷ Σ_h load_h`` over clock hours (24/7 matching)."""
    hourly = hourly_green_supply_kwh(flows, user_id)
    matched = np.minimum(hourly["supply_kwh"].to_numpy(), hourly["load_kwh"].to_numpy())
    return _ratio(float(matched.sum()), float(hourly["load_kwh"].sum()))


#: Ratio KPIs computed from flows, by name. Rule sets may name only these (or structural KPIs).
KPI_FUNCTIONS: dict[str, KpiFunction] = {
    "self_use_share_of_generation": self_use_share_of_generation,
    "green_share_of_consumption": green_share_of_consumption,
    "export_share_of_generation": export_share_of_generation,
    "annual_matched_share": annual_matched_share,
    "hourly_matched_share": hourly_matched_share,
    "physically_delivered_share": physically_delivered_share,
}

#: Ratio KPIs defined only for the park scope.
PARK_ONLY_KPIS: frozenset[str] = frozenset(
    {"self_use_share_of_generation", "export_share_of_generation"})

#: Structural KPIs (supplied by the caller) and their value kind: "number" or "bool" or "text".
STRUCTURAL_KPIS: dict[str, Literal["number", "bool", "text"]] = {
    "green_capacity_kw": "number",
    "storage_energy_kwh": "number",
    "storage_power_kw": "number",
    "connection_voltage_kv": "number",
    "grid_import_limit_kw": "number",
    "grid_export_limit_kw": "number",
    "users_count": "number",
    "user_share_of_park_load": "number",
    "meter_interval_minutes_max": "number",
    "meters_missing_roles": "number",
    "contract_has_intermediary": "bool",
    "contract_kind": "text",
    "reverse_flow_allowed": "bool",
}


def kpi_kind(name: str) -> Literal["number", "bool", "text"] | None:
    """Value kind of a named KPI (ratio KPIs are numbers); ``None`` for an unknown name."""
    if name in KPI_FUNCTIONS:
        return "number"
    return STRUCTURAL_KPIS.get(name)


# ---------------------------------------------------------------------------------------------
# periods and the tidy table


def period_labels(flows: pd.DataFrame, period: Period) -> pd.Index:
    """Label of each row's period: ``"2025"`` for years, ``"2025-03"`` for months (local time)."""
    index = _time_index(flows)
    if period == "year":
        return pd.Index([f"{y:04d}" for y in index.year])
    if period == "month":
        return pd.Index([f"{y:04d}-{m:02d}" for y, m in zip(index.year, index.month, strict=True)])
    raise InputError(Problem(f"unknown period {period!r}", location="period",
                             expected="'year' or 'month'"))


def split_periods(flows: pd.DataFrame, period: Period
                  ) -> list[tuple[str, pd.DataFrame, float | None]]:
    """Split prepared flows into periods: ``(label, rows, soc_green_start_kwh)``.

    ``soc_green_start_kwh`` is the green state of charge at the end of the row before the period
    (``None`` for the first period, see :func:`green_battery_loss_kwh`).
    """
    labels = period_labels(flows, period).to_numpy()
    out: list[tuple[str, pd.DataFrame, float | None]] = []
    soc = flows[SOC_GREEN].astype(float).to_numpy() if SOC_GREEN in flows.columns else None
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            soc_start = None if start == 0 or soc is None else float(soc[start - 1])
            out.append((str(labels[start]), flows.iloc[start:i], soc_start))
            start = i
    return out


def compute_kpis(flows: pd.DataFrame, user_ids: list[str], period: Period = "year", *,
                 readings: KpiReadings = DEFAULT_READINGS) -> pd.DataFrame:
    """Every ratio KPI for the park and each user, per period.

    Parameters
    ----------
    flows
        Flows table of ``docs/formats.md`` (``interval_start`` as tz-aware index or column).
    user_ids
        Users whose ``<user_id>.load_kwh`` / ``<user_id>.green_kwh`` columns are read.
    period
        ``"year"`` or ``"month"`` (calendar, in the time stamps' own zone).
    readings
        Readings of unclear rule text (rule-set parameters).

    Returns
    -------
    pandas.DataFrame
        Tidy: columns ``scope`` (``"park"`` or a user id), ``period``, ``kpi``, ``value``
        (fraction 0..1, ``nan`` where the denominator is 0). Park-only KPIs have no user rows.
    """
    frame = prepare_flows(flows, user_ids)
    rows: list[tuple[str, str, str, float]] = []
    for label, part, soc_start in split_periods(frame, period):
        for scope in [None, *user_ids]:
            for name, func in KPI_FUNCTIONS.items():
                if scope is not None and name in PARK_ONLY_KPIS:
                    continue
                value = func(part, scope, soc_green_start_kwh=soc_start, readings=readings)
                rows.append((scope or PARK_SCOPE, label, name, value))
    return pd.DataFrame(rows, columns=["scope", "period", "kpi", "value"])
