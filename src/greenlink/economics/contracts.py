"""Contract delivery kernels: contracted volume, price, attribution of green energy to PPAs.

Pure functions over arrays of intervals (index = interval beginnings, local time). Energy in kWh
per interval, power in kW, prices in currency/kWh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from greenlink.scenario.contracts import PPA, CollarPrice, FixedPrice, IndexedPrice, Term


def term_mask(term: Term, index: pd.DatetimeIndex) -> np.ndarray:
    """True for intervals whose local date lies within the term (both ends inclusive)."""
    dates = index.date
    return np.asarray((dates >= term.start) & (dates <= term.end), dtype=bool)


def contracted_kwh(ppa: PPA, index: pd.DatetimeIndex, plant_generation_kwh: np.ndarray | None,
                   interval_hours: float) -> np.ndarray:
    r"""Energy the PPA contracts in each interval [kWh], zero outside its term.

    Notes
    -----
    * pay_as_produced: :math:`c_t = s \cdot G_{p,t}` (share of the plant's available generation)
    * baseload, contracted_capacity: :math:`c_t = P \cdot \Delta t`
    * shaped: :math:`c_t = P_{h(t)} \cdot \Delta t` (hourly profile, local hour)
    """
    v = ppa.volume
    if v.kind == "pay_as_produced":
        if plant_generation_kwh is None:
            raise ValueError("pay_as_produced needs the plant's generation")
        out = float(v.share or 0.0) * np.asarray(plant_generation_kwh, dtype=float)
    elif v.kind == "shaped":
        profile = np.asarray(v.profile_kw, dtype=float)
        out = profile[index.hour.to_numpy()] * interval_hours
    else:
        out = np.full(len(index), float(v.power_kw or 0.0) * interval_hours)
    return np.where(term_mask(ppa.term, index), out, 0.0)


def contract_price_per_kwh(price: FixedPrice | IndexedPrice | CollarPrice,
                           tariff_price_per_kwh: np.ndarray,
                           index: pd.DatetimeIndex) -> np.ndarray:
    r"""Contract price of every interval [currency/kWh].

    Notes
    -----
    * fixed: :math:`p_t = p` or the price of the time-of-day period containing :math:`t`
    * indexed: :math:`p_t = \tau_t (1 - d) + a` (grid tariff :math:`\tau_t`, discount, adder)
    * collar: :math:`p_t = \min(\max(\tau_t (1 - d), p_\mathrm{floor}), p_\mathrm{cap})`
    """
    tariff = np.asarray(tariff_price_per_kwh, dtype=float)
    if isinstance(price, FixedPrice):
        if price.price_per_kwh is not None:
            return np.full(len(index), float(price.price_per_kwh))
        minutes = (index.hour * 60 + index.minute).to_numpy()
        out = np.full(len(index), np.nan)
        for p in price.periods or []:
            start, end = p.minutes()
            out[(minutes >= start) & (minutes < end)] = p.price_per_kwh
        return out
    if isinstance(price, IndexedPrice):
        return tariff * (1.0 - price.discount) + price.adder_per_kwh
    return np.clip(tariff * (1.0 - price.discount), price.floor_per_kwh, price.cap_per_kwh)


def cap_cumulative(energy_kwh: np.ndarray, max_total_kwh: float | None) -> np.ndarray:
    """Clip a series so that its running sum never exceeds ``max_total_kwh`` (in time order)."""
    if max_total_kwh is None:
        return np.asarray(energy_kwh, dtype=float)
    capped = np.minimum(np.cumsum(energy_kwh), max_total_kwh)
    return np.diff(capped, prepend=0.0)


@dataclass(frozen=True)
class Attribution:
    """How a tenant's green energy splits among its PPAs (arrays (T, K) in contract order).

    Per PPA and interval the contracted volume is ``delivered + shortfall + undertake +
    above_cap`` exactly; ``surplus`` is green energy beyond every contracted volume.
    """

    delivered_kwh: np.ndarray  # energy attributed to each PPA's contracted volume
    shortfall_kwh: np.ndarray  # seller shortfall: the tenant's load could have taken it
    undertake_kwh: np.ndarray  # buyer under-take: beyond the tenant's load left for the PPA
    above_cap_kwh: np.ndarray  # contracted from the interval the monthly cap is reached on
    surplus_kwh: np.ndarray  # green beyond all contracted volumes, taken by a PPA
    uncontracted_kwh: np.ndarray  # (T,) green no active PPA took


def attribute_green(green_kwh: np.ndarray, contracted: np.ndarray, active: np.ndarray,
                    takes_surplus: np.ndarray, max_kwh: list[float | None],
                    load_kwh: np.ndarray | None = None) -> Attribution:
    r"""Attribute a tenant's green energy to its PPAs in contract order (first come, first
    served), and say who bears the contracted volume that was not delivered.

    Parameters
    ----------
    green_kwh : (T,) green energy the tenant received per interval [kWh] (metered, allocated)
    contracted : (T, K) contracted energy per PPA [kWh]
    active : (T, K) the PPA's term covers the interval
    takes_surplus : (K,) the PPA takes green energy beyond the contracted volumes
    max_kwh : per PPA, a cap on the running total delivered in the period (or None)
    load_kwh : (T,) the tenant's consumption [kWh]; ``None``: unlimited (every kWh not
        delivered is the seller's shortfall)

    Notes
    -----
    With :math:`R_{t,0} = g_t` (green left) and :math:`M_{t,0} = L_t` (load left):
    :math:`d_{t,k} = \min(c_{t,k}, R_{t,k})`, capped so that :math:`\sum_t d_{t,k} \le
    D^{max}_k`; :math:`R_{t,k+1} = R_{t,k} - d_{t,k}`, :math:`M_{t,k+1} = M_{t,k} - d_{t,k}`.
    The gap :math:`c_{t,k} - d_{t,k}` is

    * *above the cap* in the interval the cap is reached and after it;
    * else *buyer under-take* :math:`u = \min(	ext{gap}, \max(0, c_{t,k} - M_{t,k}))` (the
      tenant's load left for this PPA was lower than the contracted volume), and *seller
      shortfall* the rest, :math:`	ext{gap} - u` (the load could have taken it, the green
      energy was not there).

    What remains of :math:`R` goes to the first active PPA that takes surplus, else it is
    uncontracted. Σ delivered + Σ surplus + uncontracted = g.
    """
    green = np.asarray(green_kwh, dtype=float)
    n, k = contracted.shape
    delivered = np.zeros((n, k))
    shortfall = np.zeros((n, k))
    undertake = np.zeros((n, k))
    above_cap = np.zeros((n, k))
    surplus = np.zeros((n, k))
    remaining = green.copy()
    room = (np.full(n, np.inf) if load_kwh is None
            else np.maximum(np.asarray(load_kwh, dtype=float), green))
    for j in range(k):
        want = np.where(active[:, j], contracted[:, j], 0.0)
        cap = max_kwh[j]
        d = cap_cumulative(np.minimum(want, remaining), cap)
        delivered[:, j] = d
        gap = np.maximum(want - d, 0.0)
        reached = (np.zeros(n, dtype=bool) if cap is None
                   else np.cumsum(d) >= float(cap) - 1e-9)
        under = np.minimum(gap, np.maximum(want - room, 0.0))
        above_cap[:, j] = np.where(reached, gap, 0.0)
        undertake[:, j] = np.where(reached, 0.0, under)
        shortfall[:, j] = np.where(reached, 0.0, gap - under)
        remaining = np.maximum(remaining - d, 0.0)
        room = np.maximum(room - d, 0.0)
    taken = np.zeros(n, dtype=bool)
    for j in range(k):
        if not takes_surplus[j]:
            continue
        here = active[:, j] & ~taken
        surplus[:, j] = np.where(here, remaining, 0.0)
        taken |= here
    uncontracted = np.where(taken, 0.0, remaining)
    return Attribution(delivered, shortfall, undertake, above_cap, surplus, uncontracted)
