"""Fixtures: a tiny hourly park with flows known by hand, and the example park's simulated year."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from greenlink.economics.fees import EnergyFee, FeeSchedule
from greenlink.scenario.load import LoadedScenario, load_scenario, parse_scenario
from greenlink.scenario.model import Scenario

TINY_TOML = """\
schema_version = 1
name = "tiny"

[site]
latitude = 31.9
longitude = 118.9
timezone = "Asia/Shanghai"
province = "CN-JS"

[time]
year = 2025
interval_minutes = 60

[[users]]
id = "a"
load = {{ path = "x.csv", column = "a" }}

[[users]]
id = "b"
load = {{ path = "x.csv", column = "b" }}

[[wind]]
id = "w"
capacity_kw = 3000
capacity_factor = {{ path = "x.csv", column = "cf", unit = "fraction" }}

[[batteries]]
id = "bess"
energy_kwh = 1000
power_kw = 500

[grid]
connection_capacity_kw = 1000
import_limit_kw = 1000

[tariff]
currency = "{currency}"
prices_per_kwh = {{ peak = 1.0, flat = 0.5 }}

[[tariff.seasons]]
name = "all"
months = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
default_period = "flat"
windows = [{{ period = "peak", start = "18:00", end = "22:00" }}]

[[products]]
sku = "P"
cn_code = "7604 29 10"
user = "a"
electricity_kwh_per_t = 100
annual_output_t = 1000
{contracts}
"""

TINY_CONTRACTS = """
[[contracts]]
type = "ppa"
id = "wind-a"
seller = "w"
buyer = "a"
volume = { kind = "pay_as_produced", share = 0.25 }
price = { kind = "fixed", price_per_kwh = 0.4 }
term = { start = 2025-01-01, end = 2025-12-31 }
shortfall = { compensation = "none" }

[[contracts]]
type = "ppa"
id = "park-b"
seller = "park"
buyer = "b"
volume = { kind = "baseload", power_kw = 80 }
price = { kind = "indexed", discount = 0.2 }
term = { start = 2025-01-01, end = 2025-12-31 }

[[contracts]]
type = "green_supply"
id = "gsa"
seller = "a"
buyer = { id = "eu", name = "EU buyer", country = "DE" }
term = { start = 2025-01-01, end = 2025-12-31 }
shipments = [
  { id = "S1", month = "2025-01", sku = "P", quantity_t = 200 },
  { id = "S2", month = "2025-01", sku = "P", quantity_t = 500 },
]
"""


def tiny_scenario(contracts: str = TINY_CONTRACTS, currency: str = "CNY") -> Scenario:
    return parse_scenario(TINY_TOML.format(contracts=contracts, currency=currency))


def tiny_flows(months: int = 2) -> pd.DataFrame:
    """Constant hourly flows: a 100 kWh load (60 green), b 100 kWh (50 green), wind 200 kWh.

    A complete flows table (docs/formats.md) that balances: 200 generated = 99 direct + 11 into
    the battery + 90 exported; 110 green to load = 99 direct + 11 out of the battery.
    """
    index = pd.date_range("2025-01-01", periods=24 * (31 + 28)
                          if months == 2 else 24 * 31, freq="60min", tz="Asia/Shanghai",
                          name="interval_start")
    n = len(index)
    frame = pd.DataFrame({
        "generation_kwh": np.full(n, 200.0), "w.generation_kwh": np.full(n, 200.0),
        "a.load_kwh": 100.0, "a.green_kwh": 60.0, "a.grid_kwh": 40.0,
        "b.load_kwh": 100.0, "b.green_kwh": 50.0, "b.grid_kwh": 50.0,
        "import_kwh": 90.0, "export_kwh": 90.0, "green_to_load_kwh": 110.0,
        "battery_discharge_green_kwh": 11.0,
        "load_kwh": 200.0, "green_direct_kwh": 99.0, "battery_charge_kwh": 11.0,
        "battery_charge_green_kwh": 11.0, "battery_discharge_kwh": 11.0,
        "battery_soc_kwh": 50.0, "battery_soc_green_kwh": 50.0, "curtailed_kwh": 0.0,
        "import_over_limit_kwh": 0.0,
    }, index=index)
    return frame


def tiny_fees(price: str = "0.01") -> FeeSchedule:
    fee = EnergyFee(id="sys", name="System operation", name_zh="", base="grid_kwh",
                    price_per_kwh=Decimal(price), effective_from=date(2020, 1, 1),
                    confidence="test")
    return FeeSchedule(province="T", currency="CNY", source="test", file="<test>",
                       td_capacity=None, energy_fees=(fee,))


@pytest.fixture(scope="session")
def example_loaded() -> LoadedScenario:
    from greenlink.cli.main import example_dir

    return load_scenario(example_dir() / "park.toml")


@pytest.fixture(scope="session")
def example_flows(example_loaded: LoadedScenario) -> pd.DataFrame:
    from greenlink.dispatch.simulate import simulate
    from greenlink.inputs import build_inputs

    return simulate(build_inputs(example_loaded))
