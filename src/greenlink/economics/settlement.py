"""Monthly settlement of a park from a flows table (simulated or metered and allocated).

``settle(flows, scenario, month)`` → :class:`Settlement`: one :class:`Statement` per tenant with
typed lines (energy under each PPA, surplus, uncontracted green, grid import per TOU period,
shortfall credits, take-or-pay, capacity fees, battery service, direct-line fees), the park's
totals and the overseas buyers' green-energy assignments.

Energy lines of a statement add up, to the Wh, to the tenant's metered consumption
(``<user>.load_kwh`` summed over the month); every line amount is quantity × unit price rounded
to the cent (:mod:`greenlink.economics.money`).

The flows table comes in through :func:`greenlink.flows.normalise` (index or column, any zone):
a month is a calendar month of the scenario's zone, and time-of-day prices read the local clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Literal

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.economics.buyers import BuyerPeriod, assign_green
from greenlink.economics.contracts import (
    attribute_green,
    contract_price_per_kwh,
    contracted_kwh,
    term_mask,
)
from greenlink.economics.fees import (
    PEAK_KW,
    FeeSchedule,
    capacity_charge_month,
    load_fee_schedule,
)
from greenlink.economics.money import (
    ROUNDING_RULE,
    apportion_kwh,
    apportion_money,
    kwh,
    money,
    unit_price,
)
from greenlink.economics.tariff import tou_prices
from greenlink.errors import InputError, Problem
from greenlink.scenario.contracts import PPA, BatteryService, FixedPrice
from greenlink.scenario.model import Scenario

LineKind = Literal["ppa_energy", "ppa_surplus", "uncontracted_green", "grid_import",
                   "shortfall_credit", "take_or_pay", "capacity_fee", "battery_service",
                   "fee", "td_capacity", "demand_charge"]
ENERGY_KINDS = frozenset({"ppa_energy", "ppa_surplus", "uncontracted_green", "grid_import"})


@dataclass(frozen=True)
class Line:
    """One line of a statement.

    ``energy`` lines are metered energy (they add up to the tenant's consumption); the others are
    charges or credits on a basis (kWh, kW·month) that is already counted. ``allocated`` lines
    carry a tenant's share of a park-level amount (largest remainder in cents), so their amount
    is not quantity × unit price but adds up over tenants to the park amount.
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


@dataclass(frozen=True)
class MeterTotals:
    """A tenant's metered energy in the month [kWh, 3 decimals]; green + grid = load."""

    load_kwh: Decimal
    green_kwh: Decimal
    grid_kwh: Decimal


@dataclass(frozen=True)
class ContractTotals:
    """A PPA's month for one buyer [kWh]: contracted, delivered, short, surplus taken."""

    contract_id: str
    kind: str
    contracted_kwh: Decimal
    delivered_kwh: Decimal
    shortfall_kwh: Decimal
    surplus_kwh: Decimal


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

    @property
    def total(self) -> Decimal:
        return sum((ln.amount for ln in self.lines), Decimal("0.00"))

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
class ParkTotals:
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
    peak_import_kw: Decimal = Decimal("0.000")
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
    fees_as_of: date
    rounding_rule: str = ROUNDING_RULE
    notes: tuple[str, ...] = field(default_factory=tuple)

    def statement(self, tenant: str) -> Statement:
        return next(s for s in self.statements if s.tenant == tenant)

    def contract_lines(self, contract_id: str) -> list[tuple[str, Line]]:
        """(tenant, line) of every line under one contract, for the contract's statement."""
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
    step = f"{scenario.time.interval_minutes}min"
    start = pd.Timestamp(period.start_time).tz_localize(tz)
    end = pd.Timestamp((period + 1).start_time).tz_localize(tz)
    expected = pd.date_range(start, end, freq=step, inclusive="left")
    local = flows.time_index(table)
    rows = table.loc[(local >= start) & (local < end)]
    if rows.empty:
        raise InputError(Problem(f"no meter data for {month}", location="--month",
                                 expected=f"{len(expected)} intervals of {step} in {month}"))
    absent = expected.difference(pd.DatetimeIndex(rows.index))
    if len(absent):
        raise InputError(Problem(f"{month}: {len(absent)} of {len(expected)} intervals have no "
                                 f"meter data (first {absent[0].isoformat()})",
                                 location=flows.INTERVAL_START,
                                 expected="a complete month; settle only complete months"))
    rows = rows.loc[expected]
    bad = rows[columns].isna().any()
    if bad.any():
        name = str(bad[bad].index[0])
        first = rows.index[rows[name].isna()][0]
        raise InputError(Problem(f"{month}: missing values in {name!r} (first "
                                 f"{first.isoformat()})", location=name,
                                 expected="a value in every interval"))
    return rows


# --------------------------------------------------------------------------- line building

def _price_labels(ppa: PPA, periods: np.ndarray, index: pd.DatetimeIndex) -> np.ndarray:
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


def _groups(energy: np.ndarray, price: np.ndarray, label: np.ndarray
            ) -> list[tuple[str, float, float]]:
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
class _EnergyItem:
    kind: LineKind
    description: str
    contract_id: str | None
    groups: list[tuple[str, float, float]]


def _energy_lines(items: list[_EnergyItem], total: Decimal) -> list[Line]:
    flat = [(it, g) for it in items for g in it.groups]
    quantities = apportion_kwh([g[2] for _, g in flat], total) if flat else []
    if not flat and total != 0:
        raise ValueError("energy to state but no line to state it on")
    lines = []
    for (it, (label, price, _e)), q in zip(flat, quantities, strict=True):
        p = unit_price(price)
        lines.append(Line(kind=it.kind, description=it.description, quantity=q, unit="kWh",
                          unit_price=p, amount=money(q * p), contract_id=it.contract_id,
                          period=label, energy=True))
    return lines


def _money_lines(kind: LineKind, description: str, contract_id: str | None,
                 groups: list[tuple[str, float, float]], sign: int = 1) -> list[Line]:
    out = []
    for label, price, e in groups:
        q = kwh(e)
        p = unit_price(sign * price)
        if q == 0 or p == 0:
            continue
        out.append(Line(kind=kind, description=description, quantity=q, unit="kWh",
                        unit_price=p, amount=money(q * p), contract_id=contract_id, period=label))
    return out


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


def settle(table: pd.DataFrame, scenario: Scenario, month: str, *,
           fees: FeeSchedule | None = None, fees_as_of: date | None = None) -> Settlement:
    """Settle one month: statements per tenant, park totals, overseas buyers' assignments.

    Parameters
    ----------
    table : flows table (docs/formats.md), simulated or metered and allocated; ``interval_start``
        as index or column, in any zone (normalised into the scenario's by
        :func:`greenlink.flows.normalise`). Needs every interval of the month.
    scenario : the park (users, contracts, tariff, grid connection capacity).
    month : ``YYYY-MM``.
    fees : fee schedule; default the shipped one of ``scenario.site.province``.
    fees_as_of : date the fees' effective dates are judged at; default the month's first day.

    Raises
    ------
    InputError
        month malformed, without (complete) meter data, or a column missing.
    """
    period = parse_month(month)
    rows = month_flows(table, scenario, month, required_columns(scenario))
    index = pd.DatetimeIndex(rows.index)
    h = scenario.time.interval_minutes / 60.0
    tariff, tou = tou_prices(scenario.tariff, index)
    fee_schedule = fees or load_fee_schedule(scenario.site.province or None)
    if fee_schedule.currency != scenario.tariff.currency:
        raise InputError(Problem(f"fee schedule is in {fee_schedule.currency}, the tariff in "
                                 f"{scenario.tariff.currency}", file=fee_schedule.file,
                                 location="currency", expected=scenario.tariff.currency))
    as_of = fees_as_of or period.start_time.date()
    notes: list[str] = []
    currency = scenario.tariff.currency
    ppas = [c for c in scenario.contracts if isinstance(c, PPA)]
    services = [c for c in scenario.contracts if isinstance(c, BatteryService)]
    intervals_in_month = len(index)

    battery_share = np.zeros(len(index))
    if services:
        gtl = rows[flows.GREEN_TO_LOAD_KWH].to_numpy(float)
        bdg = rows[flows.BATTERY_DISCHARGE_GREEN_KWH].to_numpy(float)
        battery_share = np.divide(bdg, gtl, out=np.zeros_like(gtl), where=gtl > 1e-12)
        battery_share = np.clip(battery_share, 0.0, 1.0)

    statements: list[Statement] = []
    grid_basis: dict[str, float] = {}
    load_basis: dict[str, float] = {}
    peak_basis: dict[str, float] = {}
    meters_by_user: dict[str, MeterTotals] = {}
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
        grid_basis[u], load_basis[u] = float(grid.sum()), float(load.sum())
        peak_basis[u] = float(load.max() / h) if len(load) else 0.0
        mine = [c for c in ppas if c.buyer == u]
        k = len(mine)
        contracted = np.zeros((len(index), k))
        active = np.zeros((len(index), k), dtype=bool)
        prices = np.zeros((len(index), k))
        for j, c in enumerate(mine):
            gen = (rows[flows.generator_generation(c.seller)].to_numpy(float)
                   if c.seller != "park" else None)
            contracted[:, j] = contracted_kwh(c, index, gen, h)
            active[:, j] = term_mask(c.term, index)
            prices[:, j] = contract_price_per_kwh(c.price, tariff, index)
        att = attribute_green(
            green, contracted, active,
            takes_surplus=np.array([c.surplus.take for c in mine], dtype=bool),
            shortfall_applies=np.array([c.volume.kind != "contracted_capacity" for c in mine],
                                       dtype=bool),
            max_kwh=[c.volume.max_kwh_per_month for c in mine])
        green_items: list[_EnergyItem] = []
        extra: list[Line] = []
        totals = tuple(ContractTotals(
            contract_id=c.id, kind=c.volume.kind,
            contracted_kwh=kwh(float(np.where(active[:, j], contracted[:, j], 0.0).sum())),
            delivered_kwh=kwh(float(att.delivered_kwh[:, j].sum())),
            shortfall_kwh=kwh(float(att.shortfall_kwh[:, j].sum())),
            surplus_kwh=kwh(float(att.surplus_kwh[:, j].sum()))) for j, c in enumerate(mine))
        for j, c in enumerate(mine):
            labels = _price_labels(c, tou, index)
            seller = "park operator" if c.seller == "park" else f"plant {c.seller}"
            green_items.append(_EnergyItem(
                "ppa_energy", f"{c.id}: {c.volume.kind.replace('_', '-')} energy from {seller}",
                c.id, _groups(att.delivered_kwh[:, j], prices[:, j], labels)))
            if c.surplus.price == "contract":
                sp, slab = prices[:, j], labels
            elif c.surplus.price == "fixed":
                sp, slab = np.full(len(index), c.surplus.price_per_kwh), \
                    np.full(len(index), "fixed", dtype=object)
            else:
                sp, slab = tariff, tou
            green_items.append(_EnergyItem("ppa_surplus", f"{c.id}: green energy beyond the "
                                           "contracted volume (surplus)", c.id,
                                           _groups(att.surplus_kwh[:, j], sp, slab)))
            comp = c.shortfall
            if comp.compensation != "none":
                credit = (np.maximum(tariff - prices[:, j], 0.0)
                          if comp.compensation == "grid_price_difference"
                          else np.full(len(index), comp.price_per_kwh))
                credit_label = tou if comp.compensation == "grid_price_difference" else \
                    np.full(len(index), "fixed", dtype=object)
                extra += _money_lines("shortfall_credit", f"{c.id}: shortfall credit (contracted "
                                      "energy not delivered)", c.id,
                                      _groups(att.shortfall_kwh[:, j], credit, credit_label), -1)
            share_active = float(active[:, j].mean()) if len(index) else 0.0
            vmin = c.volume.min_kwh_per_month
            if vmin is not None and share_active > 0 and c.take_or_pay_price_per_kwh > 0:
                deficit = vmin * share_active - float(att.delivered_kwh[:, j].sum())
                extra += _money_lines("take_or_pay", f"{c.id}: take-or-pay on the volume below "
                                      f"the monthly minimum ({vmin:g} kWh)", c.id,
                                      [("month", c.take_or_pay_price_per_kwh, deficit)]
                                      if deficit > 0 else [])
            if c.volume.kind == "contracted_capacity" and c.capacity_price_per_kw_month > 0 \
                    and share_active > 0:
                q = (Decimal(repr(float(c.volume.power_kw or 0.0)))
                     * Decimal(repr(share_active))).quantize(Decimal("0.001"))
                p = unit_price(c.capacity_price_per_kw_month)
                extra.append(Line(kind="capacity_fee", description=f"{c.id}: contracted capacity "
                                  f"fee ({c.volume.power_kw:g} kW)", quantity=q, unit="kW·month",
                                  unit_price=p, amount=money(q * p), contract_id=c.id,
                                  period="month"))
        green_items.append(_EnergyItem("uncontracted_green", "green energy outside any PPA "
                                       "(park supply at the grid tariff)", None,
                                       _groups(att.uncontracted_kwh, tariff, tou)))
        lines = _energy_lines(green_items, meters.green_kwh)
        lines += _energy_lines([_EnergyItem("grid_import", "grid import at the TOU tariff", None,
                                            _groups(grid, tariff, tou))], meters.grid_kwh)
        lines += extra
        for s in services:
            if s.buyer not in ("all", u):
                continue
            mask = term_mask(s.term, index)
            energy = np.where(mask, green * battery_share, 0.0)
            lines += _money_lines("battery_service", f"{s.id}: battery service on green energy "
                                  f"from {s.battery}", s.id,
                                  [("all hours", s.price_per_kwh, float(energy.sum()))])
        for fee in fee_schedule.energy_fees:
            if not fee.in_effect(as_of):
                continue
            base = {flows.USER_GRID_KWH: meters.grid_kwh, flows.USER_LOAD_KWH: meters.load_kwh,
                    flows.USER_GREEN_KWH: meters.green_kwh}[fee.base]
            if base == 0:
                continue
            p = unit_price(fee.price_per_kwh)  # the price stated is the price billed
            lines.append(Line(kind="fee", description=fee.name, quantity=base, unit="kWh",
                              unit_price=p, amount=money(base * p), period=fee.base))
        statements.append(Statement(tenant=u, tenant_name=user.name or u, month=month,
                                    currency=currency, meters=meters, lines=tuple(lines),
                                    contracts=totals))

    for fee in fee_schedule.energy_fees:
        if not fee.in_effect(as_of):
            notes.append(f"{fee.name}: not charged before {fee.effective_from} "
                         f"(fees judged as of {as_of})")
    td = fee_schedule.td_capacity
    capacity_kw = Decimal(repr(float(scenario.grid.connection_capacity_kw)))
    td_total = Decimal("0.00")
    td_price = Decimal("0")
    if td is not None and td.in_effect(as_of):
        td_price = td.price_per_kw_month
        td_total = money(capacity_charge_month(td, scenario.grid.connection_capacity_kw))
        basis = {flows.USER_GRID_KWH: grid_basis, flows.USER_LOAD_KWH: load_basis,
                 PEAK_KW: peak_basis}[td.allocation]
        users = [s.tenant for s in statements]
        shares = apportion_money(td_total, [basis[x] for x in users])
        unit = "kW (peak)" if td.allocation == "peak_kw" else "kWh (allocation basis)"
        total_basis = sum(basis.values())
        for i, (st, share) in enumerate(zip(statements, shares, strict=True)):
            q = (Decimal(repr(basis[st.tenant])).quantize(Decimal("0.001")))
            p = unit_price(float(td_total) / total_basis if total_basis > 0 else 0.0)
            ln = Line(kind="td_capacity", description="T&D capacity charge (NDRC 1192), share of "
                      f"the park's {td_total} {currency}", quantity=q, unit=unit, unit_price=p,
                      amount=share, period=td.allocation, allocated=True)
            statements[i] = replace(st, lines=(*st.lines, ln))
    elif td is not None:
        notes.append(f"T&D capacity charge (NDRC 1192): not charged before {td.effective_from} "
                     f"(fees judged as of {as_of})")

    demand_total, peak_kw = _demand_charge(rows, scenario, h)
    if demand_total > 0:
        statements = _with_demand_lines(statements, rows, scenario, demand_total, peak_kw)

    buyers = assign_green(scenario, month, {u: m.green_kwh for u, m in meters_by_user.items()})
    gen_by_plant = {c.removesuffix(_GENERATOR_SUFFIX): kwh(rows[c].sum())
                    for c in rows.columns if c.endswith(_GENERATOR_SUFFIX)}
    export_kwh = kwh(rows[flows.EXPORT_KWH].sum())
    export_price = unit_price(scenario.tariff.export_price_per_kwh)
    park = ParkTotals(
        generation_kwh=kwh(rows[flows.GENERATION_KWH].sum()) if flows.GENERATION_KWH in rows
        else sum(gen_by_plant.values(), Decimal("0.000")),
        generation_by_plant_kwh=gen_by_plant,
        load_kwh=sum((m.load_kwh for m in meters_by_user.values()), Decimal("0.000")),
        import_kwh=kwh(rows[flows.IMPORT_KWH].sum()), export_kwh=export_kwh,
        export_price_per_kwh=export_price, export_revenue=money(export_kwh * export_price),
        td_capacity_charge=td_total, td_capacity_price_per_kw_month=td_price,
        connection_capacity_kw=capacity_kw,
        tenants_total=sum((s.total for s in statements), Decimal("0.00")),
        peak_import_kw=kwh(peak_kw), demand_charge=demand_total)
    return Settlement(scenario_name=scenario.name, month=month, currency=currency,
                      interval_minutes=scenario.time.interval_minutes,
                      intervals=intervals_in_month, statements=tuple(statements), park=park,
                      buyers=tuple(buyers), fee_source=fee_schedule.file, fees_as_of=as_of,
                      notes=tuple(notes))


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
                       total: Decimal, peak_kw: float) -> list[Statement]:
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
                  "interval", quantity=Decimal(repr(b)).quantize(Decimal("0.001")),
                  unit="kWh (in the peak interval)", unit_price=price, amount=share,
                  period="month", allocated=True)
        out.append(replace(st, lines=(*st.lines, ln)))
    return out
