"""``settle``: a month of the park, tenant by tenant, then the park-level charges."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.economics.buyers import (
    assign_green,
)
from greenlink.economics.contracts import (
    attribute_green,
    contract_price_per_kwh,
    contracted_kwh,
    term_mask,
)
from greenlink.economics.fees import (
    FeeSchedule,
    days_in_effect,
    in_effect_mask,
    load_fee_schedule,
)
from greenlink.economics.fx import FxRate, FxSeries
from greenlink.economics.money import (
    kwh,
    money,
    unit_price,
)
from greenlink.economics.settlement.charges import (
    _demand_charge,
    _fee_lines,
    _fee_notes,
    _td_lines,
    _with_demand_lines,
)
from greenlink.economics.settlement.lines import (
    GRID_COMPANY,
    PARK_OPERATOR,
    ZERO_KWH,
    _groups,
    _Item,
    _lines,
    _price_labels,
    _sum_q,
    make_line,
    plain,
)
from greenlink.economics.settlement.model import (
    BuyerStatement,
    ContractTotals,
    MeterTotals,
    ParkTotals,
    Settlement,
    Statement,
)
from greenlink.economics.settlement.month import (
    _GENERATOR_SUFFIX,
    _fx_for,
    _Month,
    _Priced,
    month_flows,
    parse_month,
    required_columns,
)
from greenlink.economics.settlement.per_contract import (
    _buyer_statement,
    _contract_lines,
    _tenant_energy_items,
)
from greenlink.economics.tariff import tou_prices
from greenlink.errors import InputError, Problem
from greenlink.scenario.contracts import (
    PPA,
    BatteryService,
    contract_currency,
)
from greenlink.scenario.model import Scenario


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
