"""What-ifs: compare contract structures over a year (simulated or metered flows).

For each variant (a list of contracts) every complete month of the flows is settled; the result is
a tidy table per variant and tenant: annual cost, cost per kWh, shortfall energy and how often it
happens, and — where flows without the battery are given — the value of the battery (the
tenant's cost without it minus its cost with it).

Flows tables come in through :func:`greenlink.flows.normalise` (once per table, into the
scenario's zone); months are calendar months of that zone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field

from greenlink import flows
from greenlink.economics.fees import FeeSchedule
from greenlink.economics.fx import FxSeries
from greenlink.economics.settlement import Settlement, settle
from greenlink.errors import InputError, Problem
from greenlink.scenario import contracts as contract_models
from greenlink.scenario.base import Strict
from greenlink.scenario.contracts import BatteryService, Contract
from greenlink.scenario.load import LoadedScenario
from greenlink.scenario.model import Scenario
from greenlink.tomlfile import load_toml

SHORTFALL_MONTH_THRESHOLD = 0.05  # a month "has a shortfall" when > 5 % of contracted is short
#: Columns of the tenant tables: the tenant's metered consumption and green energy [kWh].
_LOAD, _GREEN = flows.USER_LOAD_KWH, flows.USER_GREEN_KWH


def with_contracts(scenario: Scenario, contracts: Sequence[Any], file: str = "<variant>"
                   ) -> Scenario:
    """The scenario with its contracts replaced (checked like the scenario's own)."""
    new = scenario.model_copy(update={"contracts": list(contracts)})
    problems = contract_models.cross_check(new)
    if problems:
        raise InputError([Problem(p, file=file) for p in problems])
    return new


class _VariantFile(Strict):
    """A contract variant: an optional name and ``[[contracts]]`` tables."""

    name: str | None = None
    contracts: list[Contract] = Field(default_factory=list)


def read_variant(path: str | Path, scenario: Scenario) -> Scenario:
    """Read a TOML file of ``[[contracts]]`` and put them into the scenario."""
    variant = load_toml(path, _VariantFile, kind="variant file",
                        expected="a TOML file with [[contracts]] tables")
    return with_contracts(scenario, variant.contracts, file=str(path))


def complete_months(table: pd.DataFrame, scenario: Scenario) -> list[str]:
    """Months (of the scenario's zone) of the flows table that have every interval."""
    local = flows.time_index(flows.normalise(table, scenario.site.timezone))
    per_hour = 60 // scenario.time.interval_minutes
    counts = pd.Series(1, index=local).groupby(local.strftime("%Y-%m")).sum()
    out = []
    for month, n in counts.items():
        period = pd.Period(str(month), freq="M")
        start = pd.Timestamp(period.start_time).tz_localize(scenario.site.timezone)
        end = pd.Timestamp((period + 1).start_time).tz_localize(scenario.site.timezone)
        hours = (end - start) / pd.Timedelta(hours=1)
        if n == round(hours * per_hour):
            out.append(str(month))
    return out


def settle_year(table: pd.DataFrame, scenario: Scenario, months: Sequence[str] | None = None,
                fees: FeeSchedule | None = None, fees_as_of: date | None = None,
                fx: FxSeries | None = None) -> list[Settlement]:
    """Settle every given (default: every complete) month of a flows table."""
    table = flows.normalise(table, scenario.site.timezone)
    months = list(months) if months is not None else complete_months(table, scenario)
    if not months:
        raise InputError(Problem("no complete month of meter data", location="flows",
                                 expected="every interval of at least one month"))
    return [settle(table, scenario, m, fees=fees, fees_as_of=fees_as_of, fx=fx) for m in months]


def _tenant_table(settlements: Sequence[Settlement]) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for s in settlements:
        for st in s.statements:
            # the tenant's own PPAs with a delivery obligation (an overseas buyer's shortfall is
            # the buyer's; contracted capacity has no delivery obligation)
            own = [c for c in st.contracts
                   if c.kind != "contracted_capacity" and c.buyer in ("", st.tenant)]
            contracted = sum((c.contracted_kwh for c in own), Decimal(0))
            short = sum((c.shortfall_kwh for c in own), Decimal(0))
            rows.append({"tenant": st.tenant, "month": s.month, "cost": st.total,
                         _LOAD: st.meters.load_kwh, _GREEN: st.meters.green_kwh,
                         "contracted_kwh": contracted, "shortfall_kwh": short,
                         "short_month": bool(contracted > 0 and short >
                                             contracted * Decimal(SHORTFALL_MONTH_THRESHOLD))})
    frame = pd.DataFrame(rows)
    out = frame.groupby("tenant", sort=False).agg(
        cost=("cost", "sum"), **{_LOAD: (_LOAD, "sum"), _GREEN: (_GREEN, "sum")},
        contracted_kwh=("contracted_kwh", "sum"), shortfall_kwh=("shortfall_kwh", "sum"),
        months_with_shortfall=("short_month", "sum"), months=("month", "nunique"))
    return out.reset_index()


def compare_contracts(table: pd.DataFrame, variants: Mapping[str, Scenario],
                      flows_without_battery: pd.DataFrame | None = None,
                      months: Sequence[str] | None = None, fees: FeeSchedule | None = None,
                      fees_as_of: date | None = None, fx: FxSeries | None = None
                      ) -> pd.DataFrame:
    """Compare contract structures: one row per variant and tenant.

    Columns: ``variant, tenant, cost, load_kwh, green_kwh, cost_per_kwh, contracted_kwh,
    shortfall_kwh, shortfall_share`` (shortfall ÷ contracted, baseload/shaped/pay-as-produced),
    ``months_with_shortfall`` (months short by more than 5 % of contracted), ``months`` and, with
    ``flows_without_battery``, ``cost_without_battery`` and ``battery_value`` (without − with).
    Money in the scenario currency (floats rounded to the cent for the table); contracts in
    another currency converted with ``fx`` (default: the shipped central parity series).
    """
    tables = []
    for name, scenario in variants.items():
        with_b = _tenant_table(settle_year(table, scenario, months, fees, fees_as_of, fx))
        if flows_without_battery is not None:
            no_batt = without_battery_contracts(scenario)
            without = _tenant_table(settle_year(flows_without_battery, no_batt, months, fees,
                                                fees_as_of, fx))
            with_b = with_b.merge(without[["tenant", "cost"]].rename(
                columns={"cost": "cost_without_battery"}), on="tenant", how="left")
            with_b["battery_value"] = with_b["cost_without_battery"] - with_b["cost"]
        with_b.insert(0, "variant", name)
        tables.append(with_b)
    out = pd.concat(tables, ignore_index=True)
    for col in ("cost", "cost_without_battery", "battery_value"):
        if col in out:
            out[col] = out[col].map(lambda d: float(d))
    for col in (_LOAD, _GREEN, "contracted_kwh", "shortfall_kwh"):
        out[col] = out[col].map(lambda d: float(d))
    out["cost_per_kwh"] = (out["cost"] / out[_LOAD]).where(out[_LOAD] > 0)
    out["shortfall_share"] = (out["shortfall_kwh"] / out["contracted_kwh"]).where(
        out["contracted_kwh"] > 0, 0.0)
    return out


def without_battery_contracts(scenario: Scenario) -> Scenario:
    """The scenario with no battery and no battery-service contract."""
    kept = [c for c in scenario.contracts if not isinstance(c, BatteryService)]
    return scenario.model_copy(update={"batteries": [], "contracts": kept})


def simulate_without_battery(loaded: LoadedScenario) -> pd.DataFrame:
    """Flows of the same park simulated without its batteries (for the battery's value)."""
    from greenlink.dispatch.simulate import simulate
    from greenlink.inputs import build_inputs

    stripped = LoadedScenario(without_battery_contracts(loaded.scenario), loaded.path)
    return simulate(build_inputs(stripped))
