"""Small parks written to a temporary folder for tests (no PV, hourly: fast, no weather)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

BASE_TOML = """\
schema_version = 1
name = "test park"

[site]
latitude = 31.93
longitude = 118.90
timezone = "Asia/Shanghai"
province = "CN-JS"

[time]
year = 2025
interval_minutes = 60

[allocation]
method = "pro_rata"

[[users]]
id = "a"
kind = "factory"
load = {{ path = "{loads}", column = "a_kw" }}

[[users]]
id = "b"
kind = "data_centre"
load = {{ path = "{loads}", column = "b_kw" }}

[[wind]]
id = "w"
capacity_kw = 3000
capacity_factor = {{ path = "{loads}", column = "wind_cf", unit = "fraction" }}

[[batteries]]
id = "bess"
energy_kwh = 2000
power_kw = 1000
soc_min = 0.1
soc_max = 0.9

[grid]
connection_capacity_kw = 5000
import_limit_kw = 5000
export_limit_kw = 500

[tariff]
currency = "CNY"
prices_per_kwh = {{ peak = 1.1, flat = 0.65, valley = 0.23 }}
export_price_per_kwh = 0.39

[[tariff.seasons]]
name = "all"
months = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
default_period = "flat"
windows = [ {{ period = "valley", start = "00:00", end = "06:00" }},
            {{ period = "peak", start = "17:00", end = "22:00" }} ]

[[products]]
sku = "BOLT-1"
cn_code = "7318 15 88"
user = "a"
electricity_kwh_per_t = 500
annual_output_t = 1000
"""


def loads_frame(year: int = 2025, seed: int = 1, freq: str = "60min") -> pd.DataFrame:
    index = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq=freq, inclusive="left",
                          tz="Asia/Shanghai")
    rng = np.random.default_rng(seed)
    hours = index.hour.to_numpy()
    a = 800 + 400 * ((hours >= 8) & (hours < 20)) + rng.uniform(0, 100, len(index))
    b = 600 + rng.uniform(0, 50, len(index))
    cf = np.clip(0.35 + 0.25 * np.sin(np.arange(len(index)) / 17.0)
                 + rng.normal(0, 0.1, len(index)), 0, 1)
    return pd.DataFrame({"interval_start": [t.isoformat() for t in index],
                         "a_kw": a.round(3), "b_kw": b.round(3), "wind_cf": cf.round(4)})


def write_park(folder: Path, toml: str | None = None, frame: pd.DataFrame | None = None,
               loads_name: str = "loads.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame = loads_frame() if frame is None else frame
    if loads_name.endswith(".parquet"):
        frame.to_parquet(folder / loads_name, index=False)
    else:
        frame.to_csv(folder / loads_name, index=False)
    text = (toml or BASE_TOML).format(loads=loads_name) if toml is None else toml
    path = folder / "park.toml"
    path.write_text(text, encoding="utf-8")
    return path


def park_toml(loads: str = "loads.csv") -> str:
    return BASE_TOML.format(loads=loads)
