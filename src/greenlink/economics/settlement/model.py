"""What a settlement is made of: meter totals, contract totals, statements (tenant and
buyer), park totals, the settlement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from greenlink.economics.buyers import (
    BuyerPeriod,
    ShipmentAssignment,
)
from greenlink.economics.fx import FxRate
from greenlink.economics.money import (
    ROUNDING_RULE,
)
from greenlink.economics.settlement.lines import ZERO_KWH, Line, totals_by_currency


@dataclass(frozen=True)
class MeterTotals:
    """A tenant's metered energy in the month [kWh, 3 decimals]; green + grid = load."""

    load_kwh: Decimal
    green_kwh: Decimal
    grid_kwh: Decimal


@dataclass(frozen=True)
class ContractTotals:
    """A PPA's month [kWh], each the sum of its lines: contracted = delivered + shortfall
    (seller's) + under-take (buyer's) + above the monthly cap; surplus is taken beyond it."""

    contract_id: str
    kind: str
    contracted_kwh: Decimal
    delivered_kwh: Decimal
    shortfall_kwh: Decimal
    surplus_kwh: Decimal
    undertake_kwh: Decimal = ZERO_KWH
    above_cap_kwh: Decimal = ZERO_KWH
    buyer: str = ""
    structure: str = "physical"


@dataclass(frozen=True)
class Statement:
    tenant: str
    tenant_name: str
    month: str
    currency: str
    meters: MeterTotals
    lines: tuple[Line, ...]
    contracts: tuple[ContractTotals, ...] = ()
    notes: tuple[str, ...] = ()
    attributes_transferred_kwh: Decimal = ZERO_KWH

    @property
    def total(self) -> Decimal:
        """Total in the settlement currency: the sum of the lines' local amounts."""
        return sum((ln.amount_local for ln in self.lines), Decimal("0.00"))

    @property
    def totals_by_currency(self) -> dict[str, Decimal]:
        """What the tenant pays (negative: receives) in each currency."""
        return totals_by_currency(self.lines)

    @property
    def energy_kwh(self) -> Decimal:
        return sum((ln.quantity for ln in self.lines if ln.energy), Decimal("0.000"))

    @property
    def green_lines_kwh(self) -> Decimal:
        return sum((ln.quantity for ln in self.lines if ln.energy and ln.kind != "grid_import"),
                   Decimal("0.000"))

    def contract_ids(self) -> list[str]:
        return sorted({ln.contract_id for ln in self.lines if ln.contract_id})


@dataclass(frozen=True)
class Attributes:
    """The attributes of the energy delivered under an overseas PPA, all the buyer's.

    ``certificates_wh``: granular certificates (1 Wh each), Σ over local clock hours of the
    hour's delivered energy rounded down to the Wh (:func:`greenlink.units.kwh_to_wh`, the rule of
    every claim); ``gec``: China green certificates, whole MWh of ``energy_kwh`` rounded down
    (the rest, ``gec_remainder_kwh``, is not covered by a GEC this month).
    """

    energy_kwh: Decimal
    certificates_wh: int
    gec: int
    gec_remainder_kwh: Decimal
    per: str
    shipments: tuple[ShipmentAssignment, ...]
    unassigned_kwh: Decimal
    seller_device: str
    registry_account: str | None
    gec_holder: str | None
    claim: str


@dataclass(frozen=True)
class BuyerStatement:
    """One overseas PPA's month from the buyer's side, for both sides to sign.

    ``lines`` are signed from the buyer's view (positive: the buyer pays). ``checks`` reconcile
    it with the delivery tenant's statement (same energy, the same amounts between them);
    ``registry`` with the certificate registry's transfers (filled by
    :func:`greenlink.workflows.settle.reconcile_with_registry` where a registry is given).
    """

    contract_id: str
    contract_name: str
    month: str
    buyer_id: str
    buyer_name: str
    buyer_country: str
    seller: str
    tenant: str
    structure: str
    currency: str
    local_currency: str
    fx: FxRate | None
    volume: ContractTotals
    lines: tuple[Line, ...]
    attributes: Attributes
    checks: tuple[str, ...] = ()
    registry: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def totals_by_currency(self) -> dict[str, Decimal]:
        return totals_by_currency(self.lines)

    @property
    def total_local(self) -> Decimal:
        return sum((ln.amount_local for ln in self.lines), Decimal("0.00"))

    @property
    def reconciled(self) -> bool:
        return not any(c.startswith("MISMATCH") for c in (*self.checks, *self.registry))


@dataclass(frozen=True)
class ParkTotals:
    """Park-level figures. ``import_kwh`` = ``tenants_grid_kwh`` (Σ the tenants' grid lines) +
    ``battery_grid_charge_kwh`` (grid energy into the batteries) − ``battery_grey_discharge_kwh``
    (stored grid energy the batteries gave back to tenants, on their grid lines), to the Wh;
    ``import_metered_kwh`` is the import column's sum rounded, and ``import_rounding_kwh`` =
    metered − stated (each tenant's meters are rounded on their own: a few Wh at most)."""

    generation_kwh: Decimal
    generation_by_plant_kwh: dict[str, Decimal]
    load_kwh: Decimal
    import_kwh: Decimal
    export_kwh: Decimal
    export_price_per_kwh: Decimal
    export_revenue: Decimal
    td_capacity_charge: Decimal
    td_capacity_price_per_kw_month: Decimal
    connection_capacity_kw: Decimal
    tenants_total: Decimal
    tenants_grid_kwh: Decimal = ZERO_KWH
    battery_grid_charge_kwh: Decimal = ZERO_KWH
    battery_grey_discharge_kwh: Decimal = ZERO_KWH
    import_metered_kwh: Decimal = ZERO_KWH
    import_rounding_kwh: Decimal = ZERO_KWH
    currency: str = "CNY"
    peak_import_kw: Decimal = ZERO_KWH
    demand_charge: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class Settlement:
    """Everything a month's settlement produced (typed; rendered by :mod:`statements`)."""

    scenario_name: str
    month: str
    currency: str
    interval_minutes: int
    intervals: int
    statements: tuple[Statement, ...]
    park: ParkTotals
    buyers: tuple[BuyerPeriod, ...]
    fee_source: str
    fees_as_of: date | None
    rounding_rule: str = ROUNDING_RULE
    notes: tuple[str, ...] = field(default_factory=tuple)
    buyer_statements: tuple[BuyerStatement, ...] = ()
    fx_rates: tuple[FxRate, ...] = ()
    fx_series: str = ""

    def statement(self, tenant: str) -> Statement:
        return next(s for s in self.statements if s.tenant == tenant)

    def buyer_statement(self, contract_id: str) -> BuyerStatement:
        return next(b for b in self.buyer_statements if b.contract_id == contract_id)

    def contract_lines(self, contract_id: str) -> list[tuple[str, Line]]:
        """(tenant, line) of every tenant line under one contract, for the contract's
        statement."""
        return [(s.tenant, ln) for s in self.statements for ln in s.lines
                if ln.contract_id == contract_id]
