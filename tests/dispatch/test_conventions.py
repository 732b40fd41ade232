"""Allocation conventions stated in docs/formats.md, each on a hand-computed case."""

from __future__ import annotations

import numpy as np

from greenlink.dispatch.simulate import BatteryArrays, dispatch_arrays
from greenlink.results import _clean


def test_contracted_capacity_applies_again_to_battery_discharge() -> None:
    # Interval 0: 40 kWh of PV, loads 10 + 10 → both served directly; the 20 kWh surplus charges
    # the battery up to its power (12 kWh/interval, η = 1), the other 8 are curtailed.
    # Interval 1: no PV, loads 10 + 10; the battery gives 12 kWh. User 0's entitlement
    # (8 kWh/interval) is served first again: 8, then the remaining 4 kWh pro rata to the
    # remaining deficits 2 and 10: user 0 + 4·2/12, user 1 4·10/12.
    battery = BatteryArrays(
        energy_kwh=np.array([100.0]), max_kwh_per_interval=np.array([12.0]),
        eta_charge=np.array([1.0]), eta_discharge=np.array([1.0]), soc_min=np.array([0.0]),
        soc_max=np.array([1.0]), soc_initial=np.array([0.0]),
        grid_charging=np.array([False]))
    r = dispatch_arrays(np.array([[10.0, 10.0], [10.0, 10.0]]), np.array([40.0, 0.0]),
                        batteries=battery, export_cap_kwh=0.0, import_limit_kwh=100.0,
                        method="contracted_capacity", entitlements_kwh=np.array([8.0, 0.0]))
    np.testing.assert_allclose(r.user_green[0], [10.0, 10.0])
    np.testing.assert_allclose(r.user_green[1], [8.0 + 4 * 2 / 12, 4 * 10 / 12])
    np.testing.assert_allclose(r.curtailed, [8.0, 0.0])


def test_tiny_negative_noise_reads_as_zero_in_summaries() -> None:
    assert _clean(-1e-10) == 0.0
    assert _clean(-1e-6) == -1e-6  # a real negative stays visible
    assert _clean(3.5) == 3.5
