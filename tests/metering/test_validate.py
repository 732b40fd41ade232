import numpy as np
import pandas as pd

from greenlink.metering.validate import ValidationParams, balance_issues, check_readings
from tests.metering.helpers import scenario

METERS = {m.id: m for m in scenario().meters}
P = ValidationParams.defaults()


def frame(meter: str, values: list[float], start: int = 0, step: int = 900,
          skip: tuple[int, ...] = ()) -> pd.DataFrame:
    ts = [start + i * step for i in range(len(values)) if i not in skip]
    vals = [v for i, v in enumerate(values) if i not in skip]
    return pd.DataFrame({"meter_id": meter, "ts_s": ts, "energy_kwh": vals})


def checks(issues: pd.DataFrame, check: str) -> list[int]:
    return issues.loc[issues["check"] == check, "ts_s"].tolist()


def test_gap_negative_rating_stuck() -> None:
    values = [1, 2, -1, 4, 5, 500, 7, 8, 9, 10]
    clean, issues = check_readings(frame("gen", values, skip=(3, 4)), METERS, {"gen": 400}, P)
    assert checks(issues, "gap") == [2700, 3600]
    assert checks(issues, "negative") == [1800]
    # 400 kW · 0.25 h · 1.05 = 105 kWh
    assert checks(issues, "above_rating") == [4500]
    assert len(clean) == 8 and not clean["filled"].any()
    stuck, issues2 = check_readings(frame("gen", [3.0] * 8 + [0.0] * 20), METERS, {}, P)
    assert checks(issues2, "stuck") == [i * 900 for i in range(8)]  # zeros are not stuck
    assert len(stuck) == 28


def test_duplicates_keep_the_last() -> None:
    df = pd.concat([frame("gen", [1, 2]), frame("gen", [5], start=900)], ignore_index=True)
    clean, issues = check_readings(df, METERS, {}, P)
    assert clean["energy_kwh"].tolist() == [1, 5]
    assert checks(issues, "duplicate") == [900]


def test_fill_only_on_request_and_flagged() -> None:
    df = frame("gen", [1, 0, 0, 4], skip=(1, 2))
    clean, issues = check_readings(df, METERS, {}, P)
    assert len(clean) == 2 and checks(issues, "gap") == [900, 1800]
    clean, issues = check_readings(df, METERS, {}, P, fill=True)
    np.testing.assert_allclose(clean["energy_kwh"], [1, 2, 3, 4])
    assert clean["filled"].tolist() == [False, True, True, False]
    assert checks(issues, "filled") == [900, 1800] and not checks(issues, "gap")
    long_gap = frame("gen", [1.0] * 30, skip=tuple(range(2, 25)))
    _, issues = check_readings(long_gap, METERS, {}, P, fill=True)
    assert len(checks(issues, "gap")) == 23  # longer than max_fill_intervals: stays a gap


def test_balance_tolerance() -> None:
    supply = np.array([100.0, 100.0, 10.0])
    use = np.array([99.0, 90.0, 10.5])
    # allowed: 0.02 · 100 + 1 = 3 kWh; 0.02·10.5 + 1 = 1.21
    issues = balance_issues(supply, use, np.array([0, 900, 1800]), P)
    assert issues["ts_s"].tolist() == [900]
    strict = ValidationParams.defaults(balance_relative_tolerance=0.0,
                                       balance_absolute_tolerance_kwh=0.1)
    assert balance_issues(supply, use, np.array([0, 900, 1800]), strict)["ts_s"].tolist() \
        == [0, 900, 1800]
