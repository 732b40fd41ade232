"""The CBAM workflow behind ``greenlink cbam``, the service and the summary: load a scenario and
its flows, run the installation accounts, and shape the reports.

The flows come from a file (a previous run's ``flows.parquet``/``flows.csv``, or metered and
allocated flows: same columns), checked against the scenario, or from simulating the scenario
(:func:`greenlink.workflows.flows_source.scenario_flows`). The flows period is the reporting
period: every CBAM figure is the period value of its process. Contracts are shared by every
process of the scenario that draws on them, and de minimis is judged on each importer's mass
over every installation (:func:`scenario_pools`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from greenlink.carbon.cbam_data import phase_in_span as phase_in_span
from greenlink.carbon.cbam_goods import CbamGood, lookup_all
from greenlink.carbon.emission_factor_routes import ContractClaim
from greenlink.carbon.exposure import exposure_map
from greenlink.carbon.installations import (
    InstallationAccounts,
    account,
    audit_table,
    claimable_ratio,
    find_installation,
    scenario_contract_pool,
    scenario_importer_mass,
    see_table,
)
from greenlink.carbon.liability import ImporterMass, annual_summary, price_assumptions
from greenlink.carbon.pact import product_footprint
from greenlink.carbon.scope2 import Scope2, green_declaration, scope2
from greenlink.carbon.template import (
    compare_with_template,
    fill_template,
    goods_category,
    read_summary_details,
    recalculate,
)
from greenlink.errors import InputError, Problem
from greenlink.jsonio import dumps as dumps
from greenlink.jsonio import records
from greenlink.scenario.load import LoadedScenario, load_scenario
from greenlink.workflows.flows_source import scenario_flows


def _good_dict(g: CbamGood) -> dict[str, Any]:
    return {"cn_code": g.cn_code, "is_cbam_good": g.is_cbam_good, "sector": g.sector,
            "goods_category": g.goods_category,
            "indirect_emissions_counted": g.indirect_emissions_counted,
            "description": g.description, "source": g.source, "note": g.note,
            "cn_year": g.cn_year}


def goods(codes: Sequence[str], year: int | None = None,
          on: dt.date | None = None) -> list[dict[str, Any]]:
    """CBAM status of each typed code in the CN year of the import, as plain dicts (the
    ``--json`` output). An 8-digit code gives one good; a heading or subheading gives
    ``goods``, the CBAM codes beneath it; a malformed code gives ``error`` (the others still
    answer)."""
    out: list[dict[str, Any]] = []
    for a in lookup_all(codes, year, on=on):
        if a.error is not None:
            out.append({"input": a.input, "error": a.error.message,
                        "expected": a.error.expected, "cn_year": a.cn_year})
        elif a.expanded_from is not None:
            out.append({"input": a.input, "expanded_from": a.expanded_from,
                        "cn_year": a.cn_year, "notes": list(a.notes),
                        "goods": [_good_dict(g) for g in a.goods]})
        else:
            out.append({"input": a.input, **_good_dict(a.goods[0])})
    return out


def context(scenario_path: str | Path, flows_path: str | Path | None = None
            ) -> tuple[LoadedScenario, pd.DataFrame]:
    """The loaded scenario and its flows (read and checked, or simulated when no file is given)."""
    loaded = load_scenario(scenario_path)
    return loaded, scenario_flows(loaded, flows_path).table


@dataclass(frozen=True)
class ScenarioPools:
    """What one installation's accounts need from the whole scenario: every process drawing on a
    contract (a contract's MWh are shared) and every importer's mass per year (de minimis)."""

    contracts: tuple[ContractClaim, ...]
    importer_mass: ImporterMass


def scenario_pools(loaded: LoadedScenario, flows: pd.DataFrame) -> ScenarioPools:
    """The contract pool and importer masses over every installation of the scenario."""
    s = loaded.scenario
    insts = list(s.installations)
    return ScenarioPools(
        tuple(scenario_contract_pool(insts, flows, float(s.time.interval_minutes))),
        scenario_importer_mass(insts, Path(loaded.path).parent, s.site.timezone))


def accounts_for(loaded: LoadedScenario, flows: pd.DataFrame, installation_id: str,
                 cbam_price_eur_per_t: float | None = None,
                 pools: ScenarioPools | None = None) -> InstallationAccounts:
    """Run :func:`greenlink.carbon.installations.account` for one installation, with the
    scenario's contract pool and importer masses."""
    s = loaded.scenario
    inst = find_installation(s, installation_id)
    pools = pools or scenario_pools(loaded, flows)
    return account(inst, flows, province=s.site.province, year=s.carbon.grid_factor_year,
                   base_dir=Path(loaded.path).parent, tz=s.site.timezone,
                   prices=price_assumptions(cbam_price_eur_per_t),
                   interval_minutes=float(s.time.interval_minutes),
                   contract_pool=pools.contracts, importer_mass=pools.importer_mass)


def see_report(acc: InstallationAccounts) -> dict[str, Any]:
    """Per-process SEE, route decisions and audit trail as JSON-ready dicts."""
    return {"installation": acc.installation.id, "grid_factor": {
                "ef_t_per_mwh": acc.grid.ef_t_per_mwh, "source": acc.grid.source,
                "template_code": acc.grid.template_code},
            "processes": records(see_table(acc)),
            "audit": records(audit_table(acc)),
            "assumptions": list(acc.prices.notes)}


def liability_report(acc: InstallationAccounts) -> dict[str, Any]:
    """Liability per shipment (its own year) and per year, grid-only vs direct connection."""
    if acc.liability is None:
        raise InputError(Problem(f"installation {acc.installation.id} has no shipments",
                                 location=f"installations.{acc.installation.id}",
                                 expected="batches_file and shipments_file"))
    cols = ["shipment_id", "customer", "sku", "cn_code", "year", "tonnes", "de_minimis",
            "see_counted_grid_t_per_t", "see_counted_dc_t_per_t", "default_t_per_t", "markup",
            "cbam_factor", "bm_a", "faa_actual_t", "deduction_t", "certificates_grid",
            "certificates_dc", "certificates_default", "cost_grid_eur", "cost_dc_eur",
            "cost_default_eur", "saving_eur", "factor_notes"]
    return {"installation": acc.installation.id,
            "per_year": records(annual_summary(acc.liability)),
            "shipments": records(acc.liability[cols]),
            "assumptions": list(acc.prices.notes)}


def exposure_report(acc: InstallationAccounts, by: str) -> pd.DataFrame:
    """The exposure map (over the phase-in years) of one installation's shipments."""
    if acc.shipments is None:
        raise InputError(Problem(f"installation {acc.installation.id} has no shipments",
                                 location=f"installations.{acc.installation.id}",
                                 expected="batches_file and shipments_file"))
    if by not in ("sku", "customer"):
        raise InputError(Problem(f"cannot group by {by!r}", location="--by",
                                 expected="sku or customer"))
    return exposure_map(acc.shipments, by=by, country=acc.installation.country, prices=acc.prices,
                        importer_mass=acc.importer_mass)


def scope2_report(loaded: LoadedScenario, flows: pd.DataFrame) -> list[Scope2]:
    """Scope 2 and the 24/7 score of every user at the provincial grid factor."""
    from greenlink.carbon.factors import grid_factor
    s = loaded.scenario
    f = grid_factor(province=s.site.province or None, year=s.carbon.grid_factor_year)
    return [scope2(flows, u.id, f.ef_t_per_mwh, f.source, timezone=s.site.timezone)
            for u in s.users]


def declarations(acc: InstallationAccounts) -> list[dict[str, object]]:
    """Buyer-facing declaration of every shipment: the CBAM period values of its process, and
    apart from them the product footprint of its batches' hours (regime-labelled)."""
    if acc.shipments is None:
        return []
    out = []
    for _, row in acc.shipments.iterrows():
        pid = str(row["process"]).split(";")[0]
        d = acc.decisions[pid]
        out.append(green_declaration(row, d, acc.period_label, pid))
    return out


def pact_footprints(acc: InstallationAccounts, company: str) -> list[dict[str, Any]]:
    """One PACT ProductFootprint per process (good) of the installation: the period values over
    the reporting period."""
    out = []
    year = acc.installation.reporting_year or 2025
    p0 = (acc.period_start.to_pydatetime() if acc.period_start is not None
          else dt.datetime(year, 1, 1))
    p1 = (acc.period_end.to_pydatetime() if acc.period_end is not None
          else dt.datetime(year + 1, 1, 1))
    for p in acc.installation.processes:
        s = acc.see[p.id]
        green = acc.decisions[p.id].green_mwh_claimed / s.electricity_mwh if s.electricity_mwh \
            else 0.0
        out.append(product_footprint(
            company_name=company, company_id=acc.installation.id, product_id=p.id,
            product_name=p.name or p.id, cn_code=s.cn_code,
            footprint_kg_per_kg=s.see_direct_t_per_t + s.see_indirect_t_per_t,
            electricity_kg_per_kg=s.indirect_emissions_t / s.activity_t, green_share=green,
            period_start=p0, period_end=p1,
            comment=f"period value over {acc.period_label}; electricity EF route {s.ef_route} "
                    f"({s.ef_template_code})"))
    return out


def template(acc: InstallationAccounts, out: str | Path, recalc: bool = False
             ) -> dict[str, Any]:
    """Fill the Commission's template; with ``recalc`` let LibreOffice recalculate it and
    compare its SEE, share of emissions by default value and goods category with greenlink's
    (numbers to 5 decimals, half-up on both sides)."""
    filled = fill_template(acc.installation, acc.electricity_mwh, acc.decisions, acc.see, out)
    result: dict[str, Any] = {"file": str(filled.path), "processes": list(filled.product_rows)}
    if recalc:
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            recalced = recalculate(filled.path, tmp)
            values = read_summary_details(recalced, filled.product_rows)
        year = acc.installation.reporting_year
        cats = {p.id: goods_category(p.cn_code, year) for p in acc.installation.processes}
        result["comparison"] = compare_with_template(values, acc.see, cats)
    return result


@dataclass(frozen=True)
class BatchClaim:
    """A batch claim as the registry keeps it: the claim (id, Wh, GEC serials; ``replayed``
    when it was made before) and the outcome of each batch-hour."""

    result: Any  # greenlink.certificates.claims.ClaimResult
    hours: pd.DataFrame


def claim_batches(acc: InstallationAccounts, flows: pd.DataFrame, registry_url: str,
                  account_id: str, beneficiary: str | None = None, *,
                  purpose: str = "product_batch", claim_id: str | None = None,
                  key_dir: Path | None = None) -> BatchClaim:
    """Cancel, hour by hour, the registry certificates backing every batch's green claim: one
    request to the registry's one claim path (all batch-hours or none; the same batches again
    return the first claim and change nothing; a batch-hour claimed by another claim is refused
    naming it)."""
    from greenlink.carbon.claims import batch_claim_request, batch_hour_claims, claim_outcomes
    from greenlink.workflows import registry as reg_flow

    if acc.batches is None:
        raise InputError(Problem(f"installation {acc.installation.id} has no batches",
                                 location=f"installations.{acc.installation.id}",
                                 expected="batches_file"))
    ratio = claimable_ratio(acc.decisions, acc.green_mwh)  # a process's share of its contract
    share = {pid: acc.line_share[pid] * ratio.get(pid, 1.0) for pid in acc.line_share}
    claims = batch_hour_claims(acc.batches, flows, acc.installation.user, share)
    if claims.empty:
        raise InputError(Problem(f"the batches of installation {acc.installation.id} ran in no "
                                 "hour with green energy: nothing to claim",
                                 location=f"installations.{acc.installation.id}"))
    registry = reg_flow.open_registry(registry_url, key_dir=key_dir)
    result = reg_flow.claim(registry, batch_claim_request(
        claims, account_id=account_id, beneficiary=beneficiary or acc.installation.user,
        purpose=purpose, claim_id=claim_id, operation="cbam claim"))
    return BatchClaim(result, claim_outcomes(claims, result))


def summary_section(loaded: LoadedScenario, flows: pd.DataFrame) -> dict[str, Any]:
    """A JSON-ready ``cbam`` section for summary.json and the report: per installation the SEE
    table (with route and missing evidence), the liability per year and the top of the exposure
    map; empty when the scenario has no installations."""
    out: dict[str, Any] = {"installations": []}
    pools = scenario_pools(loaded, flows)
    for inst in loaded.scenario.installations:
        acc = accounts_for(loaded, flows, inst.id, pools=pools)
        item: dict[str, Any] = {"id": inst.id, "user": inst.user,
                                "reporting_period": acc.period_label,
                                "processes": records(see_table(acc)),
                                "assumptions": list(acc.prices.notes)}
        if acc.liability is not None and acc.shipments is not None:
            item["liability_per_year"] = records(annual_summary(acc.liability))
            item["exposure_by_sku"] = records(exposure_map(
                acc.shipments, by="sku", country=inst.country, prices=acc.prices,
                importer_mass=acc.importer_mass).head(10))
        out["installations"].append(item)
    return out
