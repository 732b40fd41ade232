"""Tiny flows tables with answers known by hand, and a signing key."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from greenlink.evidence.claims import GreenShareRequest, Topology

TZ = "Asia/Shanghai"
SCENARIO_TOML = 'name = "tiny"\n'


def tiny_flows() -> pd.DataFrame:
    """Two clock hours at 30 min, one user ``u`` (the whole park load), one plant ``pv``.

    Hour 1: generation 10+10, load 8+8 → green 8+8, export 2+2; a_u = 16 + 4 = 20,
    matched = min(20, 16) = 16. Hour 2: generation 2+0, load 8+8 → green 2+0, matched 2.
    Share = (16 + 2) / 32 = 0.5625.
    """
    index = pd.date_range("2025-01-01 00:00", periods=4, freq="30min", tz=TZ,
                          name="interval_start")
    gen = np.array([10.0, 10.0, 2.0, 0.0])
    load = np.array([8.0, 8.0, 8.0, 8.0])
    green = np.minimum(gen, load)
    zero = np.zeros(4)
    return pd.DataFrame({
        "generation_kwh": gen, "load_kwh": load, "green_to_load_kwh": green,
        "green_direct_kwh": green, "battery_charge_kwh": zero,
        "battery_charge_green_kwh": zero, "battery_discharge_kwh": zero,
        "battery_discharge_green_kwh": zero, "battery_soc_kwh": zero,
        "battery_soc_green_kwh": zero, "export_kwh": gen - green, "curtailed_kwh": zero,
        "import_kwh": load - green, "import_over_limit_kwh": zero,
        "pv.generation_kwh": gen, "u.load_kwh": load, "u.green_kwh": green,
        "u.grid_kwh": load - green,
    }, index=index)


def tiny_day_15min() -> pd.DataFrame:
    """:func:`tiny_flows` as a whole day at 15 minutes (a file for a 15-minute scenario): each
    30-minute row split into two equal halves, the other 22 hours without generation or load.
    Hourly sums, and so the hourly-matched share 0.5625, are those of :func:`tiny_flows`."""
    half = tiny_flows() / 2
    index = pd.date_range("2025-01-01 00:00", periods=96, freq="15min", tz=TZ,
                          name="interval_start")
    day = pd.DataFrame(0.0, index=index, columns=half.columns)
    day.iloc[:8] = np.repeat(half.to_numpy(), 2, axis=0)
    return day


def random_flows(seed: int, hours: int = 48, users: int = 2, minutes: int = 15) -> pd.DataFrame:
    """Random but physically consistent flows (pro-rata allocation, battery green in/out)."""
    rng = np.random.default_rng(seed)
    n = hours * 60 // minutes
    index = pd.date_range("2025-03-01", periods=n, freq=f"{minutes}min", tz=TZ,
                          name="interval_start")
    gen = rng.uniform(0, 100, n) * (rng.uniform(size=n) > 0.3)
    loads = rng.uniform(0, 40, (users, n))
    load = loads.sum(axis=0)
    direct = np.minimum(gen, load)
    charge = np.minimum(gen - direct, rng.uniform(0, 20, n))
    discharge = np.minimum(load - direct, rng.uniform(0, 10, n) * (rng.uniform(size=n) > 0.5))
    to_load = direct + discharge
    curtailed = rng.uniform(0, 1, n) * (gen - direct - charge)
    frame = pd.DataFrame({
        "generation_kwh": gen, "load_kwh": load, "green_to_load_kwh": to_load,
        "curtailed_kwh": curtailed, "battery_charge_green_kwh": charge,
        "battery_discharge_green_kwh": discharge, "export_kwh": gen - direct - charge - curtailed,
        "pv.generation_kwh": gen * 0.25, "wind.generation_kwh": gen * 0.75,
    }, index=index)
    share = np.divide(loads, load, out=np.zeros_like(loads), where=load > 0)
    for i in range(users):
        frame[f"u{i}.load_kwh"] = loads[i]
        frame[f"u{i}.green_kwh"] = share[i] * to_load
        frame[f"u{i}.grid_kwh"] = loads[i] - share[i] * to_load
    return frame


def request_for(flows: pd.DataFrame, user: str, **changes: object) -> GreenShareRequest:
    index = pd.DatetimeIndex(flows.index)
    base: dict[str, object] = dict(
        user_id=user, flows=flows, start=index[0], end=index[-1] + (index[1] - index[0]),
        scenario_name="tiny.toml", scenario_toml=SCENARIO_TOML, timezone=TZ,
        topology=Topology("sld/tiny-rev1.pdf", "ab" * 32, "10 kV line"),
        data_versions={"ruleset_id": "test"})
    base.update(changes)
    return GreenShareRequest(**base)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _own_keyring(tmp_path_factory: pytest.TempPathFactory,
                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test reads and writes its own (empty) verifier keyring, never the user's."""
    monkeypatch.setenv("GREENLINK_KEYRING",
                       str(tmp_path_factory.mktemp("keyring") / "trusted_keys.json"))


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@pytest.fixture
def other_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
