"""The month being settled: its rows of the flows table, checked complete, and its prices,
FX rates and hour keys."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.economics.fx import FxRate, FxSeries, load_fx_series
from greenlink.errors import InputError, Problem
from greenlink.scenario.contracts import (
    PPA,
    BatteryService,
    contract_currency,
)
from greenlink.scenario.model import Scenario
from greenlink.units import kwh_to_wh

# --------------------------------------------------------------------------- flows input

def parse_month(month: str) -> pd.Period:
    try:
        if len(month) != 7 or month[4] != "-":
            raise ValueError(month)
        return pd.Period(month, freq="M")
    except (ValueError, TypeError):
        raise InputError(Problem(f"{month!r} is not a month", location="--month",
                                 expected="YYYY-MM, e.g. 2025-03")) from None


def month_flows(table: pd.DataFrame, scenario: Scenario, month: str,
                columns: Iterable[str]) -> pd.DataFrame:
    """The month's rows of a flows table, checked complete: every interval, no missing value.

    ``table`` goes through :func:`greenlink.flows.normalise` into the scenario's zone (its
    ``interval_start`` as index or column, in any zone); the month is a calendar month of that
    zone and the rows come back indexed by local interval starts.
    """
    period = parse_month(month)
    tz = scenario.site.timezone
    table = flows.normalise(table, tz)
    columns = list(columns)
    missing_cols = [c for c in columns if c not in table.columns]
    if missing_cols:
        raise InputError([Problem(f"flows table has no column {c!r}", location=c,
                                  expected="the columns of docs/formats.md") for c in missing_cols])
    start = pd.Timestamp(period.start_time).tz_localize(tz)
    end = pd.Timestamp((period + 1).start_time).tz_localize(tz)
    rows = flows.period_rows(table, start, end, scenario.time.interval_minutes, what=month,
                            data="meter data")
    bad = rows[columns].isna().any()
    if bad.any():
        name = str(bad[bad].index[0])
        first = rows.index[rows[name].isna()][0]
        raise InputError(Problem(f"{month}: missing values in {name!r} (first "
                                 f"{first.isoformat()})", location=name,
                                 expected="a value in every interval"))
    return rows



# --------------------------------------------------------------------------- settle

def required_columns(scenario: Scenario) -> list[str]:
    """The flows columns a settlement of ``scenario`` reads."""
    cols = flows.user_columns(scenario.user_ids)
    cols += [flows.IMPORT_KWH, flows.EXPORT_KWH]
    plants = {c.seller for c in scenario.contracts if isinstance(c, PPA) and c.seller != "park"}
    cols += [flows.generator_generation(p) for p in sorted(plants)]
    if any(isinstance(c, BatteryService) for c in scenario.contracts):
        cols += [flows.BATTERY_DISCHARGE_GREEN_KWH, flows.GREEN_TO_LOAD_KWH]
    return cols


#: Every ``<generator id>.generation_kwh`` column ends in this.
_GENERATOR_SUFFIX = flows.generator_generation("")


@dataclass(frozen=True)
class _Month:
    """The month's calendar and prices, shared by every tenant."""

    index: pd.DatetimeIndex
    days: np.ndarray  # local date of each interval
    first: date
    days_in_month: int
    hours: float  # interval length [h]
    tariff: np.ndarray
    tou: np.ndarray
    local: str
    hour_keys: pd.DatetimeIndex

    def days_in_term(self, start: date, end: date) -> int:
        last = date.fromordinal(self.first.toordinal() + self.days_in_month - 1)
        lo, hi = max(start, self.first), min(end, last)
        return max((hi - lo).days + 1, 0)


@dataclass(frozen=True)
class _Priced:
    """A PPA's prices in its own currency for the month."""

    contract: PPA
    currency: str
    fx: FxRate | None
    tariff: np.ndarray  # the grid tariff in the contract's currency
    price: np.ndarray  # the contract price per interval, contract currency
    labels: np.ndarray  # line labels of the contract price


def _fx_for(contract: PPA | BatteryService, scenario: Scenario, month: str,
            series: FxSeries | None, cache: dict[tuple[str, str, str, int], FxRate]
            ) -> tuple[FxRate | None, FxSeries | None]:
    ccy = contract_currency(contract, scenario)
    local = scenario.tariff.currency
    if ccy == local:
        return None, series
    if local != "CNY":
        raise InputError(Problem(f"contract {contract.id} is in {ccy}, the tariff in {local}; "
                                 "exchange rates are quoted in CNY", location="tariff.currency",
                                 expected="a tariff in CNY"))
    series = series or load_fx_series()
    terms = contract.fx
    key = (ccy, terms.rule, terms.source, terms.invoice_day)
    if key not in cache:
        cache[key] = series.rate(ccy, terms.rule, month, invoice_day=terms.invoice_day,
                                 stated_source=terms.source)
    return cache[key], series


def _hourly_wh(energy: np.ndarray, hour_keys: pd.DatetimeIndex) -> int:
    """Σ over clock hours of the hour's energy rounded down to the Wh (the claim rule)."""
    per_hour = pd.Series(energy, index=hour_keys).groupby(level=0).sum().to_numpy()
    return int(np.sum(kwh_to_wh(np.maximum(per_hour, 0.0))))
