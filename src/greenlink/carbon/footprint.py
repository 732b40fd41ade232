"""One footprint engine for every regime: a product's footprint per declared unit, with its
electricity modelled by the regime's rule (:mod:`greenlink.carbon.regimes`).

For a product of a park user over the period::

    e       = electricity per declared unit [MWh] = kWh/t ÷ 1000 ÷ units per t
    f       = counted green share of the user's electricity (below)
    EF_el   = f × EF_green + (1 − f) × EF_rest
    footprint = e × EF_el + direct/units + materials/units (when given)

The counted green share follows the regime's rules: with ``evidence_required = cbam_d43`` it is
the share the CBAM route check of the installation allows (D.4.3 evidence, contract share) and 0
without one; otherwise the green electricity the user received counts when its delivery is
counted (``direct_line_counted`` for the park's direct line, ``ppa_counted`` for a PPA through
the grid), within the ``temporal_matching`` period (hour: only hour-matched energy), times the
process's share of its contract. ``EF_rest`` is the regime's ``residual_factor``: the CBAM grid
default (the installation's, else China's MEE provincial factor as public data), the provincial
(location) factor, the national consumption mix, or the residual mix (China publishes none: the
national factor without market-traded non-fossil power stands in, and the result says so).

Declared units: ``t`` (per tonne), ``kWh`` (per kWh of battery energy: the product gives
``declared_units_per_t``), or the product's own (``kWp`` for PV modules, …). Per tonne the
result is in t CO2e/t; per any other unit in kg CO2e per unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from greenlink.carbon.emission_factor_routes import EfDecision
from greenlink.carbon.regimes import Reading, Regime
from greenlink.errors import InputError, Problem


@dataclass(frozen=True)
class ProductData:
    """What the engine needs of a product (a scenario ``[[products]]`` entry)."""

    sku: str
    name: str
    user: str
    cn_code: str
    electricity_kwh_per_t: float
    direct_t_per_t: float = 0.0
    declared_unit: str = "t"
    declared_units_per_t: float | None = None
    materials_t_co2e_per_t: float | None = None
    materials_source: str = ""


@dataclass(frozen=True)
class Factor:
    """An emission factor with its source [t CO2/MWh]."""

    ef_t_per_mwh: float
    source: str


@dataclass(frozen=True)
class GridFactors:
    """The factors a regime may take for electricity not counted as green."""

    grid_default: Factor
    location: Factor
    national_consumption_mix: Factor
    residual_mix: Factor

    def get(self, name: str) -> Factor:
        return getattr(self, name)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Supply:
    """The user's electricity over the period.

    ``green_mwh``: green energy delivered to the user interval by interval; ``hourly_matched_mwh``:
    ``Σ_h min(load_h, green_h)``; ``delivery``: ``direct_line`` (the park's line) or ``ppa``
    (a PPA through the grid, the installation's evidence route); ``cbam_decision``: the CBAM
    route decision of the installation process making the good, if any; ``contract_ratio``:
    the share of its matched green energy the process may claim under its contract.
    """

    load_mwh: float
    green_mwh: float
    hourly_matched_mwh: float
    delivery: str = "direct_line"
    source_ef_t_per_mwh: float = 0.0
    cbam_decision: EfDecision | None = None
    contract_ratio: float = 1.0


@dataclass(frozen=True)
class Footprint:
    """A product's footprint per declared unit under one regime."""

    sku: str
    name: str
    user: str
    cn_code: str
    regime: str
    regime_title: str
    regime_status: str
    declared_unit: str
    unit: str
    units_per_t: float
    electricity_mwh_per_unit: float
    green_share_counted: float
    ef_green_t_per_mwh: float
    ef_rest_t_per_mwh: float
    ef_rest_source: str
    electricity: float
    electricity_grid_only: float
    direct: float
    materials: float | None
    total: float
    boundary: str
    readings: tuple[Reading, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k not in ("readings", "notes")}
        out["readings"] = [r.to_dict() for r in self.readings]
        out["notes"] = list(self.notes)
        return out


def counted_green_share(regime: Regime, supply: Supply) -> tuple[float, float, list[str]]:
    """(counted green share, factor of the green part, notes) under the regime's rules."""
    notes: list[str] = []
    if supply.load_mwh <= 0:
        return 0.0, 0.0, ["no electricity consumed over the period"]
    if regime.value("evidence_required") == "cbam_d43":
        d = supply.cbam_decision
        if d is None:
            notes.append("no CBAM installation process makes this good, so no D.4.3 evidence: "
                         "all electricity at the grid factor")
            return 0.0, 0.0, notes
        share = d.green_mwh_claimed / d.electricity_mwh if d.electricity_mwh > 0 else 0.0
        notes.append(f"green share as the CBAM route check allows it ({d.route}, "
                     f"{d.template_code})")
        return share, float(d.source_ef_t_per_mwh or 0.0), notes
    counted_kinds = {"direct_line": bool(regime.value("direct_line_counted")),
                     "ppa": bool(regime.value("ppa_counted"))}
    if not counted_kinds.get(supply.delivery, False):
        notes.append(f"green electricity delivered by {supply.delivery.replace('_', ' ')} is not "
                     f"counted under {regime.id} "
                     f"({'ppa_counted' if supply.delivery == 'ppa' else 'direct_line_counted'}"
                     " = false): all electricity at the residual factor")
        return 0.0, supply.source_ef_t_per_mwh, notes
    green = supply.green_mwh
    if regime.value("temporal_matching") == "hour":
        green = min(green, supply.hourly_matched_mwh)
    if supply.delivery == "direct_line":
        notes.append("green electricity reaches the plant over the park's direct line, interval "
                     "by interval (hour-matched by construction)")
    green *= supply.contract_ratio
    if supply.contract_ratio < 1.0:
        notes.append(f"claim limited to {supply.contract_ratio:.1%} of the matched energy: the "
                     "process's share of its contract")
    return min(green / supply.load_mwh, 1.0), supply.source_ef_t_per_mwh, notes


def _units(product: ProductData, regime: Regime) -> tuple[str, float]:
    """(declared unit, units per tonne) of the product under the regime."""
    if regime.declared_unit == "t":
        return "t", 1.0
    unit = product.declared_unit if regime.declared_unit == "product" else regime.declared_unit
    if unit == "t":
        return "t", 1.0
    per_t = product.declared_units_per_t
    if product.declared_unit != unit or per_t is None or per_t <= 0:
        raise InputError(Problem(
            f"product {product.sku}: regime {regime.id} declares per {unit}, the product gives "
            f"{product.declared_unit!r} without a conversion",
            location=f"products.{product.sku}",
            expected=f'declared_unit = "{unit}" and declared_units_per_t ({unit} per tonne of '
                     "product)"))
    return unit, float(per_t)


def product_footprint(product: ProductData, supply: Supply, grids: GridFactors,
                      regime: Regime) -> Footprint:
    """The product's footprint per declared unit under ``regime`` (module docstring).

    Raises
    ------
    InputError
        The product is outside the regime's scope, or the regime's declared unit needs a
        conversion the product does not give.
    """
    if not regime.covers(product.cn_code):
        raise InputError(Problem(
            f"product {product.sku} (CN {product.cn_code}) is outside regime {regime.id}",
            location=f"products.{product.sku}",
            expected=f"a product under CN {', '.join(regime.cn_prefixes)} ({regime.scope_note})"))
    unit, per_t = _units(product, regime)
    share, ef_green, notes = counted_green_share(regime, supply)
    rest_name = str(regime.value("residual_factor"))
    rest = grids.get(rest_name)
    if regime.value("evidence_required") == "cbam_d43" and supply.cbam_decision is not None:
        rest = Factor(supply.cbam_decision.grid_ef_t_per_mwh, supply.cbam_decision.grid_source)
    e = product.electricity_kwh_per_t / 1000.0 / per_t
    scale = 1.0 if unit == "t" else 1000.0  # t CO2e per tonne, else kg CO2e per unit
    electricity = e * (share * ef_green + (1.0 - share) * rest.ef_t_per_mwh) * scale
    grid_only = e * rest.ef_t_per_mwh * scale
    direct = product.direct_t_per_t / per_t * scale
    materials = (None if product.materials_t_co2e_per_t is None
                 else product.materials_t_co2e_per_t / per_t * scale)
    boundary = ("manufacturing stage (gate to gate): the plant's electricity and direct "
                "emissions")
    if materials is not None:
        boundary = ("cradle to gate: purchased materials"
                    + (f" ({product.materials_source})" if product.materials_source else "")
                    + ", the plant's electricity and direct emissions")
    else:
        notes.append("purchased materials not included (the product gives no upstream value)")
    if rest_name == "residual_mix":
        notes.append("China publishes no residual mix: the national factor without "
                     "market-traded non-fossil electricity stands in for it")
    label = "t CO2e/t" if unit == "t" else f"kg CO2e/{unit}"
    return Footprint(
        sku=product.sku, name=product.name, user=product.user, cn_code=product.cn_code,
        regime=regime.id, regime_title=regime.title, regime_status=regime.status,
        declared_unit=unit, unit=label, units_per_t=per_t, electricity_mwh_per_unit=e,
        green_share_counted=share, ef_green_t_per_mwh=ef_green,
        ef_rest_t_per_mwh=rest.ef_t_per_mwh, ef_rest_source=rest.source,
        electricity=electricity, electricity_grid_only=grid_only, direct=direct,
        materials=materials, total=electricity + direct + (materials or 0.0),
        boundary=boundary, readings=tuple(regime.readings()), notes=tuple(notes))
