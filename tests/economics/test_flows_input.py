"""Settlement takes the flows table through greenlink.flows: any zone, index or column.

The month is a calendar month of the park's zone and time-of-day prices read its local clock,
whatever zone the table's ``interval_start`` is in; the expected amounts are worked out by hand.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from greenlink import flows
from greenlink.economics.fees import parse_fee_schedule
from greenlink.economics.settlement import settle
from greenlink.economics.whatif import complete_months, settle_year
from greenlink.errors import InputError

from .conftest import tiny_fees, tiny_flows, tiny_scenario

TZ = "Asia/Shanghai"
HOURS = 31 * 24  # January
PEAK_HOURS = 31 * 4  # 18:00-22:00 local
FLAT_HOURS = HOURS - PEAK_HOURS


def peaky_flows() -> pd.DataFrame:
    """Tiny flows where tenant a draws 40 kWh/h from the grid in the local peak (18-22 h) and
    20 kWh/h otherwise (its green energy stays 60 kWh/h)."""
    frame = tiny_flows()
    local_hour = pd.DatetimeIndex(frame.index).tz_convert(TZ).hour
    grid = np.where((local_hour >= 18) & (local_hour < 22), 40.0, 20.0)
    frame["a.grid_kwh"] = grid
    frame["a.load_kwh"] = 60.0 + grid
    return frame


def _forms(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    utc = frame.tz_convert("UTC")
    return {
        "local index": frame,
        "UTC index": utc,
        "column, UTC": utc.reset_index(),
        "column, local, rows reversed": frame.reset_index().iloc[::-1],
    }


def _line(statement, kind, period):
    (found,) = [ln for ln in statement.lines if ln.kind == kind and ln.period == period]
    return found


@pytest.mark.parametrize("form", ["local index", "UTC index", "column, UTC",
                                  "column, local, rows reversed"])
def test_local_peak_prices_whatever_the_zone_of_the_index(form: str) -> None:
    table = _forms(peaky_flows())[form]
    a = settle(table, tiny_scenario(), "2025-01", fees=tiny_fees()).statement("a")
    assert _line(a, "grid_import", "peak").quantity == Decimal(40 * PEAK_HOURS)
    assert _line(a, "grid_import", "peak").amount == Decimal(40 * PEAK_HOURS) * Decimal("1.0")
    assert _line(a, "grid_import", "flat").amount == Decimal(20 * FLAT_HOURS) * Decimal("0.5")
    assert a.meters.load_kwh == Decimal(60 * HOURS + 40 * PEAK_HOURS + 20 * FLAT_HOURS)


def test_settlement_is_the_same_for_every_form_of_the_table() -> None:
    forms = _forms(peaky_flows())
    reference = settle(forms["local index"], tiny_scenario(), "2025-01", fees=tiny_fees())
    for name, table in forms.items():
        assert settle(table, tiny_scenario(), "2025-01", fees=tiny_fees()) == reference, name


def test_complete_months_are_months_of_the_park_zone() -> None:
    # January and February in Shanghai: in UTC the table starts on 31 December, 16:00
    utc = tiny_flows().tz_convert("UTC")
    assert complete_months(utc, tiny_scenario()) == ["2025-01", "2025-02"]
    assert complete_months(utc.reset_index(), tiny_scenario()) == ["2025-01", "2025-02"]
    assert complete_months(utc.iloc[1:], tiny_scenario()) == ["2025-02"]


def test_settled_year_is_the_same_for_a_utc_table() -> None:
    local = settle_year(tiny_flows(), tiny_scenario(), fees=tiny_fees())
    utc = settle_year(tiny_flows().tz_convert("UTC").reset_index(), tiny_scenario(),
                      fees=tiny_fees())
    assert [s.month for s in utc] == ["2025-01", "2025-02"]
    assert utc == local


def test_an_interval_twice_is_refused() -> None:
    frame = tiny_flows()
    with pytest.raises(InputError, match="appears more than once"):
        settle(pd.concat([frame, frame.iloc[:1]]), tiny_scenario(), "2025-01", fees=tiny_fees())


def _schedule(base: str, allocation: str) -> dict[str, object]:
    return {"province": "T", "currency": "CNY",
            "td_capacity": {"effective_from": pd.Timestamp("2020-01-01").date(),
                            "policy_capacity_price_per_kw_month": 10,
                            "energy_td_price_per_kwh": 0, "average_load_rate": 0,
                            "allocation": allocation},
            "energy_fees": [{"id": "f", "base": base, "price_per_kwh": 0.01,
                             "effective_from": pd.Timestamp("2020-01-01").date()}]}


def test_fee_on_consumption_and_capacity_charge_split_by_peak_by_hand() -> None:
    fees = parse_fee_schedule(_schedule(flows.USER_LOAD_KWH, "peak_kw"), "<test>")
    s = settle(tiny_flows(), tiny_scenario(), "2025-01", fees=fees)
    for tenant in ("a", "b"):
        st = s.statement(tenant)
        (fee,) = [ln for ln in st.lines if ln.kind == "fee"]
        # 100 kWh/h of consumption in every hour of January at 0.01 per kWh
        assert fee.quantity == Decimal(100 * HOURS)
        assert fee.amount == Decimal(100 * HOURS) * Decimal("0.01")
        (td,) = [ln for ln in st.lines if ln.kind == "td_capacity"]
        assert td.quantity == Decimal(100)  # peak: 100 kWh in one hour = 100 kW
    # 10 per kW and month × 1000 kW, split evenly between two equal peaks
    assert s.park.td_capacity_charge == Decimal("10000.00")
    assert [ln.amount for st in s.statements for ln in st.lines if ln.kind == "td_capacity"] \
        == [Decimal("5000.00"), Decimal("5000.00")]


def test_unknown_fee_base_and_allocation_name_the_choices() -> None:
    with pytest.raises(InputError, match="grid_kwh, load_kwh or green_kwh"):
        parse_fee_schedule(_schedule("export_kwh", "grid_kwh"), "<test>")
    with pytest.raises(InputError, match="grid_kwh, load_kwh or peak_kw"):
        parse_fee_schedule(_schedule("grid_kwh", "green_kwh"), "<test>")
