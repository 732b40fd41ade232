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
    """How a buyer's green energy splits among its PPAs (arrays (T, K) in contract order)."""

    delivered_kwh: np.ndarray  # energy attributed to each PPA's contracted volume
    shortfall_kwh: np.ndarray  # contracted but not delivered (0 for contracted_capacity)
    surplus_kwh: np.ndarray  # green beyond all contracted volumes, taken by a PPA
    uncontracted_kwh: np.ndarray  # (T,) green no active PPA took


def attribute_green(green_kwh: np.ndarray, contracted: np.ndarray, active: np.ndarray,
                    takes_surplus: np.ndarray, shortfall_applies: np.ndarray,
                    max_kwh: list[float | None]) -> Attribution:
    r"""Attribute a buyer's green energy to its PPAs in contract order (first come, first served).

    Parameters
    ----------
    green_kwh : (T,) green energy the buyer received per interval [kWh] (metered, allocated)
    contracted : (T, K) contracted energy per PPA [kWh]
    active : (T, K) the PPA's term covers the interval
    takes_surplus : (K,) the PPA takes green energy beyond the contracted volumes
    shortfall_applies : (K,) the PPA has a delivery obligation (all kinds but contracted capacity)
    max_kwh : per PPA, a cap on the running total delivered in the period (or None)

    Notes
    -----
    With :math:`R_{t,0} = g_t`: :math:`d_{t,k} = \min(c_{t,k}, R_{t,k})` (then capped so that
    :math:`\sum_t d_{t,k} \le D^{max}_k`), :math:`R_{t,k+1} = R_{t,k} - d_{t,k}`; shortfall
    :math:`c_{t,k} - d_{t,k}` while the cap is not reached. What remains goes to the first active
    PPA that takes surplus, else it is uncontracted. Σ delivered + Σ surplus + uncontracted = g.
    """
    green = np.asarray(green_kwh, dtype=float)
    n, k = contracted.shape
    delivered = np.zeros((n, k))
    shortfall = np.zeros((n, k))
    surplus = np.zeros((n, k))
    remaining = green.copy()
    for j in range(k):
        want = np.where(active[:, j], contracted[:, j], 0.0)
        cap = max_kwh[j]
        d = cap_cumulative(np.minimum(want, remaining), cap)
        delivered[:, j] = d
        remaining = np.maximum(remaining - d, 0.0)
        if shortfall_applies[j]:
            before_cap = (np.ones(n, dtype=bool) if cap is None
                          else np.cumsum(d) < float(cap) - 1e-9)
            shortfall[:, j] = np.where(before_cap, np.maximum(want - d, 0.0), 0.0)
    taken = np.zeros(n, dtype=bool)
    for j in range(k):
        if not takes_surplus[j]:
            continue
        here = active[:, j] & ~taken
        surplus[:, j] = np.where(here, remaining, 0.0)
        taken |= here
    uncontracted = np.where(taken, 0.0, remaining)
    return Attribution(delivered, shortfall, surplus, uncontracted)
