"""Lifetime finance of a park: its simulated (or optimised) year carried over the project life.

scenario → run (``run_scenario`` or ``optimize_scenario``) → each operating year re-dispatched
with degraded PV and faded (augmented or replaced) batteries → money lines at year-1 prices
(avoided grid purchases, export revenue, direct-line fees, O&M, capex, augmentation) →
:func:`greenlink.economics.finance.cash_flows` → ``finance.json``, ``finance.xlsx``, a summary
section and a report section (docs/finance.md).

Capital and O&M costs are the optimiser's (``data/costs/defaults.toml`` under the scenario's
``[optimize]`` table); direct-line fees the fee schedule's (``data/fees``); finance terms
``data/finance/defaults.toml`` under a terms file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.dispatch.simulate import simulate
from greenlink.economics.fees import (
    FeeSchedule,
    capacity_price_in_effect,
    load_fee_schedule,
    no_fees,
    per_kwh_in_effect,
)
from greenlink.economics.finance import FinanceResult, Line, cash_flows
from greenlink.economics.finance_terms import FinanceTerms, load_terms
from greenlink.inputs import ParkInputs
from greenlink.scenario.load import LoadedScenario, load_scenario
from greenlink.summary import FinanceSummary
from greenlink.workflows.run import RunResult

Progress = Callable[[str], None]

#: Energy columns of the lifetime table (per operating year, kWh).
YEAR_ENERGY = (flows.GENERATION_KWH, flows.LOAD_KWH, flows.GREEN_TO_LOAD_KWH, flows.EXPORT_KWH,
               flows.CURTAILED_KWH, flows.IMPORT_KWH, flows.BATTERY_CHARGE_KWH,
               flows.BATTERY_DISCHARGE_KWH)


@dataclass(frozen=True)
class FinanceCase:
    """Everything a finance run produced: the lifetime table, the lines and the result."""

    run: RunResult
    terms: FinanceTerms
    lifetime: pd.DataFrame  # one row per operating year: factors, energy, money at year-1 prices
    lines: tuple[Line, ...]
    result: FinanceResult
    costs: dict[str, Any]
    fees_source: str
    sized_by_optimiser: bool

    def summary(self) -> FinanceSummary:
        return finance_summary(self)


# ------------------------------------------------------------------------------ lifetime energy
def capacity_factors(terms: FinanceTerms, battery_lifetime_years: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PV output factor, usable battery capacity factor (of nameplate) and the share of the
    nameplate bought back (augmentation or replacement) at the start of each year 1…N.

    PV: ``(1 − first-year loss)(1 − yearly loss)^(y − 1)``. Battery: linear fade; ``augment``
    restores the nameplate when the capacity would fall below the threshold, ``replace`` buys a
    new battery after each ``battery_lifetime_years``, ``none`` lets it fade.
    """
    d = terms.degradation
    n = terms.project_life_years
    years = np.arange(1, n + 1)
    pv = (1.0 - d.pv_first_year) * (1.0 - d.pv_per_year) ** (years - 1)
    battery = np.zeros(n)
    bought = np.zeros(n)
    age = 0  # full years since the battery (or its last restoration) started
    for i in range(n):
        level = max(0.0, 1.0 - d.battery_fade_per_year * age)
        if d.battery_strategy == "augment" and level < d.battery_augment_below and i > 0:
            bought[i], level, age = 1.0 - level, 1.0, 0
        elif (d.battery_strategy == "replace" and i > 0 and battery_lifetime_years > 0
              and i % battery_lifetime_years == 0):
            bought[i], level, age = 1.0, 1.0, 0
        battery[i] = level
        age += 1
    return pv, battery, bought


def _year_inputs(inputs: ParkInputs, pv_factor: float, battery_factor: float) -> ParkInputs:
    sc = inputs.scenario
    pv_ids = {p.id for p in sc.pv}
    generation = {k: (v * pv_factor if k in pv_ids else v)
                  for k, v in inputs.generation_kwh.items()}
    batteries = [b.model_copy(update={"energy_kwh": max(b.energy_kwh * battery_factor, 1e-6)})
                 for b in sc.batteries]
    return dataclasses.replace(inputs, scenario=sc.model_copy(update={"batteries": batteries}),
                               generation_kwh=generation)


def _fees_per_year(table: pd.DataFrame, inputs: ParkInputs, schedule: FeeSchedule,
                   year: int) -> float:
    """Direct-line fees of one operating year (as of the same months ``year − 1`` years on)."""
    sc = inputs.scenario
    index = pd.DatetimeIndex(table.index)
    months = index.month.to_numpy()
    bases = {flows.USER_GRID_KWH: sum(table[flows.user_grid(u)].to_numpy() for u in sc.user_ids),
             flows.USER_LOAD_KWH: sum(table[flows.user_load(u)].to_numpy() for u in sc.user_ids),
             flows.USER_GREEN_KWH: sum(table[flows.user_green(u)].to_numpy()
                                       for u in sc.user_ids)}
    total = 0.0
    for m in range(1, 13):
        mask = months == m
        if not mask.any():
            continue
        as_of = date(sc.time.year + year - 1, m, 1)
        for base, price in per_kwh_in_effect(schedule, as_of).items():
            total += float(price) * float(np.sum(np.asarray(bases[base])[mask]))
        total += float(capacity_price_in_effect(schedule, as_of)) * sc.grid.connection_capacity_kw
    return total


def lifetime_table(inputs: ParkInputs, terms: FinanceTerms, schedule: FeeSchedule,
                   battery_lifetime_years: int, progress: Progress | None = None
                   ) -> pd.DataFrame:
    """Each operating year re-dispatched with degraded plants: energy [kWh] and money at year-1
    prices (savings on grid purchases, export revenue, direct-line fees)."""
    say = progress or (lambda _m: None)
    pv, battery, bought = capacity_factors(terms, battery_lifetime_years)
    sc = inputs.scenario
    prices = inputs.price_per_kwh
    load_cost = float(np.dot(inputs.load_kwh.sum(axis=1), prices))
    rows = []
    cache: dict[tuple[float, float], tuple[dict[str, float], pd.DataFrame]] = {}
    say(f"re-dispatching {terms.project_life_years} operating years")
    for i in range(terms.project_life_years):
        key = (float(pv[i]), float(battery[i]))
        if key not in cache:
            table = simulate(_year_inputs(inputs, float(pv[i]), float(battery[i])))
            sums = {c: float(table[c].sum()) for c in YEAR_ENERGY}
            sums["savings"] = load_cost - float(np.dot(table[flows.IMPORT_KWH].to_numpy(),
                                                       prices))
            sums["export_revenue"] = sums[flows.EXPORT_KWH] * sc.tariff.export_price_per_kwh
            cache[key] = (sums, table)
        sums, table = cache[key]
        rows.append({"year": i + 1, "pv_factor": pv[i], "battery_factor": battery[i],
                     "battery_bought_share": bought[i], **sums,
                     "fees": _fees_per_year(table, inputs, schedule, i + 1)})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ money lines
def _sizes(inputs: ParkInputs) -> dict[str, float]:
    sc = inputs.scenario
    return {"pv_kw_dc": float(sum(p.capacity_kw_dc for p in sc.pv)),
            "wind_kw": float(sum(w.capacity_kw for w in sc.wind)),
            "battery_kwh": float(sum(b.energy_kwh for b in sc.batteries)),
            "battery_kw": float(sum(b.power_kw for b in sc.batteries))}


def money_lines(lifetime: pd.DataFrame, sizes: dict[str, float], costs: dict[str, Any],
                terms: FinanceTerms) -> tuple[Line, ...]:
    """The finance case's lines over years 0…N at year-1 prices."""
    n = terms.project_life_years
    esc, tax, deg = terms.escalation, terms.tax, terms.degradation

    def yearly(values: np.ndarray | float) -> np.ndarray:
        out = np.zeros(n + 1)
        out[1:] = values
        return out

    def initial(amount: float) -> np.ndarray:
        out = np.zeros(n + 1)
        out[0] = amount
        return out

    pv, wind, bat = costs["pv"], costs["wind"], costs["battery"]
    battery_capex = (sizes["battery_kwh"] * bat["capex_per_kwh"]
                     + sizes["battery_kw"] * bat["capex_per_kw"])
    years = np.arange(1, n + 1)
    real_change = (1.0 + deg.battery_cost_change_per_year) ** (years - 1)
    # replacement buys energy and power; augmentation buys energy (modules) only
    per_bought = (battery_capex if deg.battery_strategy == "replace"
                  else sizes["battery_kwh"] * bat["capex_per_kwh"])
    bought = lifetime["battery_bought_share"].to_numpy() * per_bought * real_change
    generation = ("generation", "green_supply")
    storage = ("battery", "green_supply")
    lines = [
        Line("capex_pv", "capex", initial(sizes["pv_kw_dc"] * pv["capex_per_kw_dc"]),
             groups=generation, depreciation_years=tax.depreciation_years),
        Line("capex_wind", "capex", initial(sizes["wind_kw"] * wind["capex_per_kw"]),
             groups=generation, depreciation_years=tax.depreciation_years),
        Line("capex_battery", "capex", initial(battery_capex), groups=storage,
             depreciation_years=tax.battery_depreciation_years),
        Line("capex_other", "capex", initial(terms.other_capex),
             depreciation_years=tax.depreciation_years),
        Line("capex_battery_augmentation", "capex", yearly(bought), escalation=terms.inflation,
             groups=storage, depreciation_years=tax.battery_depreciation_years),
        Line("savings", "revenue", yearly(lifetime["savings"].to_numpy()),
             escalation=esc.tariff),
        Line("export_revenue", "revenue", yearly(lifetime["export_revenue"].to_numpy()),
             escalation=esc.export_price),
        Line("direct_line_fees", "opex", yearly(lifetime["fees"].to_numpy()),
             escalation=esc.fees),
        Line("om_pv", "opex", yearly(sizes["pv_kw_dc"] * pv["fixed_om_per_kw_year"]),
             escalation=esc.om, groups=generation),
        Line("om_wind", "opex", yearly(sizes["wind_kw"] * wind["fixed_om_per_kw_year"]),
             escalation=esc.om, groups=generation),
        Line("om_battery", "opex", yearly(sizes["battery_kw"] * bat["fixed_om_per_kw_year"]
                                          + lifetime[flows.BATTERY_DISCHARGE_KWH].to_numpy()
                                          * bat["variable_om_per_kwh"]),
             escalation=esc.om, groups=storage),
    ]
    return tuple(line for line in lines if np.any(line.base != 0))


def _energy_groups(lifetime: pd.DataFrame, n: int) -> dict[str, np.ndarray]:
    def yearly(values: np.ndarray) -> np.ndarray:
        out = np.zeros(n + 1)
        out[1:] = values
        return out

    col = lambda name: lifetime[name].to_numpy()  # noqa: E731
    return {"green_supply": yearly(col(flows.GREEN_TO_LOAD_KWH) + col(flows.EXPORT_KWH)),
            "generation": yearly(col(flows.GENERATION_KWH) - col(flows.CURTAILED_KWH)),
            "battery": yearly(col(flows.BATTERY_DISCHARGE_KWH))}


# ------------------------------------------------------------------------------ the workflow
def fee_schedule_for(inputs: ParkInputs) -> FeeSchedule:
    """The fee schedule the optimiser uses: the scenario's choice, else the province's."""
    sc = inputs.scenario
    choice = sc.optimize.fees if sc.optimize is not None else "schedule"
    if choice == "none":
        return no_fees(sc.tariff.currency)
    if choice == "schedule":
        return load_fee_schedule(sc.site.province or None)
    base = inputs.source.parent if inputs.source is not None else Path.cwd()
    return load_fee_schedule(path=base / choice)


def finance_case(run: RunResult, terms: FinanceTerms, *, sized_by_optimiser: bool = False,
                 progress: Progress | None = None) -> FinanceCase:
    """The lifetime finance of a run (its inputs carry the sizes; simulated or optimised)."""
    from greenlink.optimize.costs import resolve_costs

    inputs = run.inputs
    costs = resolve_costs(inputs.scenario.optimize).raw
    schedule = fee_schedule_for(inputs)
    lifetime = lifetime_table(inputs, terms, schedule,
                              int(costs["lifetimes_years"]["battery"]), progress)
    lines = money_lines(lifetime, _sizes(inputs), costs, terms)
    result = cash_flows(lines, terms.terms(),
                        _energy_groups(lifetime, terms.project_life_years))
    fees, value = lifetime["fees"].to_numpy(), lifetime["savings"].to_numpy()
    if value.max(initial=0.0) > 0 and fees.max(initial=0.0) > 0.25 * value.max(initial=0.0):
        share = fees.max() / value.max()
        result = dataclasses.replace(result, notes=(*result.notes, (
            f"the direct-line fees ({Path(schedule.file).name}) reach {share:.0%} of the "
            "yearly savings on grid purchases; check their values (the shipped ones are marked "
            "UNVERIFIED in data/fees/SOURCES.md) and whether the tariff already carries the "
            "same charges")))
    return FinanceCase(run=run, terms=terms, lifetime=lifetime, lines=lines, result=result,
                       costs=costs,
                       fees_source=Path(schedule.file).name if schedule.file else "none",
                       sized_by_optimiser=sized_by_optimiser)


def run_finance(source: str | Path | LoadedScenario, *, terms_file: str | Path | None = None,
                optimise: bool = False, progress: Progress | None = None,
                ruleset: str | None = None) -> FinanceCase:
    """Simulate (or optimise) a scenario and compute its lifetime finance (nothing written)."""
    say = progress or (lambda _m: None)
    terms = load_terms(terms_file)
    loaded = source if isinstance(source, LoadedScenario) else load_scenario(source)
    if optimise:
        from greenlink.workflows.optimise import optimize_scenario

        opt = optimize_scenario(loaded, progress=say, ruleset=ruleset)
        assert opt.run is not None  # the optimise workflow always assesses its optimum
        run = opt.run
    else:
        from greenlink.workflows.run import run_scenario

        run = run_scenario(loaded, progress=say, ruleset=ruleset)
    case = finance_case(run, terms, sized_by_optimiser=optimise, progress=say)
    summary = run.summary.model_copy(update={"finance": case.summary()})
    return dataclasses.replace(case, run=dataclasses.replace(run, summary=summary))


def finance_summary(case: FinanceCase) -> FinanceSummary:
    r = case.result
    t = case.terms
    lcoe = r.lcoe
    first = case.lifetime.iloc[0]
    return FinanceSummary(
        currency=case.run.inputs.scenario.tariff.currency,
        project_life_years=t.project_life_years,
        discount_rate_nominal=r.discount_rate, real_discount_rate=t.real_discount_rate,
        inflation=t.inflation,
        sized_by_optimiser=case.sized_by_optimiser,
        initial_capex=float(r.table["capex"].iloc[0]),
        npv_project=r.npv_project, npv_equity=r.npv_equity,
        irr_project=r.irr_project, irr_equity=r.irr_equity,
        payback_years=r.payback_years, discounted_payback_years=r.discounted_payback_years,
        lcoe_green_supply_nominal_per_kwh=lcoe.get("green_supply_nominal_per_kwh"),
        lcoe_green_supply_real_per_kwh=lcoe.get("green_supply_real_per_kwh"),
        lcoe_generation_nominal_per_kwh=lcoe.get("generation_nominal_per_kwh"),
        lcos_nominal_per_kwh=lcoe.get("battery_nominal_per_kwh"),
        lcos_real_per_kwh=lcoe.get("battery_real_per_kwh"),
        debt_amount=r.debt_amount, min_dscr=r.min_dscr, mean_dscr=r.mean_dscr,
        year1_savings=float(first["savings"]), year1_export_revenue=float(first["export_revenue"]),
        year1_fees=float(first["fees"]),
        fees_source=case.fees_source,
        terms=t.model_dump(mode="json"),
        notes=r.notes,
        yearly=[{k: v for k, v in row.items()} for row in _yearly_records(case)],
    )


_YEARLY_KEYS = ("year", "revenue", "opex", "ebitda", "capex", "depreciation", "tax_project",
                "cash_flow_project", "cumulative_project", "debt_service", "cfads", "dscr",
                "cash_flow_equity")


def _yearly_records(case: FinanceCase) -> list[dict[str, Any]]:
    table = case.result.table
    return [{k: row[k] for k in _YEARLY_KEYS} for row in table.to_dict("records")]


def yearly_table(case: FinanceCase) -> pd.DataFrame:
    """The whole yearly table: money lines and totals, joined with the lifetime energy."""
    energy = case.lifetime.drop(columns=["savings", "export_revenue", "fees"])
    return case.result.table.merge(energy, on="year", how="left")


def write_finance(case: FinanceCase, out_dir: str | Path, progress: Progress | None = None,
                  report: bool = True) -> dict[str, Path]:
    """The run's files (flows, summary.json with ``finance``, report.html with a finance
    section) plus ``finance.json`` and ``finance.xlsx``."""
    from greenlink.jsonio import write_json
    from greenlink.report.finance import write_finance_xlsx
    from greenlink.workflows.run import write_outputs

    out = Path(out_dir)
    summary = case.summary()
    run = case.run
    if run.summary.finance is None:  # the report draws its finance section from the summary
        run = dataclasses.replace(run, summary=run.summary.model_copy(update={"finance": summary}))
    written = write_outputs(run, out, progress=progress, report=report)
    data = {**summary.model_dump(mode="json"), "yearly": yearly_table(case)}
    written["finance.json"] = write_json(out / "finance.json", data)
    written["finance.xlsx"] = write_finance_xlsx(out / "finance.xlsx", summary,
                                                 yearly_table(case))
    # report.html has the "Lifetime finance" section: the run's summary carries ``finance``
    return written
