"""Named KPIs computed from a flows table (vocabulary: ``shared/reference/kpis.md``).

Every ratio KPI is a pure function ``f(table, user_id=None, *, soc_green_start_kwh=None,
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

from greenlink import flows
from greenlink.errors import InputError, Problem

Period = Literal["year", "month"]

#: Park columns the KPIs read.
REQUIRED_PARK_COLUMNS: tuple[str, ...] = (
    flows.GENERATION_KWH, flows.LOAD_KWH, flows.GREEN_TO_LOAD_KWH, flows.BATTERY_CHARGE_GREEN_KWH,
    flows.BATTERY_DISCHARGE_GREEN_KWH, flows.BATTERY_SOC_GREEN_KWH, flows.EXPORT_KWH,
    flows.CURTAILED_KWH,
)
#: Name of the supply column of :func:`hourly_green_supply_kwh`.
SUPPLY_KWH = "supply_kwh"

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

    def __call__(self, table: pd.DataFrame, user_id: str | None = None, *,
                 soc_green_start_kwh: float | None = None,
                 readings: KpiReadings = DEFAULT_READINGS) -> float: ...


# ---------------------------------------------------------------------------------------------
# helpers


def _ratio(numerator_kwh: float, denominator_kwh: float) -> float:
    if not np.isfinite(denominator_kwh) or abs(denominator_kwh) <= _EPS:
        return float("nan")
    return float(numerator_kwh / denominator_kwh)


def _col(table: pd.DataFrame, name: str) -> pd.Series:
    if name not in table.columns:
        raise InputError(Problem(f"flows table has no column {name!r}", location=name,
                                 expected="the columns of docs/formats.md"))
    return table[name].astype(float)


def _required_columns(user_ids: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The columns the KPIs read: :data:`REQUIRED_PARK_COLUMNS` and each user's load and green."""
    return [*REQUIRED_PARK_COLUMNS,
            *(c for u in user_ids for c in (flows.user_load(u), flows.user_green(u)))]


def prepare_flows(table: pd.DataFrame, user_ids: list[str] | tuple[str, ...] = (),
                  timezone: str | None = None) -> pd.DataFrame:
    """Return the flows table normalised (:func:`greenlink.flows.normalise`), checking the columns.

    ``timezone`` is the scenario's zone: hours (``flows.hour_key``) and periods (calendar years
    and months) are those of the index's zone, so the table is converted to it first (``None``:
    the table is already in the scenario's zone, as every workflow hands it).

    Raises
    ------
    InputError
        When the time stamps are missing, naive or repeated, or a park or user column is missing.
    """
    frame = flows.normalise(table, timezone)
    missing = [c for c in _required_columns(user_ids) if c not in frame.columns]
    if missing:
        raise InputError([Problem(f"flows table has no column {c!r}", location=c,
                                  expected="the columns of docs/formats.md") for c in missing])
    if PARK_SCOPE in user_ids:
        raise InputError(Problem("a user may not be called 'park'", location="user_ids",
                                 expected="a user id other than the scope name 'park'"))
    return frame


def green_battery_loss_kwh(table: pd.DataFrame, soc_green_start_kwh: float | None = None) -> float:
    """Green energy lost in storage over the rows of ``table``.

    ``Σ battery_charge_green − Σ battery_discharge_green − (soc_green_end − soc_green_start)``.

    Parameters
    ----------
    table
        Flows rows of one period.
    soc_green_start_kwh
        Green stored energy at the end of the interval before the period. ``None``: the rows
        begin the year, and no green energy is stored then (energy stored at the start of the
        year counts as grid energy), so the start is 0.
    """
    if len(table) == 0:
        return 0.0
    charge = _col(table, flows.BATTERY_CHARGE_GREEN_KWH)
    discharge = _col(table, flows.BATTERY_DISCHARGE_GREEN_KWH)
    soc = _col(table, flows.BATTERY_SOC_GREEN_KWH)
    start = 0.0 if soc_green_start_kwh is None else float(soc_green_start_kwh)
    return float(charge.sum() - discharge.sum() - (soc.iloc[-1] - start))


def _hourly_supply(table: pd.DataFrame, user_id: str | None = None) -> pd.DataFrame:
    """Green supply ``a_h`` and load per local clock hour, for the park or one user.

    Park: ``a_h = produced − green into storage + green out of storage`` with produced =
    ``generation_kwh − curtailed_kwh``. User *u*: ``a_u,h = green_kwh_u,h + s_u,h · surplus_h``
    with ``surplus_h = max(a_h − green_to_load_h, 0)`` (the hour's green supply not delivered to a
    load) and ``s_u,h = load_u,h / load_h`` (0 when the park load of the hour is 0), so that
    ``Σ_u a_u,h = a_h`` whenever the park has load.

    Returns
    -------
    pandas.DataFrame
        Indexed by the start of each local clock hour (tz-aware instants,
        :func:`greenlink.flows.hour_key`), columns ``supply_kwh`` and ``load_kwh``.
    """
    produced = _col(table, flows.GENERATION_KWH) - _col(table, flows.CURTAILED_KWH)
    supply = (produced - _col(table, flows.BATTERY_CHARGE_GREEN_KWH)
              + _col(table, flows.BATTERY_DISCHARGE_GREEN_KWH))
    keys = flows.hour_key(flows.time_index(table))
    park = pd.DataFrame({
        SUPPLY_KWH: supply.to_numpy(),
        flows.LOAD_KWH: _col(table, flows.LOAD_KWH).to_numpy(),
        flows.GREEN_TO_LOAD_KWH: _col(table, flows.GREEN_TO_LOAD_KWH).to_numpy(),
    }, index=keys).groupby(level=0).sum()
    if user_id is None:
        return park[[SUPPLY_KWH, flows.LOAD_KWH]]
    user = pd.DataFrame({
        flows.USER_GREEN_KWH: _col(table, flows.user_green(user_id)).to_numpy(),
        flows.USER_LOAD_KWH: _col(table, flows.user_load(user_id)).to_numpy(),
    }, index=keys).groupby(level=0).sum()
    surplus = (park[SUPPLY_KWH] - park[flows.GREEN_TO_LOAD_KWH]).clip(lower=0.0)
    park_load = park[flows.LOAD_KWH].to_numpy()
    user_load = user[flows.USER_LOAD_KWH].to_numpy()
    share = np.divide(user_load, park_load, out=np.zeros(len(park_load)), where=park_load > _EPS)
    return pd.DataFrame({
        SUPPLY_KWH: user[flows.USER_GREEN_KWH].to_numpy() + share * surplus.to_numpy(),
        flows.LOAD_KWH: user_load}, index=park.index)


def hourly_green_supply_kwh(table: pd.DataFrame, user_id: str | None = None) -> pd.DataFrame:
    """Green supply ``a_h`` and load per local clock hour, for the park or one user (the hours
    and values of :func:`_hourly_supply`, which the matching KPIs use).

    Returns
    -------
    pandas.DataFrame
        Columns ``supply_kwh`` and ``load_kwh``, one row per local clock hour of
        :func:`greenlink.flows.hour_key`, labelled by the hour's local wall-clock start (naive,
        at the time stamps' resolution): a daylight-saving fall-back gives two rows labelled
        01:00, in order, which ``tz_localize(tz, ambiguous="infer")`` tells apart.
    """
    hourly = _hourly_supply(table, user_id)
    keys = pd.DatetimeIndex(hourly.index)
    labels = keys.tz_localize(None).as_unit(flows.time_index(table).unit)
    return hourly.set_axis(labels.rename(keys.name), axis=0)


def _load_and_green(table: pd.DataFrame, user_id: str | None) -> tuple[float, float]:
    if user_id is None:
        return (float(_col(table, flows.LOAD_KWH).sum()),
                float(_col(table, flows.GREEN_TO_LOAD_KWH).sum()))
    return (float(_col(table, flows.user_load(user_id)).sum()),
            float(_col(table, flows.user_green(user_id)).sum()))


def _park_only(name: str, user_id: str | None) -> None:
    if user_id is not None:
        raise InputError(Problem(f"KPI {name!r} is defined for the park scope only",
                                 location=f"scope {user_id!r}", expected="scope 'park'"))


def _generation_denominator_kwh(table: pd.DataFrame, readings: KpiReadings) -> float:
    available = float(_col(table, flows.GENERATION_KWH).sum())
    if readings.curtailment_in_denominator:
        return available
    return available - float(_col(table, flows.CURTAILED_KWH).sum())


# ---------------------------------------------------------------------------------------------
# ratio KPIs


def self_use_share_of_generation(table: pd.DataFrame, user_id: str | None = None, *,
                                 soc_green_start_kwh: float | None = None,
                                 readings: KpiReadings = DEFAULT_READINGS) -> float:
    """Σ self-used green ÷ Σ available generation (park scope only).

    Self-used green = ``green_to_load_kwh`` (+ green battery losses when
    ``readings.storage_losses_count_as_self_use``). The denominator is ``generation_kwh``
    (available, curtailment included) or, when ``readings.curtailment_in_denominator`` is false,
    ``generation_kwh − curtailed_kwh``.
    """
    _park_only("self_use_share_of_generation", user_id)
    self_used_kwh = float(_col(table, flows.GREEN_TO_LOAD_KWH).sum())
    if readings.storage_losses_count_as_self_use:
        self_used_kwh += green_battery_loss_kwh(table, soc_green_start_kwh)
    return _ratio(self_used_kwh, _generation_denominator_kwh(table, readings))


def export_share_of_generation(table: pd.DataFrame, user_id: str | None = None, *,
                               soc_green_start_kwh: float | None = None,
                               readings: KpiReadings = DEFAULT_READINGS) -> float:
    """Σ ``export_kwh`` ÷ Σ available generation (park scope only; same denominator reading)."""
    _park_only("export_share_of_generation", user_id)
    return _ratio(float(_col(table, flows.EXPORT_KWH).sum()),
                  _generation_denominator_kwh(table, readings))


def green_share_of_consumption(table: pd.DataFrame, user_id: str | None = None, *,
                               soc_green_start_kwh: float | None = None,
                               readings: KpiReadings = DEFAULT_READINGS) -> float:
    """Σ green delivered to load ÷ Σ load (park: ``green_to_load_kwh``; user: ``green_kwh``)."""
    load_kwh, green_kwh = _load_and_green(table, user_id)
    return _ratio(green_kwh, load_kwh)


def physically_delivered_share(table: pd.DataFrame, user_id: str | None = None, *,
                               soc_green_start_kwh: float | None = None,
                               readings: KpiReadings = DEFAULT_READINGS) -> float:
    """What the direct line actually carried: equal to :func:`green_share_of_consumption`."""
    load_kwh, green_kwh = _load_and_green(table, user_id)
    return _ratio(green_kwh, load_kwh)


def annual_matched_share(table: pd.DataFrame, user_id: str | None = None, *,
                         soc_green_start_kwh: float | None = None,
                         readings: KpiReadings = DEFAULT_READINGS) -> float:
    """Volumetric matching: ``min(Σ a, Σ load) ÷ Σ load`` over the period.

    ``a`` is the green supply of :func:`hourly_green_supply_kwh` (produced − green into storage
    + green out of storage, attributed to a user by the allocation), so the same supply is matched
    over the whole period here and hour by hour in :func:`hourly_matched_share`.
    """
    hourly = _hourly_supply(table, user_id)
    load_kwh = float(hourly[flows.LOAD_KWH].sum())
    return _ratio(min(float(hourly[SUPPLY_KWH].sum()), load_kwh), load_kwh)


def hourly_matched_share(table: pd.DataFrame, user_id: str | None = None, *,
                         soc_green_start_kwh: float | None = None,
                         readings: KpiReadings = DEFAULT_READINGS) -> float:
    """CFE score: ``Σ_h min(a_h, load_h) ÷ Σ_h load_h`` over local clock hours (24/7 matching)."""
    hourly = _hourly_supply(table, user_id)
    matched = np.minimum(hourly[SUPPLY_KWH].to_numpy(), hourly[flows.LOAD_KWH].to_numpy())
    return _ratio(float(matched.sum()), float(hourly[flows.LOAD_KWH].sum()))


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


def period_labels(table: pd.DataFrame, period: Period) -> pd.Index:
    """Label of each row's period: ``"2025"`` for years, ``"2025-03"`` for months (local time)."""
    index = flows.time_index(table)
    if period in ("year", "month"):
        years = index.year.to_numpy()
        codes = years * 100 + (index.month.to_numpy() if period == "month" else 0)
        unique, inverse = np.unique(codes, return_inverse=True)  # few periods, many rows
        names = np.array([f"{c // 100:04d}" if period == "year" else f"{c // 100:04d}-{c % 100:02d}"
                          for c in unique.tolist()], dtype=object)
        return pd.Index(names[inverse])
    raise InputError(Problem(f"unknown period {period!r}", location="period",
                             expected="'year' or 'month'"))


def split_periods(table: pd.DataFrame, period: Period
                  ) -> list[tuple[str, pd.DataFrame, float | None]]:
    """Split prepared flows into periods: ``(label, rows, soc_green_start_kwh)``.

    ``soc_green_start_kwh`` is the green state of charge at the end of the row before the period
    (``None`` for the first period: the start of the year, see :func:`green_battery_loss_kwh`).
    """
    labels = period_labels(table, period).to_numpy()
    out: list[tuple[str, pd.DataFrame, float | None]] = []
    soc = (table[flows.BATTERY_SOC_GREEN_KWH].astype(float).to_numpy()
           if flows.BATTERY_SOC_GREEN_KWH in table.columns else None)
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            soc_start = None if start == 0 or soc is None else float(soc[start - 1])
            out.append((str(labels[start]), table.iloc[start:i], soc_start))
            start = i
    return out


def compute_kpis(table: pd.DataFrame, user_ids: list[str], period: Period = "year", *,
                 readings: KpiReadings = DEFAULT_READINGS,
                 timezone: str | None = None) -> pd.DataFrame:
    """Every ratio KPI for the park and each user, per period.

    Parameters
    ----------
    table
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
    frame = prepare_flows(table, user_ids, timezone)
    rows: list[tuple[str, str, str, float]] = []
    for label, part, soc_start in split_periods(frame, period):
        for scope in [None, *user_ids]:
            for name, func in KPI_FUNCTIONS.items():
                if scope is not None and name in PARK_ONLY_KPIS:
                    continue
                value = func(part, scope, soc_green_start_kwh=soc_start, readings=readings)
                rows.append((scope or PARK_SCOPE, label, name, value))
    return pd.DataFrame(rows, columns=["scope", "period", "kpi", "value"])
