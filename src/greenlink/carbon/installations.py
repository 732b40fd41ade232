"""An installation's CBAM accounts from the scenario and the hourly flows.

Ties the pieces together: per process electricity (sub-meter or allocation key on the user's
metered consumption), its hourly-matched green part, the grid factor, the route decision
(:mod:`greenlink.carbon.emission_factor_routes`), specific embedded emissions
(:mod:`greenlink.carbon.embedded`), batches and shipments (:mod:`greenlink.carbon.batches`) and
the liability (:mod:`greenlink.carbon.liability`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from greenlink import flows
from greenlink.carbon import batches as _batches
from greenlink.carbon.embedded import GoodSee, installation_see, round_see, see_difference
from greenlink.carbon.emission_factor_routes import (
    ContractClaim,
    EfDecision,
    GridFactor,
    accepted_evidence,
    contract_key,
    decide_factor,
    share_contracts,
)
from greenlink.carbon.factors import grid_factor
from greenlink.carbon.liability import (
    ImporterMass,
    PriceAssumptions,
    importer_masses,
    price_assumptions,
    shipment_liability,
)
from greenlink.errors import InputError, Problem
from greenlink.scenario.installations import Installation


@dataclass(frozen=True)
class InstallationAccounts:
    """Everything computed for one installation over the flows period."""

    installation: Installation
    grid: GridFactor
    electricity_mwh: dict[str, float]
    green_mwh: dict[str, float]
    line_share: dict[str, float]
    decisions: dict[str, EfDecision]
    decisions_grid_only: dict[str, EfDecision]
    see: dict[str, GoodSee]
    see_grid_only: dict[str, GoodSee]
    batches: pd.DataFrame | None
    shipments: pd.DataFrame | None
    liability: pd.DataFrame | None
    prices: PriceAssumptions
    period_start: pd.Timestamp | None = None
    period_end: pd.Timestamp | None = None
    importer_mass: ImporterMass | None = None

    @property
    def period_label(self) -> str:
        """The reporting period as text (``2025-01-01 – 2026-01-01``, end exclusive)."""
        if self.period_start is None or self.period_end is None:
            return "the flows period"
        return f"{self.period_start:%Y-%m-%d} – {self.period_end:%Y-%m-%d}"


def find_installation(scenario: Any, installation_id: str) -> Installation:
    """The installation with this id, or an :class:`InputError` listing the known ids."""
    for inst in getattr(scenario, "installations", []):
        if inst.id == installation_id:
            return inst
    known = ", ".join(i.id for i in getattr(scenario, "installations", [])) or "none"
    raise InputError(Problem(f"unknown installation {installation_id!r}",
                             location="installations", expected=f"one of: {known}"))


def grid_for(installation: Installation, province: str | None, year: int | None) -> GridFactor:
    """The installation's grid factor: the user's value, else the MEE provincial factor."""
    if installation.grid_factor is not None:
        g = installation.grid_factor
        return GridFactor(g.ef_t_per_mwh, g.source, "D.4(a)" if g.commission_default else "D.4(b)")
    f = grid_factor(province=province or None, year=year)
    return GridFactor(f.ef_t_per_mwh, f"{f.source} (other publicly available data; the "
                      "Commission's Annex II value for China was not retrieved)", "D.4(b)")


def process_electricity(installation: Installation, table: pd.DataFrame
                        ) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Per process: electricity MWh, hourly-matched green MWh, and share of the user's load.

    A sub-metered process keeps its metered total; its share of the user's load (for batches and
    the green part) is metered / user total. Otherwise ``electricity_share`` × the user's load.
    """
    user = installation.user
    col_load, col_green = flows.user_load(user), flows.user_green(user)
    if col_load not in table.columns:
        raise InputError(Problem(f"flows have no column {col_load}",
                                 location=f"installations.{installation.id}.user",
                                 expected="a user of the park"))
    load_mwh = float(table[col_load].sum()) / 1000.0
    green_mwh = float(table[col_green].sum()) / 1000.0
    el: dict[str, float] = {}
    share: dict[str, float] = {}
    for p in installation.processes:
        if p.electricity_mwh is not None:
            el[p.id] = float(p.electricity_mwh)
            share[p.id] = el[p.id] / load_mwh if load_mwh else 0.0
        elif p.electricity_share is not None:
            share[p.id] = float(p.electricity_share)
            el[p.id] = share[p.id] * load_mwh
        else:
            raise InputError(Problem(f"process {p.id} has neither a sub-meter total nor an "
                                     "allocation key", location=f"installations."
                                     f"{installation.id}.processes.{p.id}",
                                     expected="electricity_mwh or electricity_share"))
    total_share = sum(share.values())
    if total_share > 1.0 + 1e-9:
        raise InputError(Problem(f"processes of {installation.id} draw {total_share:.3f} of the "
                                 f"user's consumption", location=f"installations."
                                 f"{installation.id}.processes",
                                 expected="shares (and sub-meter totals) adding up to at most 1"))
    green = {pid: share[pid] * green_mwh for pid in share}
    return el, green, share


def contract_claims(installation: Installation, green_mwh: Mapping[str, float],
                    interval_minutes: float = 60.0) -> list[ContractClaim]:
    """Every process of the installation that draws on a contract: the accepted evidence entry
    (:func:`~greenlink.carbon.emission_factor_routes.accepted_evidence`), its contract and the
    process's hourly-matched green MWh. Claimants are named ``<installation>/<process>``."""
    index, _ = accepted_evidence(installation.electricity_evidence, interval_minutes)
    if index is None:
        return []
    ev = installation.electricity_evidence[index]
    key = contract_key(ev)
    return [ContractClaim(f"{installation.id}/{p.id}", key, float(green_mwh[p.id]),
                          ev.offtake_contracted_mwh) for p in installation.processes]


def account(installation: Installation, table: pd.DataFrame, *, province: str | None = None,
            year: int | None = None, base_dir: Path | None = None, tz: str = "UTC",
            flows_metered: bool = False, prices: PriceAssumptions | None = None,
            interval_minutes: float = 60.0,
            contract_pool: Sequence[ContractClaim] | None = None,
            importer_mass: ImporterMass | None = None) -> InstallationAccounts:
    """Compute an installation's accounts over the flows period (see module docstring).

    ``table`` is the flows table (``interval_start`` as index or column, any zone; batches
    normalise it through :func:`greenlink.flows.normalise`); ``tz`` is the zone in which naive
    batch and shipment times are read. The flows period is the reporting period: every CBAM
    figure (SEE per process, shipments, liability) is the period value of the process.

    ``contract_pool`` lists every process of the scenario that draws on a contract
    (:func:`contract_claims` of each installation); the contract's deliverable MWh are shared
    among them (:func:`~greenlink.carbon.emission_factor_routes.share_contracts`). Default: the
    processes of this installation only. ``importer_mass``: each importer's net mass per year
    over every shipment of the scenario (de minimis, :func:`~greenlink.carbon.liability.
    importer_masses`); default: this installation's shipments only.
    """
    grid = grid_for(installation, province, year)
    el, green, share = process_electricity(installation, table)
    from greenlink.carbon.cbam_goods import classify
    own = contract_claims(installation, green, interval_minutes)
    pool = list(contract_pool) if contract_pool is not None else own
    shares = share_contracts(pool)
    claimants = {c.contract: sum(1 for o in pool if o.contract == c.contract) for c in pool}
    n_claimants = claimants.get(own[0].contract, 1) if own else 1
    decisions: dict[str, EfDecision] = {}
    grid_only: dict[str, EfDecision] = {}
    for p in installation.processes:
        annex_ii = not classify(p.cn_code, year=installation.reporting_year
                                ).indirect_emissions_counted
        who = f"{installation.id}/{p.id}"
        decisions[p.id] = decide_factor(el[p.id], green[p.id], grid,
                                        installation.electricity_evidence,
                                        data_interval_minutes=interval_minutes,
                                        flows_metered=flows_metered, annex_ii_good=annex_ii,
                                        contract_share_mwh=shares.get(who),
                                        contract_claimants=n_claimants)
        grid_only[p.id] = decide_factor(el[p.id], 0.0, grid, ())
    see = installation_see(installation, el, decisions)
    see_grid = installation_see(installation, el, grid_only)
    prices = prices or price_assumptions()
    batch_table = ship_table = liab = None
    if installation.batches_file:
        path = (base_dir or Path(".")) / installation.batches_file
        raw = _batches.read_batches(path, tz, sheet=installation.batches_sheet,
                                     decimal=installation.decimal)
        energy = _batches.batch_energy(raw, table, installation.user, share, file=str(path))
        batch_table = _batches.batch_footprints(
            energy, see, see_grid, grid.ef_t_per_mwh, source_factors(installation, decisions),
            claimable_ratio(decisions, green), effective_benchmarks(installation))
        if installation.shipments_file:
            spath = (base_dir or Path(".")) / installation.shipments_file
            ships = _batches.read_shipments(spath, tz, sheet=installation.shipments_sheet,
                                           decimal=installation.decimal)
            if (ships["importer"] == "").all() and installation.importer:
                ships["importer"] = installation.importer
            ship_table = _batches.shipment_footprints(ships, batch_table, file=str(spath))
            liab = shipment_liability(ship_table, country=installation.country, prices=prices,
                                      importer_mass=importer_mass)
    start, end = reporting_period(table)
    return InstallationAccounts(installation=installation, grid=grid, electricity_mwh=el,
                                green_mwh=green, line_share=share, decisions=decisions,
                                decisions_grid_only=grid_only, see=see, see_grid_only=see_grid,
                                batches=batch_table, shipments=ship_table, liability=liab,
                                prices=prices, period_start=start, period_end=end,
                                importer_mass=importer_mass)


def reporting_period(table: pd.DataFrame) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """First instant and end (exclusive) of the flows table: the reporting period the period
    values are for."""
    if table.empty:
        return None, None
    index = flows.time_index(flows.normalise(table))
    step = index[1] - index[0] if len(index) > 1 else pd.Timedelta(hours=1)
    return index[0], index[-1] + step


def scenario_contract_pool(installations: Sequence[Installation], table: pd.DataFrame,
                           interval_minutes: float = 60.0) -> list[ContractClaim]:
    """Every process of every installation that draws on a contract (the pool
    :func:`account` shares each contract's deliverable MWh over)."""
    pool: list[ContractClaim] = []
    for inst in installations:
        _, green, _ = process_electricity(inst, table)
        pool.extend(contract_claims(inst, green, interval_minutes))
    return pool


def scenario_importer_mass(installations: Sequence[Installation], base_dir: Path, tz: str
                           ) -> ImporterMass:
    """Net mass per importer and year over the shipments of every installation (de minimis is
    judged per importer, not per installation)."""
    frames = []
    for inst in installations:
        if not inst.shipments_file:
            continue
        ships = _batches.read_shipments(base_dir / inst.shipments_file, tz,
                                        sheet=inst.shipments_sheet, decimal=inst.decimal)
        if (ships["importer"] == "").all() and inst.importer:
            ships["importer"] = inst.importer
        frames.append(ships[["importer", "year", "tonnes", "cn_code"]])
    if not frames:
        return {}
    return importer_masses(pd.concat(frames, ignore_index=True))


def source_factors(installation: Installation, decisions: Mapping[str, EfDecision]
                   ) -> dict[str, float]:
    """Per process, the emission factor of its green electricity: the factor of the evidence
    entry the route check accepted, else 0 (the park's PV and wind)."""
    out: dict[str, float] = {}
    for pid, d in decisions.items():
        i = d.evidence_index
        out[pid] = (float(installation.electricity_evidence[i].ef_t_per_mwh)
                    if i is not None else 0.0)
    return out


def claimable_ratio(decisions: Mapping[str, EfDecision], green_mwh: Mapping[str, float]
                    ) -> dict[str, float]:
    """Per process, the share of its matched green energy it may claim once the contract's
    deliverable MWh are shared (1 without a cap): applied to every batch and batch-hour claim,
    so together they claim no more than the contract delivers."""
    out: dict[str, float] = {}
    for pid, d in decisions.items():
        matched = float(green_mwh.get(pid, 0.0))
        cap = d.contract_share_mwh
        out[pid] = 1.0 if cap is None or matched <= cap or matched <= 0 else cap / matched
    return out


def effective_benchmarks(installation: Installation) -> dict[str, float]:
    """Per process, the benchmark per tonne including its precursors (IR 2025/2620 Eq 4).

    ``BM_eff(p) = BM_A(p) + Σ (m_i / AL_p) × BM_eff(i)``; purchased precursors take column A
    with actual data and column B (the default value's route) with default data. A missing
    benchmark counts as 0 (no deduction: conservative) — the liability notes say so.
    """
    from greenlink.carbon.cbam_data import benchmark, default_value
    out: dict[str, float] = {}
    for prec in installation.purchased_precursors:
        code = prec.cn_code.replace(" ", "")
        if prec.data == "actual" and prec.verification_report:
            bm = benchmark(code, "A")
        else:
            try:
                route = default_value(code, prec.country).route
            except InputError:
                route = ""
            bm = benchmark(code, "B", route)
        out[prec.id] = bm.benchmark_t_per_t if bm else 0.0
    procs = {p.id: p for p in installation.processes}

    def eff(pid: str) -> float:
        if pid in out:
            return out[pid]
        p = procs[pid]
        own = benchmark(p.cn_code.replace(" ", ""), "A")
        value = own.benchmark_t_per_t if own else 0.0
        if p.activity_level_t > 0:
            value += sum(u.amount_t / p.activity_level_t * eff(u.precursor) for u in p.precursors)
        out[pid] = value
        return value

    return {pid: eff(pid) for pid in procs}


def see_table(accounts: InstallationAccounts) -> pd.DataFrame:
    """One row per process: SEE with direct connection and grid-only, rounded, and the route."""
    rows = []
    for pid, s in accounts.see.items():
        if s.ef_route == "precursor":
            continue
        g = accounts.see_grid_only[pid]
        d = accounts.decisions[pid]
        rows.append({
            "process": pid, "cn_code": s.cn_code, "sector": s.sector, "annex_ii": s.annex_ii,
            "activity_t": s.activity_t, "electricity_mwh": s.electricity_mwh,
            "green_mwh_claimed": d.green_mwh_claimed, "ef_route": d.route,
            "ef_template_code": d.template_code, "ef_t_per_mwh": d.ef_t_per_mwh,
            "see_direct_t_per_t": s.see_direct_rounded,
            "see_indirect_t_per_t": s.see_indirect_rounded,
            "see_indirect_grid_t_per_t": g.see_indirect_rounded,
            "see_counted_t_per_t": round_see(s.see_counted_t_per_t),
            "see_counted_grid_t_per_t": round_see(g.see_counted_t_per_t),
            "cbam_saving_t_per_t": see_difference(g.see_counted_t_per_t,
                                                  s.see_counted_t_per_t),
            "footprint_saving_t_per_t": see_difference(g.see_indirect_t_per_t,
                                                       s.see_indirect_t_per_t),
            "route_reason": d.reason, "missing_evidence": "; ".join(d.missing_evidence),
            "warnings": "; ".join(d.warnings),
        })
    return pd.DataFrame(rows)


def audit_table(accounts: InstallationAccounts) -> pd.DataFrame:
    """Every audit line of every process and precursor, in order."""
    rows = [dict(subject=a.subject, quantity=a.quantity, value=a.value, unit=a.unit,
                 source=a.source) for s in accounts.see.values() for a in s.audit]
    return pd.DataFrame(rows)
