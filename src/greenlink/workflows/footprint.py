"""The footprint workflow behind ``greenlink footprint`` and ``greenlink regimes``, and the
summary's product footprints: a scenario's products under a regime's electricity rule.

From the scenario and its flows (read or simulated): each product's user supply over the period
(load, green energy delivered interval by interval, hour-matched energy), how its green energy
arrives (the park's direct line, or a PPA where the user's CBAM installation claims one), the
CBAM route decision of the installation process making the good (for regimes that need D.4.3
evidence) and the grid factors; then :func:`greenlink.carbon.footprint.product_footprint`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pandas as pd

from greenlink.carbon.cbam_goods import classify
from greenlink.carbon.factors import grid_factor
from greenlink.carbon.footprint import (
    Factor,
    Footprint,
    GridFactors,
    ProductData,
    Supply,
    product_footprint,
)
from greenlink.carbon.installations import claimable_ratio, grid_for
from greenlink.carbon.regimes import (
    Regime,
    RegimeDiff,
    diff,
    list_regimes,
    load_regime,
    override,
)
from greenlink.carbon.scope2 import scope2
from greenlink.errors import InputError, Problem
from greenlink.scenario.load import LoadedScenario

__all__ = ["diff_regimes", "footprints", "list_regimes", "load_regime", "regime_for",
           "summary_footprints"]


def regime_for(id_or_path: str, overrides: Mapping[str, object] | None = None) -> Regime:
    """A regime by id or path, with the reader's own readings (``--set rule=value``)."""
    regime = load_regime(id_or_path)
    return override(regime, overrides) if overrides else regime


def diff_regimes(a: str, b: str) -> RegimeDiff:
    """What differs between two regimes (ids or paths)."""
    return diff(load_regime(a), load_regime(b))


def _grids(loaded: LoadedScenario, user: str) -> GridFactors:
    s = loaded.scenario
    year = s.carbon.grid_factor_year
    province = s.site.province or None
    loc = grid_factor(province=province, year=year)
    nat = grid_factor(year=year)
    res = grid_factor(year=year, basis="excl_market_nonfossil")
    inst = next((i for i in s.installations if i.user == user), None)
    if inst is not None:
        g = grid_for(inst, province, year)
        default = Factor(g.ef_t_per_mwh, g.source)
    else:
        default = Factor(loc.ef_t_per_mwh, f"{loc.source} (other publicly available data, "
                         "template D.4(b))")
    return GridFactors(grid_default=default, location=Factor(loc.ef_t_per_mwh, loc.source),
                       national_consumption_mix=Factor(nat.ef_t_per_mwh,
                                                       f"national consumption mix: {nat.source}"),
                       residual_mix=Factor(res.ef_t_per_mwh,
                                           f"residual-mix stand-in: {res.source}"))


def _supply(loaded: LoadedScenario, flows: pd.DataFrame, user: str, cn_code: str,
            accounts: dict[str, Any]) -> Supply:
    s = loaded.scenario
    use = scope2(flows, user, 0.0, "", timezone=s.site.timezone)
    inst = next((i for i in s.installations if i.user == user), None)
    delivery, src, decision, ratio = "direct_line", 0.0, None, 1.0
    if inst is not None:
        from greenlink.workflows.cbam import accounts_for

        if inst.id not in accounts:
            accounts[inst.id] = accounts_for(loaded, flows, inst.id)
        acc = accounts[inst.id]
        procs = [p.id for p in inst.processes if p.cn_code.replace(" ", "") == cn_code]
        any_decision = next(iter(acc.decisions.values()), None)
        if any_decision is not None and any_decision.evidence_index is not None:
            ev = inst.electricity_evidence[any_decision.evidence_index]
            delivery = "ppa" if ev.route == "ppa" else "direct_line"
            src = float(ev.ef_t_per_mwh)
        if procs:
            decision = acc.decisions[procs[0]]
            ratio = claimable_ratio(acc.decisions, acc.green_mwh).get(procs[0], 1.0)
    return Supply(load_mwh=use.load_mwh, green_mwh=use.green_mwh,
                  hourly_matched_mwh=use.hourly_matched_score * use.load_mwh,
                  delivery=delivery, source_ef_t_per_mwh=src, cbam_decision=decision,
                  contract_ratio=ratio)


def _product(p: Any) -> ProductData:
    return ProductData(sku=p.sku, name=p.name, user=p.user, cn_code=p.cn_code,
                       electricity_kwh_per_t=float(p.electricity_kwh_per_t),
                       direct_t_per_t=float(p.direct_emissions_t_per_t),
                       declared_unit=p.declared_unit,
                       declared_units_per_t=None if p.declared_units_per_t is None
                       else float(p.declared_units_per_t),
                       materials_t_co2e_per_t=None if p.materials_t_co2e_per_t is None
                       else float(p.materials_t_co2e_per_t),
                       materials_source=p.materials_source)


def footprints(loaded: LoadedScenario, flows: pd.DataFrame, regime: Regime, *,
               user: str | None = None, sku: str | None = None) -> list[Footprint]:
    """The footprint of every product of the scenario (of one user, or one SKU) under a regime.

    Raises
    ------
    InputError
        No product matches, a product is outside the regime's scope, or the regime's declared
        unit needs a conversion the product does not give.
    """
    s = loaded.scenario
    products = [p for p in s.products
                if (user is None or p.user == user) and (sku is None or p.sku == sku)]
    if not products:
        known = ", ".join(f"{p.sku} ({p.user})" for p in s.products) or "none"
        raise InputError(Problem(f"no product of user {user!r}" if sku is None
                                 else f"no product {sku!r}" + (f" of user {user!r}"
                                                               if user else ""),
                                 location="--user" if sku is None else "--sku",
                                 expected=f"one of: {known}"))
    out = []
    accounts: dict[str, Any] = {}  # one CBAM account per installation
    for p in products:
        supply = _supply(loaded, flows, p.user, p.cn_code, accounts)
        fp = product_footprint(_product(p), supply, _grids(loaded, p.user), regime)
        if regime.value("evidence_required") == "cbam_d43" and not classify(
                p.cn_code).is_cbam_good:
            fp = replace(fp, notes=(*fp.notes, f"CN {p.cn_code} is not a CBAM good: CBAM "
                                    "counts nothing for it; this is its footprint under "
                                    "CBAM's electricity rule only"))
        out.append(fp)
    return out


def summary_footprints(loaded: LoadedScenario, flows: pd.DataFrame) -> list[dict[str, Any]]:
    """For the summary and the report: every product that is not a CBAM good but falls under a
    regime with a scope of its own (the EU Battery Regulation for CN 8507 …), its footprint
    under that regime beside its CBAM exposure (nothing: not a CBAM good)."""
    scoped = [r for r in list_regimes() if r.cn_prefixes]
    out: list[dict[str, Any]] = []
    for p in loaded.scenario.products:
        good = classify(p.cn_code)
        if good.is_cbam_good:
            continue
        for regime in scoped:
            if not regime.covers(p.cn_code):
                continue
            fp = footprints(loaded, flows, regime, sku=p.sku)[0]
            row = fp.to_dict()
            row.update(cbam_good=False, cbam_exposure_eur=0.0,
                       cbam_note=f"CN {good.cn_code} is not a CBAM good (CN {good.cn_year}): "
                                 "no CBAM certificates, whatever its footprint")
            out.append(row)
    return out
