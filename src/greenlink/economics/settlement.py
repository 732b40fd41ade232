"""Monthly settlement of a park from a flows table (simulated or metered and allocated).

``settle(flows, scenario, month)`` → :class:`Settlement`: one :class:`Statement` per tenant with
typed lines (energy under each PPA, surplus, uncontracted green, grid import per TOU period,
the contracted volume not delivered — seller shortfall, buyer under-take, above the monthly
cap —, take-or-pay, capacity fees, battery service, direct-line fees), one
:class:`BuyerStatement` per PPA with a buyer outside the park (energy, attributes, price, FX,
amounts in both currencies, who pays whom), the park's totals and the green supply agreements'
assignments.

Energy lines of a statement add up, to the Wh, to the tenant's metered consumption
(``<user>.load_kwh`` summed over the month); a contract's contracted volume is the sum of its
lines, to the Wh; every line amount is quantity × unit price rounded once, half-up, in the line's
currency, and its CNY equivalent is that amount × the contract's FX rate rounded once more
(:mod:`greenlink.economics.money`). Every line names who pays whom (``payer`` → ``payee``); its
amount is signed from the statement holder's view (positive: the holder pays).

The flows table comes in through :func:`greenlink.flows.normalise` (index or column, any zone):
a month is a calendar month of the scenario's zone, and time-of-day prices read the local clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Literal

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.economics.buyers import (
    BuyerPeriod,
    ShipmentAssignment,
    assign_green,
    assign_to_shipments,
    certificates_for,
)
from greenlink.economics.contracts import (
    Attribution,
    attribute_green,
    contract_price_per_kwh,
    contracted_kwh,
    term_mask,
)
from greenlink.economics.fees import (
    PEAK_KW,
    CapacityCharge,
    FeeSchedule,
    capacity_charge_month,
    days_in_effect,
    in_effect_mask,
    load_fee_schedule,
)
from greenlink.economics.fx import FxRate, FxSeries, load_fx_series
from greenlink.economics.money import (
    ROUNDING_RULE,
    apportion_kwh,
    apportion_money,
    convert,
    kwh,
    money,
    quantity,
    unit_price,
)
from greenlink.economics.tariff import tou_prices
from greenlink.errors import InputError, Problem
from greenlink.scenario.contracts import (
    PPA,
    BatteryService,
    FixedPrice,
    contract_currency,
)
from greenlink.scenario.model import Scenario
from greenlink.units import KWH_PER_MWH, kwh_to_wh

LineKind = Literal["ppa_energy", "ppa_surplus", "uncontracted_green", "grid_import",
                   "shortfall_credit", "under_take", "above_cap", "take_or_pay",
                   "capacity_fee", "battery_service", "fee", "td_capacity", "contract_energy",
                   "cfd_difference", "onward_energy", "demand_charge"]
ENERGY_KINDS = frozenset({"ppa_energy", "ppa_surplus", "uncontracted_green", "grid_import"})
#: Lines that state contracted volume not delivered (with or without a price).
VOLUME_KINDS = frozenset({"shortfall_credit", "under_take", "above_cap"})
GRID_COMPANY = "grid company"
PARK_OPERATOR = "park operator"
ZERO_KWH = Decimal("0.000")


def party_of_seller(seller: str) -> str:
    """The seller as a party: ``park operator`` or ``plant <id>``."""
    return PARK_OPERATOR if seller == "park" else f"plant {seller}"


@dataclass(frozen=True)
class Line:
    """One line of a statement.

    ``energy`` lines are metered energy (they add up to the tenant's consumption); the others are
    charges, credits or volume on a basis (kWh, kW·month) that is already counted. ``allocated``
    lines carry a tenant's share of a park-level amount (largest remainder in cents), so their
    amount is not quantity × unit price but adds up over tenants to the park amount.

    ``amount`` is in ``currency``, signed from the statement holder's view (positive: the holder
    pays; negative: it receives); ``payer`` pays ``payee`` (for a credit: the seller pays the
    buyer). ``fx_rate`` is the settlement currency per unit of ``currency`` (``None``: the line
    is in the settlement currency) and ``amount_local`` the amount in the settlement currency.
    """

    kind: LineKind
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal
    contract_id: str | None = None
    period: str = ""
    energy: bool = False
    allocated: bool = False
    currency: str = "CNY"
    fx_rate: Decimal | None = None
    amount_local: Decimal = Decimal("0.00")
    payer: str = ""
    payee: str = ""


def make_line(kind: LineKind, description: str, q: Decimal, price: Decimal, currency: str,
              fx: FxRate | None, local: str, *, unit: str = "kWh",
              contract_id: str | None = None, period: str = "", energy: bool = False,
              payer: str = "", payee: str = "") -> Line:
    """A line: amount = q × price rounded once in ``currency``; its local equivalent converted
    once (:func:`greenlink.economics.money.convert`)."""
    if price == 0:
        price = abs(price)  # no negative zero on a statement
    amount = money(q * price, currency)
    rate = fx.rate if fx is not None and currency != local else None
    local_amount = convert(amount, rate, local) if rate is not None else amount
    return Line(kind=kind, description=description, quantity=q, unit=unit, unit_price=price,
                amount=amount, contract_id=contract_id, period=period, energy=energy,
                currency=currency, fx_rate=rate, amount_local=local_amount, payer=payer,
                payee=payee)


def _neg(value: Decimal) -> Decimal:
    """``-value`` without a negative zero (``0 - 0.00 == 0.00``)."""
    return Decimal(0) - value


def mirrored(line: Line) -> Line:
    """The same line from the other party's view (amount negated, payer and payee kept)."""
    return replace(line, unit_price=_neg(line.unit_price), amount=_neg(line.amount),
                   amount_local=_neg(line.amount_local), energy=False)


def totals_by_currency(lines: Iterable[Line]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for ln in lines:
        out[ln.currency] = out.get(ln.currency, money(0, ln.currency)) + ln.amount
    return dict(sorted(out.items()))


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


# --------------------------------------------------------------------------- flows input

def parse_month(month: str) -> pd.Period:
    try:
        if len(month) != 7 or month[4] != "-":
            raise ValueError(month)
        return pd.Period(month, freq="M")
    except (ValueError, TypeError):
        raise InputError(Problem(f"{month!r} is not a month", location="--month",
                                 expected="YYYY-MM, e.g. 2025-03")) from None


def month_flows(table: pd.DataFrame, scenario: Scenario, month: str,
                columns: Iterable[str]) -> pd.DataFrame:
    """The month's rows of a flows table, checked complete: every interval, no missing value.

    ``table`` goes through :func:`greenlink.flows.normalise` into the scenario's zone (its
    ``interval_start`` as index or column, in any zone); the month is a calendar month of that
    zone and the rows come back indexed by local interval starts.
    """
    period = parse_month(month)
    tz = scenario.site.timezone
    table = flows.normalise(table, tz)
    columns = list(columns)
    missing_cols = [c for c in columns if c not in table.columns]
    if missing_cols:
        raise InputError([Problem(f"flows table has no column {c!r}", location=c,
                                  expected="the columns of docs/formats.md") for c in missing_cols])
    start = pd.Timestamp(period.start_time).tz_localize(tz)
    end = pd.Timestamp((period + 1).start_time).tz_localize(tz)
    rows = flows.period_rows(table, start, end, scenario.time.interval_minutes, what=month,
                            data="meter data")
    bad = rows[columns].isna().any()
    if bad.any():
        name = str(bad[bad].index[0])
        first = rows.index[rows[name].isna()][0]
        raise InputError(Problem(f"{month}: missing values in {name!r} (first "
                                 f"{first.isoformat()})", location=name,
                                 expected="a value in every interval"))
    return rows


# --------------------------------------------------------------------------- line building

def plain(value: Decimal | float | int) -> str:
    """A number in plain notation with thousands separators: ``1,000,000``, ``16,451.613``."""
    d = value if isinstance(value, Decimal) else Decimal(repr(value))
    if d == d.to_integral_value():
        return f"{int(d):,}"
    return f"{d.normalize():,f}"


def _price_labels(ppa: PPA, periods: np.ndarray, index: pd.DatetimeIndex) -> np.ndarray:
    """Lines follow the price's own structure: one fixed price → ``all hours``; time-of-day
    prices → the contract's periods; a price that follows the tariff → the TOU periods."""
    price = ppa.price
    if isinstance(price, FixedPrice):
        if price.periods is None:
            return np.full(len(index), "all hours", dtype=object)
        minutes = (index.hour * 60 + index.minute).to_numpy()
        out = np.full(len(index), "", dtype=object)
        for p in price.periods:
            s, e = p.minutes()
            out[(minutes >= s) & (minutes < e)] = f"{p.start}–{p.end}"
        return out
    return periods


Group = tuple[str, float, float]  # (label, unit price, energy kWh)


def _groups(energy: np.ndarray, price: np.ndarray, label: np.ndarray) -> list[Group]:
    """(label, price, energy) per distinct (label, unit price: money.unit_price), energy > 0."""
    distinct, where = np.unique(np.asarray(price, dtype=float), return_inverse=True)
    stated = np.array([float(unit_price(p)) for p in distinct])[where.reshape(-1)]
    frame = pd.DataFrame({"label": label, "price": stated, "e": energy})
    frame = frame[frame["e"] > 1e-12]
    if frame.empty:
        return []
    grouped = frame.groupby(["label", "price"], sort=True)["e"].sum()
    return [(str(key[0]), float(key[1]), float(e))  # type: ignore[index]
            for key, e in grouped.items()]


@dataclass(frozen=True)
class _Item:
    """Lines of one kind under one contract: groups by (label, unit price) and their money."""

    kind: LineKind
    description: str
    contract_id: str | None
    groups: list[Group]
    currency: str
    fx: FxRate | None
    payer: str
    payee: str
    sign: int = 1


def _lines(items: Sequence[_Item], total: Decimal, local: str, *, energy: bool) -> list[Line]:
    """Lines of ``items`` whose quantities add up to ``total`` exactly: the total is apportioned
    among the items first (largest remainder), then each item's share among its groups, so that
    an item's lines add up to its own exact energy rounded (a capped contract's lines to its
    cap)."""
    items = [it for it in items if it.groups]
    if not items:
        if total != 0:
            raise ValueError("energy to state but no line to state it on")
        return []
    shares = apportion_kwh([sum(g[2] for g in it.groups) for it in items], total)
    out: list[Line] = []
    for it, share in zip(items, shares, strict=True):
        for (label, price, _e), q in zip(it.groups, apportion_kwh([g[2] for g in it.groups],
                                                                  share), strict=True):
            if q == 0 and not energy:
                continue
            out.append(make_line(it.kind, it.description, q, unit_price(it.sign * price),
                                 it.currency, it.fx, local, contract_id=it.contract_id,
                                 period=label, energy=energy, payer=it.payer, payee=it.payee))
    return [ln for ln in out if ln.quantity != 0]


def _sum_q(lines: Iterable[Line]) -> Decimal:
    return sum((ln.quantity for ln in lines), Decimal("0.000"))


# --------------------------------------------------------------------------- settle

def required_columns(scenario: Scenario) -> list[str]:
    """The flows columns a settlement of ``scenario`` reads."""
    cols = flows.user_columns(scenario.user_ids)
    cols += [flows.IMPORT_KWH, flows.EXPORT_KWH]
    plants = {c.seller for c in scenario.contracts if isinstance(c, PPA) and c.seller != "park"}
    cols += [flows.generator_generation(p) for p in sorted(plants)]
    if any(isinstance(c, BatteryService) for c in scenario.contracts):
        cols += [flows.BATTERY_DISCHARGE_GREEN_KWH, flows.GREEN_TO_LOAD_KWH]
    return cols


#: Every ``<generator id>.generation_kwh`` column ends in this.
_GENERATOR_SUFFIX = flows.generator_generation("")


@dataclass(frozen=True)
class _Month:
    """The month's calendar and prices, shared by every tenant."""

    index: pd.DatetimeIndex
    days: np.ndarray  # local date of each interval
    first: date
    days_in_month: int
    hours: float  # interval length [h]
    tariff: np.ndarray
    tou: np.ndarray
    local: str
    hour_keys: pd.DatetimeIndex

    def days_in_term(self, start: date, end: date) -> int:
        last = date.fromordinal(self.first.toordinal() + self.days_in_month - 1)
        lo, hi = max(start, self.first), min(end, last)
        return max((hi - lo).days + 1, 0)


@dataclass(frozen=True)
class _Priced:
    """A PPA's prices in its own currency for the month."""

    contract: PPA
    currency: str
    fx: FxRate | None
    tariff: np.ndarray  # the grid tariff in the contract's currency
    price: np.ndarray  # the contract price per interval, contract currency
    labels: np.ndarray  # line labels of the contract price


def _fx_for(contract: PPA | BatteryService, scenario: Scenario, month: str,
            series: FxSeries | None, cache: dict[tuple[str, str, str, int], FxRate]
            ) -> tuple[FxRate | None, FxSeries | None]:
    ccy = contract_currency(contract, scenario)
    local = scenario.tariff.currency
    if ccy == local:
        return None, series
    if local != "CNY":
        raise InputError(Problem(f"contract {contract.id} is in {ccy}, the tariff in {local}; "
                                 "exchange rates are quoted in CNY", location="tariff.currency",
                                 expected="a tariff in CNY"))
    series = series or load_fx_series()
    terms = contract.fx
    key = (ccy, terms.rule, terms.source, terms.invoice_day)
    if key not in cache:
        cache[key] = series.rate(ccy, terms.rule, month, invoice_day=terms.invoice_day,
                                 stated_source=terms.source)
    return cache[key], series


def _hourly_wh(energy: np.ndarray, hour_keys: pd.DatetimeIndex) -> int:
    """Σ over clock hours of the hour's energy rounded down to the Wh (the claim rule)."""
    per_hour = pd.Series(energy, index=hour_keys).groupby(level=0).sum().to_numpy()
    return int(np.sum(kwh_to_wh(np.maximum(per_hour, 0.0))))


def settle(table: pd.DataFrame, scenario: Scenario, month: str, *,
           fees: FeeSchedule | None = None, fees_as_of: date | None = None,
           fx: FxSeries | None = None) -> Settlement:
    """Settle one month: statements per tenant and per overseas buyer, park totals, green supply
    agreements' assignments.

    Parameters
    ----------
    table : flows table (docs/formats.md), simulated or metered and allocated; ``interval_start``
        as index or column, in any zone (normalised into the scenario's by
        :func:`greenlink.flows.normalise`). Needs every interval of the month.
    scenario : the park (users, contracts, tariff, grid connection capacity).
    month : ``YYYY-MM``.
    fees : fee schedule; default the shipped one of ``scenario.site.province``.
    fees_as_of : judge every fee's effective date at this one date for the whole month
        (planning); default: each fee from its effective date, by day.
    fx : exchange-rate series for contracts in a foreign currency; default the shipped
        PBOC/CFETS central parity file (read only when a contract needs it).

    Raises
    ------
    InputError
        month malformed, without (complete) meter data, a column missing, or an exchange rate
        missing (naming the date).
    """
    period = parse_month(month)
    rows = month_flows(table, scenario, month, required_columns(scenario))
    index = pd.DatetimeIndex(rows.index)
    local = scenario.tariff.currency
    tariff, tou = tou_prices(scenario.tariff, index)
    m = _Month(index=index, days=np.asarray(index.date), first=period.start_time.date(),
               days_in_month=int(period.days_in_month),
               hours=scenario.time.interval_minutes / 60.0, tariff=tariff, tou=tou, local=local,
               hour_keys=flows.hour_key(index, scenario.site.timezone))
    fee_schedule = fees or load_fee_schedule(scenario.site.province or None)
    if fee_schedule.currency != local:
        raise InputError(Problem(f"fee schedule is in {fee_schedule.currency}, the tariff in "
                                 f"{local}", file=fee_schedule.file,
                                 location="currency", expected=local))
    notes: list[str] = []
    ppas = [c for c in scenario.contracts if isinstance(c, PPA)]
    services = [c for c in scenario.contracts if isinstance(c, BatteryService)]
    fx_cache: dict[tuple[str, str, str, int], FxRate] = {}
    series = fx

    def active_in_month(c: PPA | BatteryService) -> bool:
        return m.days_in_term(c.term.start, c.term.end) > 0

    priced: dict[str, _Priced] = {}
    for c in ppas:
        rate = None
        if active_in_month(c):
            rate, series = _fx_for(c, scenario, month, series, fx_cache)
        tariff_c = tariff / float(rate.rate) if rate is not None else tariff
        priced[c.id] = _Priced(c, contract_currency(c, scenario), rate, tariff_c,
                               contract_price_per_kwh(c.price, tariff_c, index),
                               _price_labels(c, tou, index))
    service_fx: dict[str, FxRate | None] = {}
    for s in services:
        rate = None
        if active_in_month(s):
            rate, series = _fx_for(s, scenario, month, series, fx_cache)
        service_fx[s.id] = rate

    battery_share = np.zeros(len(index))
    if services:
        gtl = rows[flows.GREEN_TO_LOAD_KWH].to_numpy(float)
        bdg = rows[flows.BATTERY_DISCHARGE_GREEN_KWH].to_numpy(float)
        battery_share = np.divide(bdg, gtl, out=np.zeros_like(gtl), where=gtl > 1e-12)
        battery_share = np.clip(battery_share, 0.0, 1.0)

    statements: list[Statement] = []
    buyer_statements: list[BuyerStatement] = []
    grid_series: dict[str, np.ndarray] = {}
    load_series: dict[str, np.ndarray] = {}
    meters_by_user: dict[str, MeterTotals] = {}
    transferred: dict[str, Decimal] = {}
    for user in scenario.users:
        u = user.id
        load = rows[flows.user_load(u)].to_numpy(float)
        green = rows[flows.user_green(u)].to_numpy(float)
        grid = rows[flows.user_grid(u)].to_numpy(float)
        load_total = kwh(load.sum())
        green_total = min(kwh(green.sum()), load_total)
        meters = MeterTotals(load_kwh=load_total, green_kwh=green_total,
                             grid_kwh=load_total - green_total)
        meters_by_user[u] = meters
        grid_series[u], load_series[u] = grid, load
        mine = [c for c in ppas if c.tenant == u]
        k = len(mine)
        contracted = np.zeros((len(index), k))
        active = np.zeros((len(index), k), dtype=bool)
        for j, c in enumerate(mine):
            gen = (rows[flows.generator_generation(c.seller)].to_numpy(float)
                   if c.seller != "park" else None)
            contracted[:, j] = contracted_kwh(c, index, gen, m.hours)
            active[:, j] = term_mask(c.term, index)
        att = attribute_green(
            green, contracted, active,
            takes_surplus=np.array([c.takes_surplus for c in mine], dtype=bool),
            max_kwh=[c.volume.max_kwh_per_month for c in mine], load_kwh=load)

        green_items: list[_Item] = []
        for j, c in enumerate(mine):
            green_items += _tenant_energy_items(priced[c.id], att, j, m)
        green_items.append(_Item("uncontracted_green", "green energy outside any PPA (park "
                                 "supply at the grid tariff)", None,
                                 _groups(att.uncontracted_kwh, tariff, tou), local, None, u,
                                 PARK_OPERATOR))
        lines = _lines(green_items, meters.green_kwh, local, energy=True)
        lines += _lines([_Item("grid_import", "grid import at the TOU tariff", None,
                               _groups(grid, tariff, tou), local, None, u, GRID_COMPANY)],
                        meters.grid_kwh, local, energy=True)
        totals: list[ContractTotals] = []
        tenant_notes: list[str] = []
        moved = Decimal("0.000")
        for j, c in enumerate(mine):
            p = priced[c.id]
            delivered_lines = [ln for ln in lines if ln.contract_id == c.id
                               and ln.kind == "ppa_energy"]
            delivered = _sum_q(delivered_lines)
            volume, charges = _contract_lines(p, att, contracted[:, j], active[:, j], j, m,
                                              delivered)
            vt = ContractTotals(
                contract_id=c.id, kind=c.volume.kind,
                contracted_kwh=delivered + _sum_q(volume), delivered_kwh=delivered,
                shortfall_kwh=_sum_q(ln for ln in volume if ln.kind == "shortfall_credit"),
                surplus_kwh=_sum_q(ln for ln in lines if ln.contract_id == c.id
                                   and ln.kind == "ppa_surplus"),
                undertake_kwh=_sum_q(ln for ln in volume if ln.kind == "under_take"),
                above_cap_kwh=_sum_q(ln for ln in volume if ln.kind == "above_cap"),
                buyer=c.buyer_id, structure=c.kind)
            totals.append(vt)
            if not c.overseas:
                lines += volume + charges
                continue
            if not active_in_month(c):
                continue
            moved += delivered
            tenant_notes.append(
                f"{plain(delivered)} kWh received under {c.id} carry attributes (certificates, "
                f"GECs, the footprint claim) that belong to {c.buyer_id}; {u} may not claim "
                "them")
            buyer_statements.append(_buyer_statement(
                p, vt, volume, charges, delivered_lines, att.delivered_kwh[:, j], m, month,
                u, scenario))
        transferred[u] = moved
        for s in services:
            if s.buyer not in ("all", u):
                continue
            energy = np.where(term_mask(s.term, index), green * battery_share, 0.0)
            q = kwh(float(energy.sum()))
            price = unit_price(s.price_per_kwh)
            if q == 0 or price == 0:
                continue
            lines.append(make_line("battery_service", f"{s.id}: battery service on green energy "
                                   f"from {s.battery}", q, price,
                                   contract_currency(s, scenario), service_fx[s.id], local,
                                   contract_id=s.id, period="all hours", payer=u,
                                   payee=PARK_OPERATOR))
        lines += _fee_lines(fee_schedule, fees_as_of, m, meters, load, green, grid, u)
        statements.append(Statement(tenant=u, tenant_name=user.name or u, month=month,
                                    currency=local, meters=meters, lines=tuple(lines),
                                    contracts=tuple(totals), notes=tuple(tenant_notes),
                                    attributes_transferred_kwh=moved))

    notes += _fee_notes(fee_schedule, fees_as_of, m)
    td_total, td_price = Decimal("0.00"), Decimal("0")
    td = fee_schedule.td_capacity
    if td is not None:
        days_on = (m.days_in_month if fees_as_of is not None and td.in_effect(fees_as_of)
                   else 0 if fees_as_of is not None
                   else days_in_effect(td.effective_from, m.first, m.days_in_month))
        if days_on:
            on = (np.ones(len(index), dtype=bool) if days_on == m.days_in_month
                  else in_effect_mask(td.effective_from, m.days))
            statements, td_total, td_price = _td_lines(
                statements, td, float(scenario.grid.connection_capacity_kw), days_on, m,
                {u: float(g[on].sum()) for u, g in grid_series.items()},
                {u: float(x[on].sum()) for u, x in load_series.items()},
                {u: float(x[on].max() / m.hours) if on.any() else 0.0
                 for u, x in load_series.items()})

    demand_total, peak_kw = _demand_charge(rows, scenario, m.hours)
    if demand_total > 0:
        statements = _with_demand_lines(statements, rows, scenario, demand_total, peak_kw,
                                        local)

    buyers = assign_green(scenario, month, {u: mt.green_kwh - transferred.get(u, ZERO_KWH)
                                            for u, mt in meters_by_user.items()})
    gen_by_plant = {c.removesuffix(_GENERATOR_SUFFIX): kwh(rows[c].sum())
                    for c in rows.columns if c.endswith(_GENERATOR_SUFFIX)}
    export_kwh = kwh(rows[flows.EXPORT_KWH].sum())
    export_price = unit_price(scenario.tariff.export_price_per_kwh)
    tenants_grid = sum((_sum_q(ln for ln in st.lines if ln.kind == "grid_import")
                        for st in statements), Decimal("0.000"))

    def grey(total: str, green_part: str) -> Decimal:
        if total not in rows or green_part not in rows:
            return ZERO_KWH
        return kwh(float(np.maximum(rows[total] - rows[green_part], 0.0).sum()))

    battery_grid = grey(flows.BATTERY_CHARGE_KWH, flows.BATTERY_CHARGE_GREEN_KWH)
    battery_grey = grey(flows.BATTERY_DISCHARGE_KWH, flows.BATTERY_DISCHARGE_GREEN_KWH)
    stated_import = tenants_grid + battery_grid - battery_grey
    metered_import = kwh(rows[flows.IMPORT_KWH].sum())
    park = ParkTotals(
        generation_kwh=kwh(rows[flows.GENERATION_KWH].sum()) if flows.GENERATION_KWH in rows
        else sum(gen_by_plant.values(), Decimal("0.000")),
        generation_by_plant_kwh=gen_by_plant,
        load_kwh=sum((mt.load_kwh for mt in meters_by_user.values()), Decimal("0.000")),
        import_kwh=stated_import, export_kwh=export_kwh,
        export_price_per_kwh=export_price, export_revenue=money(export_kwh * export_price),
        td_capacity_charge=td_total, td_capacity_price_per_kw_month=td_price,
        connection_capacity_kw=Decimal(repr(float(scenario.grid.connection_capacity_kw))),
        tenants_total=sum((s.total for s in statements), Decimal("0.00")),
        tenants_grid_kwh=tenants_grid, battery_grid_charge_kwh=battery_grid,
        battery_grey_discharge_kwh=battery_grey, import_metered_kwh=metered_import,
        import_rounding_kwh=metered_import - stated_import, currency=local,
        peak_import_kw=kwh(peak_kw), demand_charge=demand_total)
    rates = tuple(sorted(fx_cache.values(), key=lambda r: (r.currency, r.rule)))
    if any(r.unverified for r in rates):
        notes.append("an exchange rate used this month is an UNVERIFIED placeholder: replace it "
                     "with the published central parity (--fx FILE) before the statements are "
                     "signed")
    return Settlement(scenario_name=scenario.name, month=month, currency=local,
                      interval_minutes=scenario.time.interval_minutes,
                      intervals=len(index), statements=tuple(statements), park=park,
                      buyers=tuple(buyers), fee_source=fee_schedule.file, fees_as_of=fees_as_of,
                      notes=tuple(notes), buyer_statements=tuple(buyer_statements),
                      fx_rates=rates, fx_series=series.name if series is not None and rates
                      else "")


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
    wh = int(vt.delivered_kwh * 1000)
    check(attributes.certificates_wh <= wh,
          f"certificates {attributes.certificates_wh:,} Wh ≤ delivered {wh:,} Wh")
    return out


# --------------------------------------------------------------------------- fees

def _fee_lines(schedule: FeeSchedule, as_of: date | None, m: _Month, meters: MeterTotals,
               load: np.ndarray, green: np.ndarray, grid: np.ndarray, u: str) -> list[Line]:
    """Per-kWh fees: on the whole month's base when in effect all month (or judged in effect
    ``as_of``), on the base of the days from the effective date when it falls in the month."""
    out = []
    totals = {flows.USER_GRID_KWH: meters.grid_kwh, flows.USER_LOAD_KWH: meters.load_kwh,
              flows.USER_GREEN_KWH: meters.green_kwh}
    series = {flows.USER_GRID_KWH: grid, flows.USER_LOAD_KWH: load,
              flows.USER_GREEN_KWH: green}
    for fee in schedule.energy_fees:
        if as_of is not None:
            days = m.days_in_month if fee.in_effect(as_of) else 0
        else:
            days = days_in_effect(fee.effective_from, m.first, m.days_in_month)
        if days == 0:
            continue
        name = fee.name
        if days == m.days_in_month:
            base = totals[fee.base]
        else:
            on = in_effect_mask(fee.effective_from, m.days)
            base = kwh(float(series[fee.base][on].sum()))
            name = f"{fee.name} (from {fee.effective_from}: {days} of {m.days_in_month} days)"
        if base == 0:
            continue
        p = unit_price(fee.price_per_kwh)  # the price stated is the price billed
        out.append(make_line("fee", name, base, p, m.local, None, m.local, period=fee.base,
                             payer=u, payee=GRID_COMPANY))
    return out


def _fee_notes(schedule: FeeSchedule, as_of: date | None, m: _Month) -> list[str]:
    notes = []
    fees: list[tuple[str, date]] = [(f.name, f.effective_from) for f in schedule.energy_fees]
    if schedule.td_capacity is not None:
        fees.append(("T&D capacity charge (NDRC 1192)", schedule.td_capacity.effective_from))
    for name, start in fees:
        if as_of is not None:
            if as_of < start:
                notes.append(f"{name}: not charged before {start} (fees judged as of {as_of})")
            continue
        days = days_in_effect(start, m.first, m.days_in_month)
        if days == 0:
            notes.append(f"{name}: not charged before {start}")
        elif days < m.days_in_month:
            notes.append(f"{name}: charged from {start}, {days} of {m.days_in_month} days of "
                         "the month")
    return notes


def _td_lines(statements: list[Statement], td: CapacityCharge, capacity_kw: float,
              days_on: int, m: _Month, grid: dict[str, float], load: dict[str, float],
              peak: dict[str, float]) -> tuple[list[Statement], Decimal, Decimal]:
    """The T&D capacity charge (pro rata to the days in effect), split among tenants."""
    monthly = capacity_charge_month(td, capacity_kw)
    total = money(monthly * Decimal(days_on) / Decimal(m.days_in_month))
    basis = {flows.USER_GRID_KWH: grid, flows.USER_LOAD_KWH: load, PEAK_KW: peak}[td.allocation]
    users = [s.tenant for s in statements]
    shares = apportion_money(total, [basis[x] for x in users])
    unit = "kW (peak)" if td.allocation == PEAK_KW else "kWh (allocation basis)"
    total_basis = sum(basis.values())
    part = "" if days_on == m.days_in_month else f", {days_on} of {m.days_in_month} days"
    out = []
    for st, share in zip(statements, shares, strict=True):
        q = quantity(basis[st.tenant])
        p = unit_price(float(total) / total_basis if total_basis > 0 else 0.0)
        ln = Line(kind="td_capacity", description="T&D capacity charge (NDRC 1192), share of "
                  f"the park's {total} {m.local}{part}", quantity=q, unit=unit, unit_price=p,
                  amount=share, period=td.allocation, allocated=True, currency=m.local,
                  amount_local=share, payer=st.tenant, payee=GRID_COMPANY)
        out.append(replace(st, lines=(*st.lines, ln)))
    return out, total, td.price_per_kw_month


# --------------------------------------------------------------------------- demand charge

def _demand_charge(rows: pd.DataFrame, scenario: Scenario, h: float
                   ) -> tuple[Decimal, float]:
    """The park's demand charge of the month: ``tariff.demand_charge_per_kw_month`` × the
    month's peak import power (the price simulate reports and the optimiser weighs)."""
    price = scenario.tariff.demand_charge_per_kw_month
    imp = rows[flows.IMPORT_KWH].to_numpy(float) / h
    peak_kw = float(imp.max(initial=0.0))
    if price <= 0 or peak_kw <= 0:
        return Decimal("0.00"), peak_kw
    return money(unit_price(price) * Decimal(repr(peak_kw))), peak_kw


def _with_demand_lines(statements: list[Statement], rows: pd.DataFrame, scenario: Scenario,
                       total: Decimal, peak_kw: float, local: str) -> list[Statement]:
    """Each tenant's share of the demand charge: its grid supply in the interval of the park's
    peak import (its part of the peak), largest remainder in cents."""
    imp = rows[flows.IMPORT_KWH].to_numpy(float)
    at = int(np.argmax(imp))
    basis = [max(float(rows[flows.user_grid(st.tenant)].to_numpy(float)[at]), 0.0)
             for st in statements]
    shares = apportion_money(total, basis if sum(basis) > 0 else [1.0] * len(basis))
    price = unit_price(scenario.tariff.demand_charge_per_kw_month)
    out = []
    for st, share, b in zip(statements, shares, basis, strict=True):
        ln = Line(kind="demand_charge", description=f"demand charge on the park's peak import "
                  f"({peak_kw:,.0f} kW at {price} per kW), share by grid supply in the peak "
                  "interval", quantity=quantity(b), unit="kWh (in the peak interval)",
                  unit_price=price, amount=share, period="month", allocated=True,
                  currency=local, amount_local=share, payer=st.tenant, payee=GRID_COMPANY)
        out.append(replace(st, lines=(*st.lines, ln)))
    return out


# --------------------------------------------------------------------------- registry

@dataclass(frozen=True)
class RegistryTransfers:
    """What the certificate registry shows for one buyer statement's month (plain data, read by
    :func:`greenlink.workflows.settle.registry_transfers`).

    ``certificates_wh``: granular certificates of the seller's device, produced in the month,
    held by (or claimed in) the buyer's registry account; ``gec``: GECs of the device's
    production month whose last record transfers them to, or cancels them for, the buyer's GEC
    label. ``None`` where the buyer names no account or label.
    """

    certificates_wh: int | None
    bundle_ranges: tuple[tuple[int, int], ...] = ()
    gec: int | None = None
    gec_serials: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def registry_checks(b: BuyerStatement, t: RegistryTransfers) -> tuple[str, ...]:
    """Reconcile a buyer statement with the registry's transfers for its month."""
    a = b.attributes
    out = list(t.notes)
    if t.certificates_wh is not None:
        ranges = ", ".join(f"{lo}–{hi}" for lo, hi in t.bundle_ranges) or "none"
        text = (f"granular certificates in {a.registry_account}'s account for {b.month}: "
                f"{t.certificates_wh:,} Wh (ids {ranges}); statement {a.certificates_wh:,} Wh")
        if t.certificates_wh == a.certificates_wh:
            out.append(f"ok: {text}")
        else:
            diff = a.certificates_wh - t.certificates_wh
            what = (f"{diff:,} Wh still to transfer" if diff > 0
                    else f"{-diff:,} Wh more than delivered")
            out.append(f"MISMATCH: {text}: {what}")
    if t.gec is not None:
        serials = ", ".join(t.gec_serials) or "none"
        text = (f"GECs of {a.seller_device}, production month {b.month}, transferred to or "
                f"cancelled for {a.gec_holder}: {t.gec:,} (serials {serials}); statement "
                f"{a.gec:,}")
        out.append(("ok: " if t.gec == a.gec else "MISMATCH: ") + text)
    return tuple(out)
