"""The sequential battery loop, compiled with numba.

Rules, interval by interval (batteries in the order the scenario lists them):

1. Green surplus (generation left after direct supply to loads) charges the batteries, limited by
   power and by room up to ``soc_max``; stored energy = charge × η_charge.
2. A deficit (load left after direct supply) is met by discharging, limited by power and by the
   energy above ``soc_min``; delivered energy = stored energy taken × η_discharge.
3. Where a battery may charge from the grid, it does so in intervals flagged as cheap (the
   tariff's lowest-price period) that have no green surplus, limited by power, room and the
   import headroom; it does not discharge in those intervals.

Colour of stored energy (``fifo`` flag): *pro rata* — each discharge carries the green share of
the energy stored at that moment; *FIFO* — stored energy leaves in the order it came in, each
charge keeping its own green share. Energy stored at the start of the year counts as grid energy
(never claimed as green).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def run_batteries(surplus_kwh, deficit_kwh, cheap, import_headroom_kwh,
                  max_kwh_per_interval, eta_charge, eta_discharge, e_min_kwh, e_max_kwh,
                  e_initial_kwh, grid_charging, fifo):  # pragma: no cover - compiled
    n_t = surplus_kwh.shape[0]
    n_b = e_max_kwh.shape[0]
    charge_green = np.zeros((n_t, n_b))
    charge_grid = np.zeros((n_t, n_b))
    discharge = np.zeros((n_t, n_b))
    discharge_green = np.zeros((n_t, n_b))
    soc = np.zeros((n_t, n_b))
    soc_green = np.zeros((n_t, n_b))

    stored = e_initial_kwh.copy()
    stored_green = np.zeros(n_b)
    # FIFO queues of stored energy (amount, green fraction); one push per interval at most
    q_amount = np.zeros((n_b, n_t + 1))
    q_green = np.zeros((n_b, n_t + 1))
    head = np.zeros(n_b, dtype=np.int64)
    tail = np.ones(n_b, dtype=np.int64)
    for b in range(n_b):
        q_amount[b, 0] = e_initial_kwh[b]

    for t in range(n_t):
        s = surplus_kwh[t]
        d = deficit_kwh[t]
        headroom = import_headroom_kwh[t]
        for b in range(n_b):
            if s > 0.0:
                room = (e_max_kwh[b] - stored[b]) / eta_charge[b]
                c = min(s, max_kwh_per_interval[b], max(room, 0.0))
                if c > 0.0:
                    s -= c
                    added = c * eta_charge[b]
                    stored[b] += added
                    stored_green[b] += added
                    charge_green[t, b] = c
                    if fifo:
                        q_amount[b, tail[b]] = added
                        q_green[b, tail[b]] = 1.0
                        tail[b] += 1
            elif cheap[t] and grid_charging[b]:
                room = (e_max_kwh[b] - stored[b]) / eta_charge[b]
                c = min(max_kwh_per_interval[b], max(room, 0.0), max(headroom, 0.0))
                if c > 0.0:
                    headroom -= c
                    added = c * eta_charge[b]
                    stored[b] += added
                    charge_grid[t, b] = c
                    if fifo:
                        q_amount[b, tail[b]] = added
                        q_green[b, tail[b]] = 0.0
                        tail[b] += 1
            if d > 0.0 and not (cheap[t] and grid_charging[b]):
                available = (stored[b] - e_min_kwh[b]) * eta_discharge[b]
                out = min(d, max_kwh_per_interval[b], max(available, 0.0))
                if out > 0.0:
                    d -= out
                    taken = out / eta_discharge[b]
                    if fifo:
                        green_taken = 0.0
                        need = taken
                        while need > 1e-12 and head[b] < tail[b]:
                            k = head[b]
                            part = min(need, q_amount[b, k])
                            green_taken += part * q_green[b, k]
                            q_amount[b, k] -= part
                            need -= part
                            if q_amount[b, k] <= 1e-12:
                                head[b] += 1
                    else:
                        share = stored_green[b] / stored[b] if stored[b] > 0.0 else 0.0
                        green_taken = taken * min(max(share, 0.0), 1.0)
                    green_taken = min(green_taken, stored_green[b])
                    stored[b] -= taken
                    stored_green[b] -= green_taken
                    discharge[t, b] = out
                    discharge_green[t, b] = green_taken * eta_discharge[b]
            soc[t, b] = stored[b]
            soc_green[t, b] = stored_green[b]
    return charge_green, charge_grid, discharge, discharge_green, soc, soc_green
