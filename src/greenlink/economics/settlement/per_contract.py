"""Per contract: the tenant's energy lines, the volume not delivered and the charges between
the parties, and the statement of a buyer outside the park."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import numpy as np

from greenlink.economics.buyers import (
    ShipmentAssignment,
    assign_to_shipments,
    certificates_for,
)
from greenlink.economics.contracts import (
    Attribution,
)
from greenlink.economics.money import (
    kwh,
    quantity,
    unit_price,
)
from greenlink.economics.settlement.lines import (
    Line,
    _groups,
    _Item,
    _lines,
    _sum_q,
    make_line,
    mirrored,
    party_of_seller,
    plain,
)
from greenlink.economics.settlement.model import Attributes, BuyerStatement, ContractTotals
from greenlink.economics.settlement.month import _hourly_wh, _Month, _Priced
from greenlink.scenario.contracts import (
    PPA,
)
from greenlink.scenario.model import Scenario
from greenlink.units import KWH_PER_MWH, kwh_to_wh

# --------------------------------------------------------------------------- per contract

def _tenant_energy_items(p: _Priced, att: Attribution, j: int, m: _Month) -> list[_Item]:
    """The delivery tenant's energy lines under a PPA: what it pays whom for the energy.

    physical: the contract price to the seller; sleeved: the onward price to the buyer; virtual:
    the grid tariff to the seller (buyer and seller settle the difference); bundled: nothing
    (the energy is consigned by the buyer). Surplus (tenant buyers only) at the surplus price.
    """
    c = p.contract
    u, local = c.tenant, m.local
    seller = party_of_seller(c.seller)
    d = att.delivered_kwh[:, j]
    what = f"{c.id}: {c.volume.kind.replace('_', '-')} energy from {seller}"
    if c.kind == "physical":
        items = [_Item("ppa_energy", what, c.id, _groups(d, p.price, p.labels), p.currency,
                       p.fx, u, seller)]
    elif c.kind == "sleeved":
        onward = c.onward_terms
        buyer = c.buyer_id
        if onward.price == "contract":
            groups, ccy, rate = _groups(d, p.price, p.labels), p.currency, p.fx
        elif onward.price == "fixed":
            groups = _groups(d, np.full(len(d), onward.price_per_kwh),
                             np.full(len(d), "all hours", dtype=object))
            ccy, rate = local, None
        else:
            groups, ccy, rate = _groups(d, m.tariff, m.tou), local, None
        items = [_Item("ppa_energy", f"{what}, sleeved by {buyer}", c.id, groups, ccy, rate, u,
                       buyer)]
    elif c.kind == "virtual":
        items = [_Item("ppa_energy", f"{what} at the grid tariff (virtual PPA)", c.id,
                       _groups(d, m.tariff, m.tou), local, None, u, seller)]
    else:
        items = [_Item("ppa_energy", f"{what}, consigned by {c.buyer_id}", c.id,
                       _groups(d, np.zeros(len(d)), np.full(len(d), "all hours", dtype=object)),
                       local, None, u, c.buyer_id)]
    if c.takes_surplus:
        if c.surplus.price == "contract":
            sp, slab, ccy, rate = p.price, p.labels, p.currency, p.fx
        elif c.surplus.price == "fixed":
            sp = np.full(len(d), c.surplus.price_per_kwh)
            slab, ccy, rate = np.full(len(d), "fixed", dtype=object), p.currency, p.fx
        else:
            sp, slab, ccy, rate = m.tariff, m.tou, local, None
        items.append(_Item("ppa_surplus", f"{c.id}: green energy beyond the contracted volume "
                           "(surplus)", c.id, _groups(att.surplus_kwh[:, j], sp, slab), ccy,
                           rate, u, seller))
    return items


def _contract_lines(p: _Priced, att: Attribution, contracted: np.ndarray, active: np.ndarray,
                    j: int, m: _Month, delivered: Decimal) -> tuple[list[Line], list[Line]]:
    """The contracted volume not delivered (shortfall, under-take, above the cap) and the
    charges between the contract's parties (take-or-pay, capacity fee), buyer's view.

    The contracted volume is Σ c rounded to the Wh once; what the delivered lines leave of it
    is apportioned among these lines by their exact energies, so that contracted = delivered +
    these lines exactly (where nothing was left undelivered, contracted = delivered). Take-or-pay
    is charged on max(0, minimum pro rata − delivered − seller shortfall): never on energy the
    seller failed to deliver.
    """
    c = p.contract
    buyer, seller = c.buyer_id, party_of_seller(c.seller)
    ccy, rate, local = p.currency, p.fx, m.local
    month_label = np.full(len(m.index), "month", dtype=object)
    comp = c.shortfall
    obliged = c.volume.kind != "contracted_capacity"
    short = att.shortfall_kwh[:, j]
    if obliged and comp.compensation == "grid_price_difference":
        credit = np.maximum(p.tariff - p.price, 0.0)
        short_groups = _groups(short, credit, m.tou)
        why = "seller shortfall, replacement cost (tariff − price)"
    elif obliged and comp.compensation == "fixed":
        short_groups = _groups(short, np.full(len(short), comp.price_per_kwh),
                               np.full(len(short), "fixed", dtype=object))
        why = "seller shortfall, fixed compensation"
    else:
        short_groups = _groups(short, np.zeros(len(short)), month_label)
        why = ("capacity not supplied (no delivery obligation)" if not obliged
               else "seller shortfall, no compensation agreed")
    tp = c.take_or_pay_price_per_kwh
    vmin = c.volume.min_kwh_per_month
    items = [
        _Item("shortfall_credit", f"{c.id}: {why}", c.id, short_groups, ccy, rate, seller, buyer,
              sign=-1),
        _Item("under_take", f"{c.id}: buyer under-take, load below the contracted volume",
              c.id, _groups(att.undertake_kwh[:, j], np.zeros(len(m.index)), month_label), ccy,
              rate, buyer, seller),
        _Item("above_cap", f"{c.id}: above the monthly cap of "
              f"{plain(c.volume.max_kwh_per_month or 0)} kWh (owed by neither party)", c.id,
              _groups(att.above_cap_kwh[:, j], np.zeros(len(m.index)), month_label), ccy, rate,
              buyer, seller)]
    target = kwh(float(np.where(active, contracted, 0.0).sum()))
    rest = max(target - delivered, Decimal("0.000")) if any(it.groups for it in items) \
        else Decimal("0.000")
    volume = _lines(items, rest, local, energy=False)
    charges: list[Line] = []
    days = m.days_in_term(c.term.start, c.term.end)
    if days == 0:
        return volume, charges
    fraction = Decimal(days) / Decimal(m.days_in_month)
    if vmin is not None and tp > 0:
        minimum = quantity(Decimal(repr(float(vmin))) * fraction)
        short_q = _sum_q(ln for ln in volume if ln.kind == "shortfall_credit")
        deficit = minimum - delivered - short_q
        if deficit > 0:
            charges.append(make_line(
                "take_or_pay", f"{c.id}: take-or-pay, minimum {plain(vmin)} kWh × "
                f"{days}/{m.days_in_month} days = {plain(minimum)} kWh − {plain(delivered)} "
                f"delivered − {plain(short_q)} seller shortfall",
                deficit, unit_price(tp), ccy, rate, local, contract_id=c.id, period="month",
                payer=buyer, payee=seller))
    if c.volume.kind == "contracted_capacity" and c.capacity_price_per_kw_month > 0:
        kw = Decimal(repr(float(c.volume.power_kw or 0.0)))
        charges.append(make_line(
            "capacity_fee", f"{c.id}: contracted capacity fee ({plain(kw)} kW × "
            f"{days}/{m.days_in_month} days)", quantity(kw * fraction),
            unit_price(c.capacity_price_per_kw_month), ccy, rate, local, unit="kW·month",
            contract_id=c.id, period="month", payer=buyer, payee=seller))
    return volume, charges


def _buyer_statement(p: _Priced, vt: ContractTotals, volume: list[Line], charges: list[Line],
                     tenant_lines: list[Line], delivered: np.ndarray, m: _Month, month: str,
                     tenant: str, scenario: Scenario) -> BuyerStatement:
    """The overseas buyer's statement of a PPA's month (buyer's view) and its reconciliation
    with the tenant's lines."""
    c = p.contract
    buyer = c.buyer
    assert not isinstance(buyer, str)
    seller = party_of_seller(c.seller)
    ccy, rate, local = p.currency, p.fx, m.local
    energy_q = vt.delivered_kwh
    lines: list[Line] = []
    if c.kind in ("sleeved", "bundled"):
        lines += _lines([_Item("contract_energy", f"{c.id}: energy and attributes delivered to "
                               f"{tenant}", c.id,
                               _groups(delivered, p.price, p.labels), ccy, rate, buyer.id,
                               seller)], energy_q, local, energy=False)
    if c.kind == "virtual":
        diff = p.price - p.tariff
        cfd = _lines([_Item("cfd_difference", f"{c.id}: difference, contract price − grid tariff",
                            c.id, _groups(delivered, diff, m.tou), ccy, rate, buyer.id, seller)],
                     energy_q, local, energy=False)
        lines += [ln if ln.amount >= 0 else replace(ln, payer=seller, payee=buyer.id)
                  for ln in cfd]
    if c.kind in ("sleeved", "bundled"):
        lines += [replace(mirrored(ln), kind="onward_energy") for ln in tenant_lines]
    lines += volume + charges
    attributes = _attributes(c, energy_q, delivered, m, month, scenario)
    checks = _checks(c, vt, lines, tenant_lines, attributes, tenant)
    how = _STRUCTURES[c.kind].format(buyer=buyer.id, seller=seller, tenant=tenant)
    notes = [f"structure: {how}"]
    if rate is not None:
        notes.append(f"FX: {rate.describe()}")
    return BuyerStatement(
        contract_id=c.id, contract_name=c.name, month=month, buyer_id=buyer.id,
        buyer_name=buyer.name or buyer.id, buyer_country=buyer.country, seller=seller,
        tenant=tenant, structure=c.kind, currency=ccy, local_currency=local, fx=rate,
        volume=vt, lines=tuple(lines), attributes=attributes, checks=tuple(checks),
        notes=tuple(notes))


_STRUCTURES = {
    "sleeved": "{seller} delivers the energy to {tenant} on {buyer}'s behalf; {buyer} pays "
               "{seller} the contract price for the energy and its attributes, and {tenant} "
               "pays {buyer} for the energy it takes (onward price)",
    "virtual": "contract for difference: {tenant} buys the energy from {seller} at the grid "
               "tariff; {buyer} pays {seller} contract price − tariff on the same kWh (a "
               "negative difference is paid by {seller} to {buyer}); the attributes go to "
               "{buyer}",
    "bundled": "energy + product: {buyer} pays {seller} the contract price for the energy and "
               "its attributes; the energy is consigned to {tenant} free of charge for {buyer}'s "
               "goods, and the attributes travel with {buyer}'s shipments",
}


def _attributes(c: PPA, energy_q: Decimal, delivered: np.ndarray, m: _Month, month: str,
                scenario: Scenario) -> Attributes:
    buyer = c.buyer
    assert not isinstance(buyer, str)
    terms = c.attribute_terms
    gec = certificates_for(energy_q)
    shipments: tuple[ShipmentAssignment, ...] = ()
    unassigned = energy_q
    if terms.per == "shipment":
        products = {p.sku: p for p in scenario.products}
        assigned, unassigned = assign_to_shipments(
            energy_q, [s for s in terms.shipments if s.month == month], products)
        shipments = tuple(assigned)
    claim = (f"{buyer.name or buyer.id} holds the right to claim these {plain(energy_q)} kWh as "
             f"renewable electricity (product footprint, market-based Scope 2); "
             f"{c.tenant} and {party_of_seller(c.seller)} may not claim them")
    return Attributes(
        energy_kwh=energy_q, certificates_wh=_hourly_wh(delivered, m.hour_keys), gec=gec,
        gec_remainder_kwh=energy_q - Decimal(gec * KWH_PER_MWH), per=terms.per,
        shipments=shipments, unassigned_kwh=unassigned, seller_device=c.seller,
        registry_account=buyer.registry_account, gec_holder=buyer.gec_holder, claim=claim)


def _checks(c: PPA, vt: ContractTotals, lines: list[Line], tenant_lines: list[Line],
            attributes: Attributes, tenant: str) -> list[str]:
    """Reconciliation of a buyer statement with the tenant's statement, each 'ok: …' or
    'MISMATCH: …'."""
    out = []

    def check(ok: bool, text: str) -> None:
        out.append(("ok: " if ok else "MISMATCH: ") + text)

    tenant_q = _sum_q(tenant_lines)
    check(tenant_q == vt.delivered_kwh,
          f"energy delivered {plain(vt.delivered_kwh)} kWh = {tenant}'s energy lines under "
          f"{c.id} {plain(tenant_q)} kWh")
    volume = vt.delivered_kwh + vt.shortfall_kwh + vt.undertake_kwh + vt.above_cap_kwh
    check(volume == vt.contracted_kwh,
          f"contracted {plain(vt.contracted_kwh)} kWh = delivered + seller shortfall + buyer "
          f"under-take + above cap ({plain(volume)} kWh)")
    if c.kind in ("sleeved", "bundled"):
        billed = _sum_q(ln for ln in lines if ln.kind == "contract_energy")
        check(billed == vt.delivered_kwh,
              f"energy billed to the buyer {plain(billed)} kWh = delivered")
        onward = [ln for ln in lines if ln.kind == "onward_energy"]
        pairs = list(zip(onward, tenant_lines, strict=False))
        same = len(onward) == len(tenant_lines) and all(
            a.amount == -b.amount and a.currency == b.currency and a.quantity == b.quantity
            for a, b in pairs)
        amounts = "; ".join(f"{plain(-a.amount)} {a.currency}" for a in onward) or "none"
        check(same, f"{tenant} pays {c.buyer_id} on its statement what the buyer's statement "
              f"receives ({amounts})")
    if c.kind == "virtual":
        billed = _sum_q(ln for ln in lines if ln.kind == "cfd_difference")
        check(billed == vt.delivered_kwh,
              f"difference settled on {plain(billed)} kWh = delivered")
    wh = kwh_to_wh(float(vt.delivered_kwh))
    check(attributes.certificates_wh <= wh,
          f"certificates {attributes.certificates_wh:,} Wh ≤ delivered {wh:,} Wh")
    return out
