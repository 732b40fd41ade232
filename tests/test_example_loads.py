"""Tests for scripts/make_example_loads.py and the bundled Jiangsu park loads.csv."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_example_loads.py"
LOADS_CSV = ROOT / "src" / "greenlink" / "examples" / "jiangsu_park" / "series" / "loads.csv"
USERS = ("alu_extruder", "steel_fasteners", "cement_grinding", "battery_cells", "data_centre")
FACTORIES = ("alu_extruder", "steel_fasteners", "cement_grinding", "battery_cells")


@pytest.fixture(scope="module")
def gen():
    spec = importlib.util.spec_from_file_location("make_example_loads", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_example_loads", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def year(gen) -> pd.DataFrame:
    return gen.generate_loads(2025)


def test_month_deterministic_and_seed_sensitive(gen):
    index = gen.make_index("2025-03-01", "2025-04-01")
    a = gen.generate_loads(7, index)
    b = gen.generate_loads(7, index)
    pd.testing.assert_frame_equal(a, b)
    c = gen.generate_loads(8, index)
    for user in USERS:
        assert not np.array_equal(a[f"{user}_kw"].to_numpy(), c[f"{user}_kw"].to_numpy())


def test_plant_functions_are_pure(gen):
    index = gen.make_index("2025-05-01", "2025-05-08")
    for fn in gen.PROFILES.values():
        x = fn(index, np.random.default_rng(1))
        y = fn(index, np.random.default_rng(1))
        assert x.shape == (len(index),)
        np.testing.assert_array_equal(x, y)


def test_shape_columns_and_values(year):
    assert len(year) == 35_040
    assert list(year.columns) == [f"{u}_kw" for u in USERS]
    assert str(year.index.tz) == "Asia/Shanghai"
    assert year.index[0] == pd.Timestamp("2025-01-01 00:00", tz="Asia/Shanghai")
    steps = year.index[1:] - year.index[:-1]
    assert (steps == pd.Timedelta(minutes=15)).all()
    assert not year.isna().any().any()
    assert (year >= 0).all().all()


def test_annual_energy_plausible(year):
    gwh = year.sum() * 0.25 / 1e6
    targets = {
        "alu_extruder": 30,
        "steel_fasteners": 15,
        "cement_grinding": 25,
        "battery_cells": 35,
        "data_centre": 35,
    }
    for user, target in targets.items():
        assert 0.8 * target < gwh[f"{user}_kw"] < 1.2 * target, (user, gwh[f"{user}_kw"])


def test_cement_avoids_peak(gen, year):
    tou = gen.tou_period(year.index)
    cement = year["cement_grinding_kw"]
    peak_mean = cement[tou == "peak"].mean()
    valley_mean = cement[tou == "valley"].mean()
    assert peak_mean < 0.25 * valley_mean


def test_spring_festival_lower_than_normal_week(year):
    holiday = year.loc["2025-01-29":"2025-02-03"].mean()
    normal = year.loc["2025-03-03":"2025-03-09"].mean()
    for user in FACTORIES:
        assert holiday[f"{user}_kw"] < 0.85 * normal[f"{user}_kw"], user


def test_factories_lower_on_sunday(year):
    by_day = year.groupby(year.index.day_of_week).mean()
    for user in ("alu_extruder", "steel_fasteners"):
        assert by_day.loc[6, f"{user}_kw"] < 0.7 * by_day.loc[0:4, f"{user}_kw"].mean()


def test_data_centre_nearly_flat(year):
    dc = year["data_centre_kw"]
    assert dc.std() / dc.mean() < 0.1
    assert dc.min() > 0.7 * dc.mean()


def test_tou_periods(gen):
    idx = pd.DatetimeIndex(
        [
            "2025-07-01 15:00",
            "2025-07-01 12:00",
            "2025-04-01 14:30",
            "2025-04-01 12:00",
            "2025-04-01 01:00",
            "2025-01-01 01:00",
        ]
    ).tz_localize("Asia/Shanghai")
    assert list(gen.tou_period(idx)) == ["peak", "valley", "flat", "valley", "flat", "valley"]


def test_csv_matches_generator(gen, year, tmp_path):
    out = tmp_path / "loads.csv"
    gen.write_csv(year, out)
    if LOADS_CSV.exists():
        assert out.read_bytes() == LOADS_CSV.read_bytes()
    first = out.read_text().splitlines()[:2]
    assert first[0] == "interval_start," + ",".join(f"{u}_kw" for u in USERS)
    assert first[1].startswith("2025-01-01T00:00:00+08:00,")
