"""Contracts: PPAs, battery services and green supply agreements (issue 7).

Extension module of the scenario: the models here are referenced by
:class:`greenlink.scenario.model.Scenario`; :func:`cross_check` adds the checks that need the
whole scenario.

Three kinds of contract, told apart by ``type``:

``ppa``
    A power purchase agreement between a seller (a plant id, or ``"park"`` for the park operator's
    pool of green energy) and a buyer: a park tenant (a user id), or a party outside the park
    (a table ``buyer = {id, name, country, …}``: an importer, a brand, a cloud customer) whose
    energy is delivered physically to a tenant (``delivered_to``) while the attributes
    (granular certificates, GECs, the footprint claim) go to the buyer. ``structure`` says who
    pays whom: ``physical`` (a tenant buyer pays the seller), ``sleeved`` (the overseas buyer
    pays the seller for energy and attributes; the tenant pays the buyer for the energy on the
    ``onward`` terms), ``virtual`` (a contract for difference: the tenant buys the energy from
    the seller at the grid tariff, buyer and seller settle contract price − tariff) or
    ``bundled`` (energy + product: the buyer pays the seller, the energy is consigned to the
    tenant free of charge and its attributes travel with the buyer's shipments).
    ``volume.kind`` is one of

    * ``pay_as_produced`` – a ``share`` (0..1) of a plant's available generation per interval,
    * ``baseload`` – a constant block of ``power_kw`` in every interval of the term,
    * ``shaped`` – an hourly profile: 24 values of ``profile_kw`` (local hour of day 0..23),
    * ``contracted_capacity`` – up to ``power_kw`` per interval, taken as consumed; the buyer may
      pay a capacity fee ``capacity_price_per_kw_month``.

    Price (``price.kind``): ``fixed`` (one ``price_per_kwh``, or time-of-day ``periods`` that
    must cover the day exactly), ``indexed`` (the grid TOU tariff × (1 − ``discount``) +
    ``adder_per_kwh``) or ``collar`` (the indexed price clipped to ``floor_per_kwh`` …
    ``cap_per_kwh``).
``battery_service``
    The park battery's service to a user (or ``"all"`` users): ``price_per_kwh`` on the green
    energy the battery discharged to the user.
``green_supply``
    A green supply agreement between a manufacturer (user) and an overseas buyer: the user's
    matched green energy is assigned to the buyer's ``shipments`` (tonnes of a product × the
    product's ``electricity_kwh_per_t``), never more than was matched.

Money of a PPA or battery service is in its ``currency`` (default: the tariff's). A contract in
another currency is converted into the tariff's (CNY) with the exchange rate its ``fx`` terms
name (source, which day's rate); the tariff and the fees stay in CNY.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from greenlink.scenario.base import (
    Fraction,
    Id,
    NonNegative,
    Positive,
    Strict,
    TimeOfDay,
    minute_of_day,
)

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class PricePeriod(Strict):
    """A time-of-day window with its own fixed price (local wall-clock time)."""

    start: TimeOfDay = Field(description="HH:MM, inclusive")
    end: TimeOfDay = Field(description="HH:MM, exclusive; 24:00 = midnight")
    price_per_kwh: NonNegative

    def minutes(self) -> tuple[int, int]:
        return minute_of_day(self.start), minute_of_day(self.end)


def period_coverage_problems(periods: list[PricePeriod]) -> list[str]:
    """Gaps and overlaps of time-of-day price periods over 00:00–24:00 (empty when exact)."""
    spans = sorted(p.minutes() for p in periods)
    problems: list[str] = []
    cursor = 0
    for start, end in spans:
        if end <= start:
            problems.append(f"period {start // 60:02d}:{start % 60:02d}–{end // 60:02d}:"
                            f"{end % 60:02d} ends before it starts")
            continue
        if start > cursor:
            problems.append(f"gap {cursor // 60:02d}:{cursor % 60:02d}–{start // 60:02d}:"
                            f"{start % 60:02d} has no price")
        elif start < cursor:
            problems.append(f"periods overlap at {start // 60:02d}:{start % 60:02d}")
        cursor = max(cursor, end)
    if cursor < 1440:
        problems.append(f"gap {cursor // 60:02d}:{cursor % 60:02d}–24:00 has no price")
    return problems


class FixedPrice(Strict):
    kind: Literal["fixed"] = "fixed"
    price_per_kwh: NonNegative | None = Field(None, description="one price for every interval")
    periods: list[PricePeriod] | None = Field(None, description="time-of-day prices covering "
                                              "00:00–24:00 without gaps or overlaps")

    @model_validator(mode="after")
    def _one_form(self) -> FixedPrice:
        if (self.price_per_kwh is None) == (self.periods is None):
            raise ValueError("a fixed price needs either 'price_per_kwh' or 'periods' (not both)")
        if self.periods is not None:
            problems = period_coverage_problems(self.periods)
            if problems:
                raise ValueError("price periods must cover the day exactly: " + "; ".join(problems))
        return self


class IndexedPrice(Strict):
    kind: Literal["indexed"] = "indexed"
    discount: Fraction = Field(description="discount on the grid TOU tariff, 0.1 = 10 % off")
    adder_per_kwh: float = Field(0.0, description="added after the discount (may be negative)")


class CollarPrice(Strict):
    kind: Literal["collar"] = "collar"
    discount: Fraction = Field(0.0, description="discount on the grid TOU tariff")
    floor_per_kwh: NonNegative
    cap_per_kwh: NonNegative

    @model_validator(mode="after")
    def _order(self) -> CollarPrice:
        if self.floor_per_kwh > self.cap_per_kwh:
            raise ValueError(f"collar floor ({self.floor_per_kwh:g}) is above its cap "
                             f"({self.cap_per_kwh:g})")
        return self


Price = Annotated[FixedPrice | IndexedPrice | CollarPrice, Field(discriminator="kind")]


class Volume(Strict):
    kind: Literal["pay_as_produced", "baseload", "shaped", "contracted_capacity"]
    share: Fraction | None = Field(None, description="pay_as_produced: share of the plant's "
                                   "available generation")
    power_kw: NonNegative | None = Field(None, description="baseload: block; "
                                         "contracted_capacity: capacity")
    profile_kw: list[NonNegative] | None = Field(None, description="shaped: 24 hourly values, "
                                                 "local hour 0..23")
    min_kwh_per_month: NonNegative | None = Field(None, description="take-or-pay minimum")
    max_kwh_per_month: NonNegative | None = Field(None, description="delivery cap per month")

    @model_validator(mode="after")
    def _fields(self) -> Volume:
        need = {"pay_as_produced": "share", "baseload": "power_kw", "shaped": "profile_kw",
                "contracted_capacity": "power_kw"}[self.kind]
        if getattr(self, need) is None:
            raise ValueError(f"volume kind {self.kind!r} needs '{need}'")
        extra = [f for f in ("share", "power_kw", "profile_kw")
                 if f != need and getattr(self, f) is not None]
        if extra:
            raise ValueError(f"volume kind {self.kind!r} does not take {extra}")
        if self.profile_kw is not None and len(self.profile_kw) != 24:
            raise ValueError(f"profile_kw needs 24 hourly values, got {len(self.profile_kw)}")
        if (self.min_kwh_per_month is not None and self.max_kwh_per_month is not None
                and self.min_kwh_per_month > self.max_kwh_per_month):
            raise ValueError("min_kwh_per_month is above max_kwh_per_month")
        return self


class ShortfallTerms(Strict):
    """What the seller pays for contracted energy it did not deliver although the buyer's load
    could have taken it (a seller shortfall; the buyer's own low load is an under-take, which
    the buyer bears through take-or-pay)."""

    compensation: Literal["none", "grid_price_difference", "fixed"] = Field(
        "grid_price_difference", description="none; grid_price_difference: the seller pays the "
        "buyer's replacement cost, max(0, grid tariff − contract price) per kWh short; fixed: the "
        "seller pays price_per_kwh per kWh short")
    price_per_kwh: NonNegative = 0.0


class SurplusTerms(Strict):
    """What happens to green energy the buyer received beyond its contracted volumes."""

    take: bool = Field(True, description="this contract takes the buyer's uncontracted green "
                       "energy (the first such contract of the buyer does)")
    price: Literal["contract", "fixed", "tariff"] = Field(
        "contract", description="contract: the contract price; fixed: price_per_kwh; tariff: "
        "the grid TOU tariff")
    price_per_kwh: NonNegative = 0.0


class Term(Strict):
    start: date = Field(description="first day (inclusive)")
    end: date = Field(description="last day (inclusive)")

    @model_validator(mode="after")
    def _order(self) -> Term:
        if self.end < self.start:
            raise ValueError(f"term ends ({self.end}) before it starts ({self.start})")
        return self

    def overlaps(self, other: Term) -> bool:
        return self.start <= other.end and other.start <= self.end


class Buyer(Strict):
    """A party outside the park: an importer, a brand, a cloud customer."""

    id: Id
    name: str = ""
    country: str = Field("", description="ISO 3166-1 alpha-2 code, e.g. DE")
    registry_account: str | None = Field(None, description="its account in the certificate "
                                         "registry (granular certificates transferred to it)")
    gec_holder: str | None = Field(None, description="its label in the GEC records (GECs "
                                   "transferred or cancelled for it)")


class Shipment(Strict):
    id: str = Field(min_length=1)
    month: str = Field(description="YYYY-MM the goods were produced in")
    sku: str = Field(description="product SKU (scenario.products)")
    quantity_t: Positive

    @field_validator("month")
    @classmethod
    def _month(cls, value: str) -> str:
        if not _MONTH.match(value):
            raise ValueError(f"{value!r} is not a month YYYY-MM")
        return value


class FxTerms(Strict):
    """How a contract in a foreign currency is converted into the settlement currency (CNY)."""

    source: str = Field("PBOC/CFETS central parity", description="the rate source the contract "
                        "names (printed on statements); the rates come from the settlement's "
                        "rate file (shipped: the CFETS central parity)")
    rule: Literal["month_end", "invoice_date", "month_average"] = Field(
        "month_end", description="month_end: the rate of the delivery month's last day (or the "
        "last business day before it); invoice_date: the rate of the invoice date (invoice_day "
        "of the following month, or the last business day before it); month_average: the mean "
        "of the month's published rates")
    invoice_day: int = Field(5, ge=1, le=28, description="invoice_date: day of the month after "
                             "delivery the invoice is dated")


class OnwardTerms(Strict):
    """Sleeved PPA: what the tenant that takes the energy pays the overseas buyer for it."""

    price: Literal["contract", "fixed", "tariff"] = Field(
        "contract", description="contract: the contract price, in the contract's currency (the "
        "buyer passes the energy on at cost); fixed: price_per_kwh in the tariff's currency; "
        "tariff: the grid TOU tariff")
    price_per_kwh: NonNegative = 0.0


class AttributeTerms(Strict):
    """Where the attributes of the energy delivered under an overseas PPA go: to the buyer, for
    the month (``period``) or assigned to its shipments (``shipment``)."""

    per: Literal["period", "shipment"] = "period"
    shipments: list[Shipment] = Field(default_factory=list, description="per shipment: the "
                                      "buyer's shipments of the delivery tenant's products")

    @model_validator(mode="after")
    def _shipments_only_per_shipment(self) -> AttributeTerms:
        if self.shipments and self.per != "shipment":
            raise ValueError("shipments are listed only when attributes go per = 'shipment'")
        return self


Structure = Literal["physical", "sleeved", "virtual", "bundled"]


class PPA(Strict):
    """Power purchase agreement between a plant (or the park operator) and a tenant or an
    overseas buyer."""

    type: Literal["ppa"] = "ppa"
    id: Id
    name: str = ""
    seller: str = Field(description="plant id, or 'park' for the park operator's green pool")
    buyer: str | Buyer = Field(description="user id (a park tenant), or a table {id, name, "
                               "country, registry_account, gec_holder} for a party outside the "
                               "park")
    delivered_to: str | None = Field(None, description="overseas buyer: the user id of the tenant "
                                     "that takes the energy physically")
    structure: Structure | None = Field(None, description="physical (a tenant buyer; default); "
                                        "for an overseas buyer: sleeved, virtual or bundled")
    volume: Volume
    price: Price
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="ISO 4217; default "
                                 "the tariff's")
    fx: FxTerms = FxTerms()
    onward: OnwardTerms | None = Field(None, description="sleeved: what the tenant pays the "
                                       "buyer for the energy (default: the contract price)")
    attributes: AttributeTerms | None = Field(None, description="overseas buyer: per period "
                                              "(default; bundled: per shipment)")
    term: Term
    capacity_price_per_kw_month: NonNegative = Field(0.0, description="contracted_capacity: fee "
                                                     "per kW of capacity and month")
    shortfall: ShortfallTerms = ShortfallTerms()
    surplus: SurplusTerms = SurplusTerms()
    take_or_pay_price_per_kwh: NonNegative = Field(0.0, description="paid per kWh the month's "
                                                   "delivery falls below min_kwh_per_month")

    @model_validator(mode="after")
    def _plant_for_share(self) -> PPA:
        if self.volume.kind == "pay_as_produced" and self.seller == "park":
            raise ValueError("a pay_as_produced PPA sells a share of one plant: 'seller' must be "
                             "a plant id")
        return self

    @model_validator(mode="after")
    def _parties(self) -> PPA:
        if isinstance(self.buyer, str):
            if self.structure not in (None, "physical"):
                raise ValueError(f"structure {self.structure!r} needs a buyer outside the park "
                                 "(buyer = {id, name, country}); a tenant buyer takes the energy "
                                 "physically")
            if self.delivered_to not in (None, self.buyer):
                raise ValueError("a tenant buyer takes the energy itself: leave out "
                                 "'delivered_to'")
            for key in ("onward", "attributes"):
                if getattr(self, key) is not None:
                    raise ValueError(f"'{key}' applies to a buyer outside the park only")
            return self
        if self.structure in (None, "physical"):
            raise ValueError("a buyer outside the park needs structure = 'sleeved', 'virtual' or "
                             "'bundled' (who pays whom for the energy delivered to the tenant)")
        if self.delivered_to is None:
            raise ValueError("a buyer outside the park needs 'delivered_to': the tenant that "
                             "takes the energy physically")
        if self.onward is not None and self.structure != "sleeved":
            raise ValueError("'onward' terms apply to a sleeved PPA only")
        if "surplus" in self.model_fields_set and self.surplus.take:
            raise ValueError("a buyer outside the park does not take the tenant's surplus green "
                             "energy: surplus.take must be false")
        return self

    @property
    def overseas(self) -> bool:
        """The buyer is a party outside the park."""
        return isinstance(self.buyer, Buyer)

    @property
    def buyer_id(self) -> str:
        return self.buyer.id if isinstance(self.buyer, Buyer) else self.buyer

    @property
    def tenant(self) -> str:
        """The user that takes the energy physically (the buyer, or ``delivered_to``)."""
        if isinstance(self.buyer, Buyer):
            return self.delivered_to or ""
        return self.buyer

    @property
    def kind(self) -> Structure:
        """The structure, ``physical`` for a tenant buyer."""
        return self.structure or "physical"

    @property
    def takes_surplus(self) -> bool:
        return self.surplus.take and not self.overseas

    @property
    def attribute_terms(self) -> AttributeTerms:
        """Where the attributes go (an overseas buyer's: per period, bundled: per shipment)."""
        if self.attributes is not None:
            return self.attributes
        return AttributeTerms(per="shipment" if self.structure == "bundled" else "period")

    @property
    def onward_terms(self) -> OnwardTerms:
        return self.onward or OnwardTerms()


class BatteryService(Strict):
    """Battery service: a fee per kWh of green energy the park battery discharged to a user."""

    type: Literal["battery_service"]
    id: Id
    name: str = ""
    battery: str = Field(description="battery id")
    buyer: str = Field("all", description="user id, or 'all'")
    price_per_kwh: NonNegative
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="ISO 4217; default "
                                 "the tariff's")
    fx: FxTerms = FxTerms()
    term: Term


class GreenSupplyAgreement(Strict):
    """A manufacturer assigns its matched green energy to an overseas buyer's shipments."""

    type: Literal["green_supply"]
    id: Id
    name: str = ""
    seller: str = Field(description="user id of the manufacturer")
    buyer: Buyer
    term: Term
    max_share_of_green: Fraction = Field(1.0, description="at most this share of the seller's "
                                         "monthly matched green energy goes to this agreement")
    shipments: list[Shipment] = Field(default_factory=list)


Contract = Annotated[PPA | BatteryService | GreenSupplyAgreement, Field(discriminator="type")]


def _plant_ac_kw(scenario: Any) -> dict[str, float]:
    out = {p.id: p.capacity_kw_dc / p.dc_ac_ratio for p in scenario.pv}
    out.update({w.id: w.capacity_kw for w in scenario.wind})
    return out


def plant_share(ppa: PPA, plant_ac_kw: float) -> float:
    """Share of a plant's output a PPA claims: its share, or peak contracted kW ÷ plant AC kW."""
    v = ppa.volume
    if v.kind == "pay_as_produced":
        return float(v.share or 0.0)
    peak_kw = max(v.profile_kw) if v.profile_kw is not None else float(v.power_kw or 0.0)
    return peak_kw / plant_ac_kw if plant_ac_kw > 0 else float("inf")


def contract_currency(contract: PPA | BatteryService, scenario: Any) -> str:
    """A contract's currency: its own, or the tariff's."""
    return contract.currency or str(scenario.tariff.currency)


def cross_check(scenario: Any) -> list[str]:
    """Problems that involve other parts of the scenario.

    Unknown ids (users, plants, batteries, products), duplicate contract ids, an overseas
    buyer whose id is a user's, a contract in a foreign currency next to a tariff that is not in
    CNY (rates are quoted in CNY), shipments outside the agreement's term or of products another
    user makes, and PPAs on one plant whose terms overlap and which together claim more than
    100 % of it (share for pay-as-produced, peak contracted kW ÷ plant AC kW for the other
    kinds).
    """
    errors: list[str] = []
    contracts = list(scenario.contracts)
    if not contracts:
        return errors
    users = set(scenario.user_ids)
    plants = _plant_ac_kw(scenario)
    batteries = {b.id for b in scenario.batteries}
    skus = {p.sku: p for p in scenario.products}
    currency = scenario.tariff.currency
    ids = [c.id for c in contracts]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        errors.append(f"contract ids must be unique: {dup}")

    def shipments_problems(where: str, maker: str, role: str, term: Term,
                           shipments: list[Shipment]) -> None:
        for j, s in enumerate(shipments):
            product = skus.get(s.sku)
            if product is None:
                errors.append(f"{where}.shipments[{j}]: product {s.sku!r} is not defined")
            elif product.user != maker:
                errors.append(f"{where}.shipments[{j}]: product {s.sku!r} is made by "
                              f"{product.user!r}, not by the {role} {maker!r}")
            first = date(int(s.month[:4]), int(s.month[5:]), 1)
            if not term.start.replace(day=1) <= first <= term.end:
                errors.append(f"{where}.shipments[{j}]: month {s.month} is outside the term "
                              f"{term.start}…{term.end}")

    for i, c in enumerate(contracts):
        where = f"contracts[{i}] ({c.id})"
        if isinstance(c, PPA | BatteryService):
            own = contract_currency(c, scenario)
            if own != currency and currency != "CNY":
                errors.append(f"{where}: currency {own} differs from the tariff's {currency}; "
                              "exchange rates are quoted in CNY, so a contract in another "
                              "currency needs a tariff in CNY")
        if isinstance(c, PPA):
            if c.overseas:
                if c.buyer_id in users:
                    errors.append(f"{where}: overseas buyer id {c.buyer_id!r} is a user's id; "
                                  "give the party outside the park its own id")
                if c.tenant not in users:
                    errors.append(f"{where}: delivered_to {c.tenant!r} is not a user "
                                  f"({', '.join(sorted(users))})")
                else:
                    shipments_problems(f"{where}.attributes", c.tenant, "tenant", c.term,
                                       c.attribute_terms.shipments)
            elif c.buyer_id not in users:
                errors.append(f"{where}: buyer {c.buyer_id!r} is not a user "
                              f"({', '.join(sorted(users))})")
            if c.seller != "park" and c.seller not in plants:
                errors.append(f"{where}: seller {c.seller!r} is neither 'park' nor a plant "
                              f"({', '.join(sorted(plants)) or 'none'})")
        elif isinstance(c, BatteryService):
            if c.battery not in batteries:
                errors.append(f"{where}: battery {c.battery!r} is not defined")
            if c.buyer != "all" and c.buyer not in users:
                errors.append(f"{where}: buyer {c.buyer!r} is neither 'all' nor a user")
        else:
            if c.seller not in users:
                errors.append(f"{where}: seller {c.seller!r} is not a user")
            shipments_problems(where, c.seller, "seller", c.term, c.shipments)
    ppas = [c for c in contracts if isinstance(c, PPA) and c.seller in plants]
    for plant, ac_kw in plants.items():
        on_plant = [c for c in ppas if c.seller == plant]
        for c in on_plant:
            # the claim peaks at the start of some contract's term: check each start
            overlapping = [o for o in on_plant if o.term.start <= c.term.start <= o.term.end]
            total = sum(plant_share(o, ac_kw) for o in overlapping)
            if total > 1.0 + 1e-9:
                errors.append(f"contracts on plant {plant!r} claim {total:.0%} of its output from "
                              f"{c.term.start} ({', '.join(o.id for o in overlapping)}); at most "
                              "100 % may be sold")
                break
    return errors
