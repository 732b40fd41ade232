"""Overseas buyers: matched green energy assigned to shipments under green supply agreements.

Per seller (a manufacturing tenant) and month the pool is the seller's matched green energy
(``<user>.green_kwh`` summed over the month, green energy consumed in the interval it was
delivered) less the energy whose attributes it does not own (delivered to it under a PPA with a
buyer outside the park). Agreements draw on the pool in the scenario's order, each at most
``max_share_of_green`` of the pool; within an agreement the month's shipments draw in file order,
each asking ``quantity_t × electricity_kwh_per_t`` of its product. Nothing is assigned beyond the
pool, so the assignments never exceed what was matched. Certificates are whole MWh (China's GEC:
1 certificate = 1 MWh), rounded down.

Rounding: attributes are claims, so every quantity here is rounded **down** to the Wh (the share
of the pool, a shipment's request) — never more than was measured, the rule of every claim
(:func:`greenlink.units.kwh_to_wh`). Billed energy (statement lines) is rounded half-up and
apportioned instead, because it must add up to the meter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from greenlink.economics.money import WH
from greenlink.units import KWH_PER_MWH

KWH_PER_CERTIFICATE = Decimal(KWH_PER_MWH)  # one certificate per MWh


@dataclass(frozen=True)
class ShipmentAssignment:
    shipment_id: str
    sku: str
    quantity_t: Decimal
    requested_kwh: Decimal
    assigned_kwh: Decimal
    certificates: int

    @property
    def green_share(self) -> Decimal:
        """Share of the shipment's electricity covered by assigned green energy."""
        if self.requested_kwh == 0:
            return Decimal(0)
        return (self.assigned_kwh / self.requested_kwh).quantize(Decimal("0.0001"),
                                                                rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class BuyerPeriod:
    """One agreement's month: what the buyer's shipments received and what stayed unassigned."""

    agreement_id: str
    buyer_id: str
    buyer_name: str
    buyer_country: str
    seller: str
    month: str
    matched_green_kwh: Decimal  # the seller's matched green energy in the month
    available_kwh: Decimal  # what this agreement could draw (share cap, after earlier ones)
    assigned_kwh: Decimal
    unassigned_kwh: Decimal  # available − assigned
    certificates: int
    shipments: tuple[ShipmentAssignment, ...]


def certificates_for(energy_kwh: Decimal) -> int:
    """Whole certificates (1 MWh each) in an energy, rounded down."""
    return int((energy_kwh / KWH_PER_CERTIFICATE).to_integral_value(rounding=ROUND_FLOOR))


def assign_to_shipments(pool_kwh: Decimal, shipments: Sequence[Any], products: dict[str, Any]
                        ) -> tuple[list[ShipmentAssignment], Decimal]:
    """Assign ``pool_kwh`` to shipments in order, each asking ``quantity_t ×
    electricity_kwh_per_t`` (rounded down to the Wh); returns the assignments and what is left."""
    left = pool_kwh
    out = []
    for s in shipments:
        per_t = Decimal(repr(float(products[s.sku].electricity_kwh_per_t)))
        qty = Decimal(repr(float(s.quantity_t)))
        # rounded down to the Wh, the rule of every claim (greenlink.units.kwh_to_wh)
        requested = (qty * per_t).quantize(WH, rounding=ROUND_FLOOR)
        assigned = min(requested, left)
        left -= assigned
        out.append(ShipmentAssignment(s.id, s.sku, qty, requested, assigned,
                                      certificates_for(assigned)))
    return out, left


def assign_green(scenario: Any, month: str, green_kwh_by_user: dict[str, Decimal]
                 ) -> list[BuyerPeriod]:
    """Assign each seller's matched green energy of ``month`` to its buyers' shipments."""
    from greenlink.scenario.contracts import GreenSupplyAgreement

    first = date(int(month[:4]), int(month[5:]), 1)
    products = {p.sku: p for p in scenario.products}
    remaining = dict(green_kwh_by_user)
    out: list[BuyerPeriod] = []
    for c in scenario.contracts:
        if not isinstance(c, GreenSupplyAgreement):
            continue
        if not (c.term.start.replace(day=1) <= first <= c.term.end):
            continue
        pool = green_kwh_by_user.get(c.seller, Decimal("0.000"))
        cap = (pool * Decimal(repr(c.max_share_of_green))).quantize(WH, rounding=ROUND_FLOOR)
        available = min(cap, remaining.get(c.seller, Decimal("0.000")))
        shipments, left = assign_to_shipments(
            available, [s for s in c.shipments if s.month == month], products)
        assigned_total = available - left
        remaining[c.seller] = remaining.get(c.seller, Decimal("0.000")) - assigned_total
        out.append(BuyerPeriod(
            agreement_id=c.id, buyer_id=c.buyer.id, buyer_name=c.buyer.name or c.buyer.id,
            buyer_country=c.buyer.country, seller=c.seller, month=month, matched_green_kwh=pool,
            available_kwh=available, assigned_kwh=assigned_total, unassigned_kwh=left,
            certificates=sum(s.certificates for s in shipments), shipments=tuple(shipments)))
    return out
