"""KPIs on tiny hand-computed flows, and the ordering invariant on random consistent flows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenlink import flows
from greenlink.errors import InputError
from greenlink.policy import kpis
from greenlink.policy.kpis import KpiReadings, compute_kpis

PARK_COLS = ["generation_kwh", "load_kwh", "green_to_load_kwh", "green_direct_kwh",
             "battery_charge_kwh", "battery_charge_green_kwh", "battery_discharge_kwh",
             "battery_discharge_green_kwh", "battery_soc_kwh", "battery_soc_green_kwh",
             "export_kwh", "curtailed_kwh", "import_kwh"]


def make_flows(rows: list[dict[str, float]], start: str = "2025-07-01 00:00",
               freq: str = "60min") -> pd.DataFrame:
    """Rows give park columns (missing = 0) and user columns; battery all green."""
    frame = pd.DataFrame(rows).fillna(0.0)
    for col in PARK_COLS:
        if col not in frame:
            frame[col] = 0.0
    frame["battery_charge_kwh"] = frame["battery_charge_green_kwh"]
    frame["battery_discharge_kwh"] = frame["battery_discharge_green_kwh"]
    frame["battery_soc_kwh"] = frame["battery_soc_green_kwh"]
    frame["green_direct_kwh"] = frame["green_to_load_kwh"] - frame["battery_discharge_green_kwh"]
    for user in ("A", "B"):
        if f"{user}.load_kwh" in frame:
            frame[f"{user}.grid_kwh"] = frame[f"{user}.load_kwh"] - frame[f"{user}.green_kwh"]
    frame.index = pd.date_range(start, periods=len(frame), freq=freq, tz="Asia/Shanghai",
                                name="interval_start")
    return frame


def four_hours() -> pd.DataFrame:
    """Hand-computed example: 4 hours, users A and B, one charge and one discharge."""
    return make_flows([
        # direct supply only
        {"generation_kwh": 4, "load_kwh": 4, "green_to_load_kwh": 4,
         "A.load_kwh": 2, "A.green_kwh": 2, "B.load_kwh": 2, "B.green_kwh": 2},
        # charge 4 (0.4 lost), export 5, curtail 1
        {"generation_kwh": 16, "load_kwh": 6, "green_to_load_kwh": 6,
         "battery_charge_green_kwh": 4, "battery_soc_green_kwh": 3.6, "export_kwh": 5,
         "curtailed_kwh": 1, "A.load_kwh": 4, "A.green_kwh": 4, "B.load_kwh": 2, "B.green_kwh": 2},
        # discharge 3 to user A, import 3 for B
        {"generation_kwh": 0, "load_kwh": 6, "green_to_load_kwh": 3,
         "battery_discharge_green_kwh": 3, "battery_soc_green_kwh": 0.6, "import_kwh": 3,
         "A.load_kwh": 3, "A.green_kwh": 3, "B.load_kwh": 3, "B.green_kwh": 0},
        # night, all import
        {"generation_kwh": 0, "load_kwh": 4, "battery_soc_green_kwh": 0.6, "import_kwh": 4,
         "A.load_kwh": 2, "A.green_kwh": 0, "B.load_kwh": 2, "B.green_kwh": 0},
    ])


def test_energy_balance_of_the_example() -> None:
    f = four_hours()
    lhs = f["generation_kwh"] + f["battery_discharge_kwh"] + f["import_kwh"]
    rhs = f["load_kwh"] + f["battery_charge_kwh"] + f["export_kwh"] + f["curtailed_kwh"]
    assert np.allclose(lhs, rhs)


def test_green_battery_loss() -> None:
    assert kpis.green_battery_loss_kwh(four_hours()) == pytest.approx(0.4)
    assert kpis.green_battery_loss_kwh(four_hours(), soc_green_start_kwh=1.0) == pytest.approx(1.4)


def test_park_kpis_hand_computed() -> None:
    f = four_hours()
    assert kpis.self_use_share_of_generation(f) == pytest.approx(13.4 / 20)
    assert kpis.green_share_of_consumption(f) == pytest.approx(13 / 20)
    assert kpis.physically_delivered_share(f) == pytest.approx(13 / 20)
    assert kpis.export_share_of_generation(f) == pytest.approx(5 / 20)
    # a_h = 4, 16 - 1 - 4 = 11, 3, 0; load 4, 6, 6, 4
    assert kpis.hourly_matched_share(f) == pytest.approx((4 + 6 + 3 + 0) / 20)
    assert kpis.annual_matched_share(f) == pytest.approx(18 / 20)


def test_self_use_readings() -> None:
    f = four_hours()
    no_loss = KpiReadings(storage_losses_count_as_self_use=False)
    no_curt = KpiReadings(curtailment_in_denominator=False)
    assert kpis.self_use_share_of_generation(f, readings=no_loss) == pytest.approx(13 / 20)
    assert kpis.self_use_share_of_generation(f, readings=no_curt) == pytest.approx(13.4 / 19)
    assert kpis.export_share_of_generation(f, readings=no_curt) == pytest.approx(5 / 19)


def test_user_kpis_hand_computed() -> None:
    f = four_hours()
    assert kpis.green_share_of_consumption(f, "A") == pytest.approx(9 / 11)
    assert kpis.green_share_of_consumption(f, "B") == pytest.approx(4 / 9)
    # surplus in hour 1 = 11 - 6 = 5, A gets 4/6 of it, B 2/6
    assert kpis.hourly_matched_share(f, "A") == pytest.approx(9 / 11)
    assert kpis.annual_matched_share(f, "A") == pytest.approx(1.0)
    assert kpis.annual_matched_share(f, "B") == pytest.approx((2 + 2 + 5 / 3) / 9)
    assert kpis.hourly_matched_share(f, "B") == pytest.approx(4 / 9)


def test_park_only_kpi_rejects_user_scope() -> None:
    with pytest.raises(InputError, match="park scope only"):
        kpis.self_use_share_of_generation(four_hours(), "A")


def test_quarter_hours_match_within_the_clock_hour() -> None:
    f = make_flows([
        {"generation_kwh": 4, "load_kwh": 2, "green_to_load_kwh": 2, "export_kwh": 2},
        {"generation_kwh": 0, "load_kwh": 2, "import_kwh": 2},
        {"generation_kwh": 0, "load_kwh": 0},
        {"generation_kwh": 0, "load_kwh": 0},
    ], freq="15min")
    assert kpis.physically_delivered_share(f) == pytest.approx(0.5)
    assert kpis.hourly_matched_share(f) == pytest.approx(1.0)


def test_zero_denominator_is_nan() -> None:
    f = make_flows([{"generation_kwh": 0, "load_kwh": 0}])
    assert math.isnan(kpis.self_use_share_of_generation(f))
    assert math.isnan(kpis.green_share_of_consumption(f))


def test_compute_kpis_tidy_year() -> None:
    table = compute_kpis(four_hours(), ["A", "B"], "year")
    assert list(table.columns) == ["scope", "period", "kpi", "value"]
    assert set(table["scope"]) == {"park", "A", "B"}
    assert set(table["period"]) == {"2025"}
    park = table[table.scope == "park"].set_index("kpi")["value"]
    assert park["self_use_share_of_generation"] == pytest.approx(0.67)
    assert len(park) == len(kpis.KPI_FUNCTIONS)
    users = table[table.scope == "A"]
    assert "self_use_share_of_generation" not in set(users["kpi"])


def test_compute_kpis_interval_start_column_and_month_carry_over() -> None:
    f = make_flows([
        {"generation_kwh": 0, "load_kwh": 0},
        {"generation_kwh": 10, "load_kwh": 5, "green_to_load_kwh": 5,
         "battery_charge_green_kwh": 5, "battery_soc_green_kwh": 4.5},
        {"generation_kwh": 0, "load_kwh": 5, "green_to_load_kwh": 4.5,
         "battery_discharge_green_kwh": 4.5, "battery_soc_green_kwh": 0.0, "import_kwh": 0.5},
    ], start="2025-01-31 22:00").reset_index()
    table = compute_kpis(f, [], "month")
    value = table.set_index(["period", "kpi"])["value"]
    assert value["2025-01", "self_use_share_of_generation"] == pytest.approx(5.5 / 10)
    assert math.isnan(value["2025-02", "self_use_share_of_generation"])
    assert value["2025-02", "green_share_of_consumption"] == pytest.approx(0.9)
    year = compute_kpis(f, [], "year").set_index("kpi")["value"]
    assert year["self_use_share_of_generation"] == pytest.approx(1.0)


def test_missing_columns_and_naive_time() -> None:
    f = four_hours()
    with pytest.raises(InputError, match=r"C\.load_kwh"):
        compute_kpis(f, ["C"], "year")
    with pytest.raises(InputError, match="export_kwh"):
        compute_kpis(f.drop(columns=["export_kwh"]), [], "year")
    with pytest.raises(InputError, match="timezone"):
        compute_kpis(f.tz_localize(None), [], "year")


# ---------------------------------------------------------------------------------------------
# invariant on random consistent flows


@st.composite
def random_flows(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=1, max_value=60))
    freq = draw(st.sampled_from(["15min", "60min"]))
    seed = draw(st.integers(min_value=0, max_value=2**31 - 1))
    rng = np.random.default_rng(seed)
    soc, cap, eta = 0.0, float(rng.uniform(0, 20)), 0.9
    rows = []
    for _ in range(n):
        gen = float(rng.uniform(0, 10)) * float(rng.integers(0, 2))
        load_a, load_b = (float(x) for x in rng.uniform(0, 5, 2))
        load = load_a + load_b
        direct = min(gen, load) * float(rng.uniform(0.5, 1))
        rest = gen - direct
        charge = min(rest * float(rng.uniform(0, 1)), (cap - soc) / eta)
        soc += charge * eta
        rest -= charge
        export = rest * float(rng.uniform(0, 1))
        curtailed = rest - export
        discharge = min(soc, (load - direct) * float(rng.uniform(0, 1)))
        soc -= discharge
        green = direct + discharge
        lo, hi = max(0.0, green - load_b), min(load_a, green)
        green_a = lo + (hi - lo) * float(rng.uniform(0, 1))
        rows.append({"generation_kwh": gen, "load_kwh": load, "green_to_load_kwh": green,
                     "battery_charge_green_kwh": charge, "battery_discharge_green_kwh": discharge,
                     "battery_soc_green_kwh": soc, "export_kwh": export,
                     "curtailed_kwh": curtailed, "import_kwh": load - green,
                     "A.load_kwh": load_a, "A.green_kwh": green_a,
                     "B.load_kwh": load_b, "B.green_kwh": green - green_a})
    start = draw(st.sampled_from(["2025-01-31 20:00", "2025-06-15 00:00"]))
    return make_flows(rows, start=start, freq=freq)


@settings(max_examples=60, deadline=None)
@given(flows=random_flows(), period=st.sampled_from(["year", "month"]))
def test_matching_ordering_invariant(flows: pd.DataFrame, period: str) -> None:
    table = compute_kpis(flows, ["A", "B"], period)  # type: ignore[arg-type]
    for (_scope, _label), group in table.groupby(["scope", "period"]):
        v = group.set_index("kpi")["value"]
        if math.isnan(v["physically_delivered_share"]):
            continue
        tol = 1e-9
        assert v["physically_delivered_share"] <= v["hourly_matched_share"] + tol
        assert v["hourly_matched_share"] <= v["annual_matched_share"] + tol
        assert v["annual_matched_share"] <= 1 + tol
        assert v["physically_delivered_share"] == pytest.approx(v["green_share_of_consumption"])


# ---------------------------------------------------------------------------------------------
# green battery loss: the year starts with no green energy stored


def two_hours_charge_then_discharge() -> pd.DataFrame:
    """One battery, η_charge = η_discharge = 0.9, empty at the start of the year.

    h0: generation 30; load 10 served directly; 10 green charged → 10 · 0.9 = 9 stored;
        export 10                                     (30 = 10 + 10 + 10)
    h1: no generation; load 10; the 9 stored leave as 9 · 0.9 = 8.1 delivered; import 1.9
    """
    return make_flows([
        {flows.GENERATION_KWH: 30, flows.LOAD_KWH: 10, flows.GREEN_TO_LOAD_KWH: 10,
         flows.BATTERY_CHARGE_GREEN_KWH: 10, flows.BATTERY_SOC_GREEN_KWH: 9,
         flows.EXPORT_KWH: 10},
        {flows.GENERATION_KWH: 0, flows.LOAD_KWH: 10, flows.GREEN_TO_LOAD_KWH: 8.1,
         flows.BATTERY_DISCHARGE_GREEN_KWH: 8.1, flows.BATTERY_SOC_GREEN_KWH: 0,
         flows.IMPORT_KWH: 1.9},
    ])


def test_self_use_counts_the_first_intervals_charging_loss() -> None:
    f = two_hours_charge_then_discharge()
    assert np.allclose(flows.balance_error_kwh(f), 0.0)
    # loss = Σ charge − Σ discharge − (soc_end − soc_start) = 10 − 8.1 − (0 − 0) = 1.9
    #      = 1.0 lost charging (10 − 9) + 0.9 lost discharging (9 − 8.1)
    assert kpis.green_battery_loss_kwh(f) == pytest.approx(1.9)
    # self-use = (Σ green_to_load + loss) ÷ Σ generation = (10 + 8.1 + 1.9) ÷ 30 = 20/30
    # (starting from soc_0 − net change_0 = 9 − 10 = −1 instead of 0 gave (18.1 + 0.9)/30)
    assert kpis.self_use_share_of_generation(f) == pytest.approx(20 / 30)
    year = compute_kpis(f, [], "year").set_index("kpi")["value"]
    assert year["self_use_share_of_generation"] == pytest.approx(20 / 30)


def test_monthly_losses_sum_to_the_years() -> None:
    # 31 Jan 22:00: as h0 above (10 charged, 9 stored); 23:00: half the store leaves,
    # 4.5 · 0.9 = 4.05 delivered (soc 4.5); 1 Feb 00:00: the other half, 4.05 (soc 0).
    f = make_flows([
        {flows.GENERATION_KWH: 30, flows.LOAD_KWH: 10, flows.GREEN_TO_LOAD_KWH: 10,
         flows.BATTERY_CHARGE_GREEN_KWH: 10, flows.BATTERY_SOC_GREEN_KWH: 9,
         flows.EXPORT_KWH: 10},
        {flows.LOAD_KWH: 10, flows.GREEN_TO_LOAD_KWH: 4.05,
         flows.BATTERY_DISCHARGE_GREEN_KWH: 4.05, flows.BATTERY_SOC_GREEN_KWH: 4.5,
         flows.IMPORT_KWH: 5.95},
        {flows.LOAD_KWH: 10, flows.GREEN_TO_LOAD_KWH: 4.05,
         flows.BATTERY_DISCHARGE_GREEN_KWH: 4.05, flows.BATTERY_SOC_GREEN_KWH: 0,
         flows.IMPORT_KWH: 5.95},
    ], start="2025-01-31 22:00")
    assert np.allclose(flows.balance_error_kwh(f), 0.0)
    months = kpis.split_periods(kpis.prepare_flows(f), "month")
    losses = {label: kpis.green_battery_loss_kwh(part, start) for label, part, start in months}
    # January from 0: 10 − 4.05 − (4.5 − 0) = 1.45; February from 4.5: 0 − 4.05 − (0 − 4.5) = 0.45
    assert losses == pytest.approx({"2025-01": 1.45, "2025-02": 0.45})
    # the year: 10 − 8.1 − 0 = 1.9 = 1.45 + 0.45
    assert kpis.green_battery_loss_kwh(f) == pytest.approx(1.9)
    assert sum(losses.values()) == pytest.approx(kpis.green_battery_loss_kwh(f))
    month = compute_kpis(f, [], "month").set_index(["period", "kpi"])["value"]
    # January: (10 + 4.05 + 1.45) ÷ 30; February has no generation
    assert month["2025-01", "self_use_share_of_generation"] == pytest.approx(15.5 / 30)
    assert math.isnan(month["2025-02", "self_use_share_of_generation"])
