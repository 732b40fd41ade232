"""Model-ready arrays for the optimiser, and the rules and targets it must meet.

:func:`optimization_inputs` turns :class:`greenlink.inputs.ParkInputs` (generation modelled at the
scenario's capacities) into per-kW generation profiles, bounds, prices and a list of
:class:`Requirement` (one per applicable ratio rule of the rule set, scope and period, and one per
user target).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.economics.fees import (
    FeeBase,
    FeeSchedule,
    capacity_price_in_effect,
    load_fee_schedule,
    no_fees,
)
from greenlink.errors import InputError, Problem
from greenlink.inputs import ParkInputs
from greenlink.optimize.costs import CostParameters, resolve_costs
from greenlink.policy.applicable import applicable_rules, scenario_check_date, scenario_ruleset
from greenlink.policy.kpis import KpiReadings
from greenlink.policy.ruleset import RuleSet
from greenlink.scenario.model import Battery
from greenlink.scenario.optimization import OptimizationSpec

#: Ratio KPIs the optimiser can impose as linear constraints.
LINEAR_METRICS = ("self_use_share_of_generation", "green_share_of_consumption",
                  "physically_delivered_share", "export_share_of_generation",
                  "annual_matched_share", "hourly_matched_share")


@dataclass(frozen=True)
class Requirement:
    """``metric(scope, period) operator threshold``, a rule of the rule set or a user target.

    ``mask`` selects the intervals of the period (a year or a calendar month).
    """

    id: str
    origin: str  # "rule" or "target"
    metric: str
    operator: str  # ">=" or "<="
    threshold: float
    scope: str  # "park" or a user id
    period: str
    mask: np.ndarray


@dataclass(frozen=True)
class FeeArrays:
    """The direct-line fees of one fee schedule on the optimiser's intervals: what settlement
    bills (:func:`greenlink.economics.settlement.settle`), month by month.

    Attributes
    ----------
    schedule : the fee schedule (``economics.fees``); its ``file`` names the source
    energy : per energy fee ``(id, name, base, price per kWh per interval)``; the price is 0 in
        months before the fee is in effect (judged at the month's first day, as settlement)
    capacity : (T,) the T&D capacity charge, each month's ``price × connection capacity``
        spread evenly over the month's hours (a whole month adds up to its charge)
    """

    schedule: FeeSchedule
    energy: tuple[tuple[str, str, FeeBase, np.ndarray], ...]
    capacity: np.ndarray

    def per_kwh(self, base: FeeBase) -> np.ndarray:
        """(T,) sum of the per-kWh fees on ``base`` (grid_kwh, load_kwh or green_kwh)."""
        total = np.zeros(len(self.capacity))
        for _id, _name, b, price in self.energy:
            if b == base:
                total = total + price
        return total

    def to_dict(self) -> dict[str, object]:
        """Source and prices, for ``optimization.json``."""
        return {"source": Path(self.schedule.file).name, "province": self.schedule.province,
                "energy_fees": [{"id": i, "name": n, "base": b,
                                 "price_per_kwh_max": float(p.max(initial=0.0))}
                                for i, n, b, p in self.energy],
                "td_capacity_charge": float(self.capacity.sum())}


def fee_schedule_for(park: ParkInputs, choice: str) -> FeeSchedule:
    """The fee schedule of ``optimize.fees``: ``"schedule"`` (the one settlement bills by
    default: the park's province), ``"none"``, or a fee TOML file (relative to the scenario)."""
    sc = park.scenario
    currency = sc.tariff.currency
    if choice == "none":
        return no_fees(currency)
    if choice == "schedule":
        schedule = load_fee_schedule(sc.site.province or None)
    else:
        path = Path(choice)
        if not path.is_absolute() and park.source is not None:
            path = park.source.parent / path
        schedule = load_fee_schedule(path=path)
    if schedule.currency != currency:
        raise InputError(Problem(f"fee schedule is in {schedule.currency}, the tariff in "
                                 f"{currency}", file=schedule.file, location="currency",
                                 expected=currency))
    return schedule


def fee_arrays(schedule: FeeSchedule, index: pd.DatetimeIndex, interval_hours: float,
               connection_capacity_kw: float) -> FeeArrays:
    """Per-interval fee prices and capacity charge of ``schedule`` over ``index`` (tz-aware).

    Each month is judged at its first day, as settlement judges it by default.
    """
    tz = index.tz
    months = index.tz_localize(None).to_period("M")
    energy = [np.zeros(len(index)) for _ in schedule.energy_fees]
    capacity = np.zeros(len(index))
    for period in months.unique():
        mask = np.asarray(months == period)
        as_of = period.start_time.date()
        for price, fee in zip(energy, schedule.energy_fees, strict=True):
            if fee.in_effect(as_of):
                price[mask] = float(fee.price_per_kwh)
        start = pd.Timestamp(period.start_time).tz_localize(tz)
        end = pd.Timestamp((period + 1).start_time).tz_localize(tz)
        month_hours = (end - start) / pd.Timedelta(hours=1)
        per_kw = float(capacity_price_in_effect(schedule, as_of))
        capacity[mask] = per_kw * connection_capacity_kw * interval_hours / month_hours
    return FeeArrays(schedule, tuple((f.id, f.name, f.base, p) for f, p in
                                     zip(schedule.energy_fees, energy, strict=True)), capacity)


@dataclass(frozen=True)
class BatteryCandidate:
    """One battery the optimiser sizes: the scenario's parameters (efficiencies, state-of-charge
    window, ``grid_charging``) and the bounds of its energy (kWh) and power (kW).

    ``key`` names the scenario key of its upper bounds (for the words of what binds).
    """

    spec: Battery
    min_kwh: float
    max_kwh: float
    min_kw: float
    max_kw: float

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def window(self) -> float:
        """Usable share of the energy, ``σ_max − σ_min``."""
        return float(self.spec.soc_max - self.spec.soc_min)


@dataclass(frozen=True)
class OptimizationInputs:
    """Everything the LP needs, as arrays (energy in kWh per interval, power in kW).

    Attributes
    ----------
    pv_kwh_per_kw : (P, T) available PV energy per kWp of each candidate plant
    pv_max_kw, pv_min_kw : (P,) bounds of each plant's capacity, kWp
    wind_kwh_per_kw : (W, T); wind_max_kw, wind_min_kw : (W,)
    load_kwh : (T, U) per user
    batteries : the batteries to size, each with its own parameters and bounds
    price_per_kwh : (T,) import price incl. the fees on grid energy and the carbon cost
    tariff_price_per_kwh : (T,) the tariff alone
    cheap : (T,) the tariff's cheapest period, where grid charging is allowed
    fees : the direct-line fees per interval (:class:`FeeArrays`)
    demand_charge_per_kw_month : the tariff's charge on each month's peak import
    period_fraction : modelled time ÷ one year (scales annual costs for short runs)
    hour_of_interval : (T,) index of the clock hour of each interval
    month_of_interval : (T,) 0-based month number of each interval
    per_user : one column per user (only where a rule or target is per user and the
        allocation method is not pro rata: pro rata gives every user ``L_tu / L_t`` of the
        park's green energy in every interval, so the park columns are exact)
    dispatch : ``realizable`` or ``relaxed`` (``optimize.dispatch``)
    """

    park: ParkInputs
    dt_h: float
    load_kwh: np.ndarray
    pv_ids: tuple[str, ...]
    pv_kwh_per_kw: np.ndarray
    pv_min_kw: np.ndarray
    pv_max_kw: np.ndarray
    wind_ids: tuple[str, ...]
    wind_kwh_per_kw: np.ndarray
    wind_min_kw: np.ndarray
    wind_max_kw: np.ndarray
    batteries: tuple[BatteryCandidate, ...]
    tariff_price_per_kwh: np.ndarray
    price_per_kwh: np.ndarray
    cheap: np.ndarray
    export_price_per_kwh: float
    export_cap_kwh: float
    import_limit_kwh: float
    costs: CostParameters
    fees: FeeArrays
    demand_charge_per_kw_month: float
    grid_ef_t_per_kwh: float
    readings: KpiReadings
    requirements: tuple[Requirement, ...]
    structural_notes: tuple[str, ...]
    period_fraction: float
    hour_of_interval: np.ndarray
    month_of_interval: np.ndarray
    per_user: bool
    dispatch: str = "realizable"
    gap_tolerance: float = 0.005

    @property
    def n_intervals(self) -> int:
        return int(self.load_kwh.shape[0])

    @property
    def user_ids(self) -> list[str]:
        return self.park.scenario.user_ids

    @property
    def park_load_kwh(self) -> np.ndarray:
        """(T,) the park's load."""
        return np.asarray(self.load_kwh.sum(axis=1))

    @property
    def user_share(self) -> np.ndarray:
        """(T, U) each user's share of the interval's park load (0 where the park has none)."""
        total = self.park_load_kwh[:, None]
        return np.divide(self.load_kwh, total, out=np.zeros_like(self.load_kwh),
                         where=total > 1e-12)

    @property
    def sized_generation(self) -> bool:
        """Some PV or wind capacity is a decision (its bounds differ)."""
        return bool(np.any(self.pv_max_kw - self.pv_min_kw > 1e-9)
                    or np.any(self.wind_max_kw - self.wind_min_kw > 1e-9))

    def generation_kwh(self, pv_kw: np.ndarray, wind_kw: np.ndarray) -> np.ndarray:
        """(T,) available generation at the given capacities (summed without BLAS, whose
        threads would spin beside the one-thread solver)."""
        gen = np.zeros(self.n_intervals)
        if len(pv_kw):
            gen = gen + np.einsum("k,kt->t", np.asarray(pv_kw, dtype=float),
                                   self.pv_kwh_per_kw)
        if len(wind_kw):
            gen = gen + np.einsum("k,kt->t", np.asarray(wind_kw, dtype=float),
                                   self.wind_kwh_per_kw)
        return gen


def active_ruleset(park: ParkInputs, ruleset: str | None = None) -> RuleSet:
    """The scenario's rule set (or the given one) with the scenario's parameter what-ifs."""
    return scenario_ruleset(park.scenario, park.source, ruleset)


def _period_masks(index: pd.DatetimeIndex, period: str) -> list[tuple[str, np.ndarray]]:
    if period == "year":
        return [(f"{index[0].year:04d}", np.ones(len(index), dtype=bool))]
    labels = np.array([f"{y:04d}-{m:02d}" for y, m in zip(index.year, index.month, strict=True)])
    return [(lab, labels == lab) for lab in dict.fromkeys(labels)]


def rule_requirements(park: ParkInputs, rules: RuleSet, selection: str | list[str] = "all"
                      ) -> tuple[list[Requirement], list[str], KpiReadings, dict[str, object]]:
    """Applicable ratio rules as requirements; structural facts that bind the LP.

    Returns
    -------
    (requirements, notes, readings, structural) where ``structural`` holds
    ``{"no_export": bool, "export_limit_kw": float | None, "no_import": bool}`` forced by
    applicable structural rules, and ``notes`` says what was imposed or left to the check.
    """
    applicable = applicable_rules(
        rules, scenario_check_date(park.scenario, park.index[-1].date(), rules))
    readings = applicable.readings
    reqs: list[Requirement] = []
    notes: list[str] = []
    structural: dict[str, object] = {"no_export": False, "export_limit_kw": None,
                                     "no_import": False}
    if selection == "none":
        return reqs, ["rule constraints switched off (optimize.rules = 'none')"], readings, \
            structural
    wanted = None if selection == "all" else set(selection)
    if wanted is not None:
        unknown = sorted(wanted - {r.id for r in rules.rules})
        if unknown:
            raise InputError(Problem(f"optimize.rules names unknown rules {unknown}",
                                     location="optimize.rules",
                                     expected="ids of rule set " + rules.id + ": "
                                     + ", ".join(r.id for r in rules.rules)))
    users = park.scenario.user_ids
    for rule in rules.rules:
        if wanted is not None and rule.id not in wanted:
            continue
        if applicable.reason(rule) is not None:
            continue
        value = rule.threshold
        if rule.metric == "reverse_flow_allowed" and value is False:
            structural["no_export"] = True
            notes.append(f"{rule.id}: no export (reverse flow not allowed)")
        elif rule.metric == "grid_export_limit_kw" and rule.operator == "<=":
            structural["export_limit_kw"] = float(value)
            notes.append(f"{rule.id}: export capacity ≤ {float(value):g} kW")
        elif rule.metric == "grid_import_limit_kw" and rule.operator == "<=" and value == 0:
            structural["no_import"] = True
            notes.append(f"{rule.id}: no import")
        elif rule.metric in LINEAR_METRICS and rule.operator in (">=", "<="):
            scopes = ["park"] if rule.scope == "park" else users
            for label, mask in _period_masks(park.index, rule.period):
                for scope in scopes:
                    reqs.append(Requirement(rule.id, "rule", rule.metric, rule.operator,
                                            float(value), scope, label, mask))
        else:
            notes.append(f"{rule.id}: {rule.metric} is not a decision of the optimiser "
                         "(checked on the result)")
    return reqs, notes, readings, structural


def target_requirements(park: ParkInputs, spec: OptimizationSpec) -> list[Requirement]:
    """User targets as requirements over the year."""
    year = f"{park.index[0].year:04d}"
    mask = np.ones(len(park.index), dtype=bool)
    return [Requirement(f"target_{t.scope}_{t.metric}", "target", t.metric, ">=", float(t.min),
                        t.scope, year, mask) for t in spec.targets]


def _per_kw(park: ParkInputs, plant_id: str, capacity_kw: float) -> np.ndarray:
    return np.asarray(park.generation_kwh[plant_id], dtype=float) / capacity_kw


def _bound(value: float | dict[str, float] | None, battery_id: str) -> float | None:
    if isinstance(value, dict):
        return value.get(battery_id)
    return value


def battery_candidates(park: ParkInputs, spec: OptimizationSpec) -> tuple[BatteryCandidate, ...]:
    """Every battery of the scenario as a candidate with its own parameters and bounds.

    Without a ``[[batteries]]`` entry a default battery (95 % efficiencies, 5–95 % window) is a
    candidate when ``optimize.battery.max_energy_kwh`` is given. A bound left out is 10 h (energy)
    or twice (power) the peak load, or the battery's own size where that is larger.
    """
    sc = park.scenario
    load = np.asarray(park.load_kwh, dtype=float)
    peak_kw = float(load.sum(axis=1).max() / park.interval_hours) if len(load) else 0.0
    specs = list(sc.batteries)
    if not specs:
        given = spec.battery.max_energy_kwh
        if not given or (isinstance(given, dict) and not any(given.values())):
            return ()
        specs = [Battery(id="battery", energy_kwh=1.0, power_kw=1.0)]
    out = []
    for bat in specs:
        e_max = _bound(spec.battery.max_energy_kwh, bat.id)
        p_max = _bound(spec.battery.max_power_kw, bat.id)
        e_max = max(10.0 * peak_kw, bat.energy_kwh) if e_max is None else float(e_max)
        p_max = max(2.0 * peak_kw, bat.power_kw) if p_max is None else float(p_max)
        if e_max > 0 and p_max > 0:
            out.append(BatteryCandidate(spec=bat, min_kwh=0.0, max_kwh=e_max, min_kw=0.0,
                                        max_kw=p_max))
    return tuple(out)


def optimization_inputs(park: ParkInputs, ruleset: str | None = None) -> OptimizationInputs:
    """Build the optimiser's arrays from the simulation inputs.

    PV output is linear in the DC capacity at a fixed DC/AC ratio, so the generation modelled at
    ``capacity_kw_dc`` divided by it is the profile per kWp. A plant's bound is
    ``max_capacity_kw_dc`` (its current capacity where none is given).
    """
    from greenlink.carbon.factors import grid_factor

    sc = park.scenario
    spec = sc.optimize or OptimizationSpec()
    costs = resolve_costs(spec)
    n_t = len(park.index)
    dt = park.interval_hours
    pv_ids = tuple(p.id for p in sc.pv)
    pv = np.array([_per_kw(park, p.id, p.capacity_kw_dc) for p in sc.pv]).reshape(len(pv_ids), n_t)
    pv_max = np.array([p.max_capacity_kw_dc or p.capacity_kw_dc for p in sc.pv])
    wind_ids = tuple(w.id for w in sc.wind)
    wind = np.array([_per_kw(park, w.id, w.capacity_kw) for w in sc.wind]).reshape(
        len(wind_ids), n_t)
    wind_max = np.array([spec.wind.max_capacity_kw.get(w.id, w.capacity_kw) for w in sc.wind])
    wind_min = np.array([0.0 if w.id in spec.wind.max_capacity_kw else w.capacity_kw
                         for w in sc.wind])
    load = np.asarray(park.load_kwh, dtype=float)

    rules = active_ruleset(park, ruleset)
    reqs, notes, readings, structural = rule_requirements(park, rules, spec.rules)
    reqs += target_requirements(park, spec)
    each_user = any(r.scope != "park" for r in reqs) and load.shape[1] > 1 \
        and sc.allocation.method != "pro_rata"

    grid = sc.grid
    export_kw = grid.export_limit_kw if grid.reverse_flow_allowed else 0.0
    if structural["no_export"]:
        export_kw = 0.0
    if structural["export_limit_kw"] is not None:
        export_kw = min(export_kw, float(structural["export_limit_kw"]))  # type: ignore[arg-type]
    import_kw = 0.0 if structural["no_import"] else grid.import_limit_kw

    ef = 0.0
    if costs.carbon_price_per_t > 0:
        ef = grid_factor(province=sc.site.province or None,
                         year=sc.carbon.grid_factor_year).ef_t_per_mwh / 1000.0
    tariff = np.asarray(park.price_per_kwh, dtype=float)
    fees = fee_arrays(fee_schedule_for(park, spec.fees), park.index, dt,
                      float(grid.connection_capacity_kw))
    price = tariff + fees.per_kwh(flows.USER_GRID_KWH) + costs.carbon_price_per_t * ef
    cheap = np.isclose(tariff, tariff.min()) if n_t else np.zeros(0, dtype=bool)
    hours = flows.hour_key(park.index)  # the KPI module's local clock hours
    _, hour_of = np.unique(hours.asi8, return_inverse=True)
    year_hours = 8784.0 if pd.Timestamp(year=park.index[0].year, month=12, day=31).day_of_year \
        == 366 else 8760.0
    return OptimizationInputs(
        park=park, dt_h=dt, load_kwh=load, pv_ids=pv_ids, pv_kwh_per_kw=pv,
        pv_min_kw=np.zeros(len(pv_ids)), pv_max_kw=pv_max, wind_ids=wind_ids,
        wind_kwh_per_kw=wind, wind_min_kw=wind_min, wind_max_kw=wind_max,
        batteries=battery_candidates(park, spec),
        tariff_price_per_kwh=tariff, price_per_kwh=price, cheap=cheap,
        export_price_per_kwh=float(sc.tariff.export_price_per_kwh),
        export_cap_kwh=float(export_kw) * dt, import_limit_kwh=float(import_kw) * dt,
        costs=costs, fees=fees,
        demand_charge_per_kw_month=float(sc.tariff.demand_charge_per_kw_month),
        grid_ef_t_per_kwh=ef, readings=readings, requirements=tuple(reqs),
        structural_notes=tuple(notes), period_fraction=n_t * dt / year_hours,
        hour_of_interval=hour_of.astype(np.int64),
        month_of_interval=(park.index.month.to_numpy() - 1).astype(np.int64),
        per_user=each_user, dispatch=spec.dispatch, gap_tolerance=float(spec.gap_tolerance))
