"""The CBAM workflow behind ``greenlink cbam``, the service and the summary: load a scenario and
its flows, run the installation accounts, and shape the reports.

The flows come from a file (a previous run's ``flows.parquet``/``flows.csv``, or metered and
allocated flows: same columns), checked against the scenario, or from simulating the scenario
(:func:`greenlink.workflows.flows_source.scenario_flows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from greenlink.carbon.cbam_goods import classify
from greenlink.carbon.exposure import exposure_map
from greenlink.carbon.installations import (
    InstallationAccounts,
    account,
    audit_table,
    find_installation,
    see_table,
)
from greenlink.carbon.liability import annual_summary, price_assumptions
from greenlink.carbon.pact import product_footprint
from greenlink.carbon.scope2 import Scope2, green_declaration, scope2
from greenlink.carbon.template import (
    fill_template,
    read_summary_products,
    recalculate,
)
from greenlink.errors import InputError, Problem
from greenlink.jsonio import dumps as dumps
from greenlink.jsonio import records
from greenlink.scenario.load import LoadedScenario, load_scenario
from greenlink.workflows.flows_source import scenario_flows


def goods(codes: Sequence[str]) -> list[dict[str, Any]]:
    """CBAM status of each CN code as plain dicts (the ``--json`` output)."""
    out = []
    for code in codes:
        g = classify(code)
        out.append({"cn_code": g.cn_code, "is_cbam_good": g.is_cbam_good, "sector": g.sector,
                    "goods_category": g.goods_category,
                    "indirect_emissions_counted": g.indirect_emissions_counted,
                    "description": g.description, "source": g.source, "note": g.note})
    return out


def context(scenario_path: str | Path, flows_path: str | Path | None = None
            ) -> tuple[LoadedScenario, pd.DataFrame]:
    """The loaded scenario and its flows (read and checked, or simulated when no file is given)."""
    loaded = load_scenario(scenario_path)
    return loaded, scenario_flows(loaded, flows_path).table


def accounts_for(loaded: LoadedScenario, flows: pd.DataFrame, installation_id: str,
                 cbam_price_eur_per_t: float | None = None) -> InstallationAccounts:
    """Run :func:`greenlink.carbon.installations.account` for one installation."""
    s = loaded.scenario
    inst = find_installation(s, installation_id)
    return account(inst, flows, province=s.site.province, year=s.carbon.grid_factor_year,
                   base_dir=Path(loaded.path).parent, tz=s.site.timezone,
                   prices=price_assumptions(cbam_price_eur_per_t),
                   interval_minutes=float(s.time.interval_minutes))


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
    return exposure_map(acc.shipments, by=by, country=acc.installation.country, prices=acc.prices)


def scope2_report(loaded: LoadedScenario, flows: pd.DataFrame) -> list[Scope2]:
    """Scope 2 and the 24/7 score of every user at the provincial grid factor."""
    from greenlink.carbon.factors import grid_factor
    s = loaded.scenario
    f = grid_factor(province=s.site.province or None, year=s.carbon.grid_factor_year)
    return [scope2(flows, u.id, f.ef_t_per_mwh, f.source, timezone=s.site.timezone)
            for u in s.users]


def declarations(acc: InstallationAccounts) -> list[dict[str, object]]:
    """Buyer-facing green electricity declaration of every shipment."""
    if acc.shipments is None:
        return []
    decisions = acc.decisions
    out = []
    for _, row in acc.shipments.iterrows():
        procs = [p for p in acc.installation.processes
                 if p.cn_code.replace(" ", "") == str(row["cn_code"]).replace(" ", "")]
        d = decisions[procs[0].id] if procs else next(iter(decisions.values()))
        out.append(green_declaration(row, d.route, "; ".join(d.missing_evidence)))
    return out


def pact_footprints(acc: InstallationAccounts, company: str) -> list[dict[str, Any]]:
    """One PACT ProductFootprint per process (good) of the installation."""
    out = []
    starts = acc.batches["start"] if acc.batches is not None else None
    year = acc.installation.reporting_year or 2025
    p0 = starts.min().to_pydatetime() if starts is not None else datetime(year, 1, 1)
    p1 = (acc.batches["end"].max().to_pydatetime() if acc.batches is not None
          else datetime(year + 1, 1, 1))
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
            comment=f"electricity EF route {s.ef_route} ({s.ef_template_code})"))
    return out


def template(acc: InstallationAccounts, out: str | Path, recalc: bool = False
             ) -> dict[str, Any]:
    """Fill the Commission's template; with ``recalc`` let LibreOffice recalculate it and
    compare its SEE with greenlink's (5 decimals)."""
    filled = fill_template(acc.installation, acc.electricity_mwh, acc.decisions, acc.see, out)
    result: dict[str, Any] = {"file": str(filled.path), "processes": list(filled.product_rows)}
    if recalc:
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            recalced = recalculate(filled.path, tmp)
            values = read_summary_products(recalced, filled.product_rows)
        result["comparison"] = [{
            "process": pid, "template_see_direct": round(d, 5),
            "greenlink_see_direct": acc.see[pid].see_direct_rounded,
            "template_see_indirect": round(i, 5),
            "greenlink_see_indirect": acc.see[pid].see_indirect_rounded,
            "equal_to_5_decimals": (round(d, 5) == acc.see[pid].see_direct_rounded
                                    and round(i, 5) == acc.see[pid].see_indirect_rounded)}
            for pid, (d, i) in values.items()]
    return result


def claim_batches(acc: InstallationAccounts, flows: pd.DataFrame, registry_url: str,
                  account_id: str, beneficiary: str | None = None) -> pd.DataFrame:
    """Cancel, hour by hour, the registry certificates backing every batch's green claim."""
    from greenlink.carbon.claims import batch_hour_claims, cancel_for_claims
    from greenlink.certificates.db import open_registry
    if acc.batches is None:
        raise InputError(Problem(f"installation {acc.installation.id} has no batches",
                                 location=f"installations.{acc.installation.id}",
                                 expected="batches_file"))
    claims = batch_hour_claims(acc.batches, flows, acc.installation.user, acc.line_share)
    return cancel_for_claims(open_registry(registry_url), claims, account_id=account_id,
                             beneficiary=beneficiary or acc.installation.user)


def summary_section(loaded: LoadedScenario, flows: pd.DataFrame) -> dict[str, Any]:
    """A JSON-ready ``cbam`` section for summary.json and the report: per installation the SEE
    table (with route and missing evidence), the liability per year and the top of the exposure
    map; empty when the scenario has no installations."""
    out: dict[str, Any] = {"installations": []}
    for inst in loaded.scenario.installations:
        acc = accounts_for(loaded, flows, inst.id)
        item: dict[str, Any] = {"id": inst.id, "user": inst.user,
                                "processes": records(see_table(acc)),
                                "assumptions": list(acc.prices.notes)}
        if acc.liability is not None and acc.shipments is not None:
            item["liability_per_year"] = records(annual_summary(acc.liability))
            item["exposure_by_sku"] = records(exposure_map(acc.shipments, by="sku",
                                                           country=inst.country,
                                                           prices=acc.prices).head(10))
        out["installations"].append(item)
    return out
