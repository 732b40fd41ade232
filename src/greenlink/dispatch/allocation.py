"""Allocation of green energy among users, interval by interval (vectorised over intervals).

Every method hands out exactly ``amount`` (which never exceeds the sum of the caps) and never gives
a user more than its cap (its load, or its remaining deficit).

Methods
-------
pro_rata
    In proportion to each user's cap: ``x_u = amount · cap_u / Σ cap``.
fixed_shares
    In proportion to fixed shares ``s_u``, capped at ``cap_u``; what a capped user cannot take is
    handed on to the others in proportion to their shares (water-filling), so no green energy is
    left unused while some user still has load.
priority
    Users with priority 1 first (pro rata among equal priorities), then 2, …
contracted_capacity
    First each user's contracted entitlement ``min(cap_u, contracted_kw_u · Δt)`` (pro rata to
    the entitlements when the amount falls short), then the rest pro rata to the remaining caps.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Method = Literal["pro_rata", "fixed_shares", "priority", "contracted_capacity"]


def _pro_rata(amount: np.ndarray, caps: np.ndarray) -> np.ndarray:
    total = caps.sum(axis=1)
    ratio = np.divide(amount, total, out=np.zeros_like(amount), where=total > 0)
    return caps * np.minimum(ratio, 1.0)[:, None]


def _water_fill(amount: np.ndarray, caps: np.ndarray, weights: np.ndarray) -> np.ndarray:
    out = np.zeros_like(caps)
    remaining = amount.astype(float).copy()
    active = caps > 0
    for _ in range(caps.shape[1] + 1):
        w = np.where(active, weights[None, :], 0.0)
        wsum = w.sum(axis=1)
        give = np.divide(remaining, wsum, out=np.zeros_like(remaining), where=wsum > 0)[:, None] * w
        room = caps - out
        take = np.minimum(give, room)
        out += take
        remaining = remaining - take.sum(axis=1)
        active = active & (caps - out > 1e-12)
        if not (remaining > 1e-12).any():
            break
    # users with zero weight (or rounding leftovers) get the rest pro rata to their room
    rest = np.maximum(remaining, 0.0)
    if (rest > 1e-12).any():
        out += _pro_rata(rest, caps - out)
    return out


def allocate(amount: np.ndarray, caps: np.ndarray, method: Method, *,
             shares: np.ndarray | None = None, priorities: np.ndarray | None = None,
             entitlements: np.ndarray | None = None) -> np.ndarray:
    """Split ``amount[t]`` among users with ``caps[t, u]`` by ``method``.

    Parameters
    ----------
    amount : (T,) array, kWh
    caps : (T, U) array, kWh; ``amount[t] <= caps[t].sum()`` is assumed (the excess is dropped)
    shares : (U,) fixed shares for ``fixed_shares``
    priorities : (U,) integers for ``priority`` (1 first)
    entitlements : (U,) contracted energy per interval (kWh) for ``contracted_capacity``

    Returns
    -------
    (T, U) array of kWh with ``0 <= x <= caps`` and ``x.sum(1) = min(amount, caps.sum(1))``.
    """
    amount = np.minimum(np.asarray(amount, dtype=float), caps.sum(axis=1))
    if method == "pro_rata":
        return _pro_rata(amount, caps)
    if method == "fixed_shares":
        assert shares is not None
        return _water_fill(amount, caps, np.asarray(shares, dtype=float))
    if method == "priority":
        assert priorities is not None
        out = np.zeros_like(caps)
        remaining = amount.copy()
        for level in np.unique(priorities):
            members = priorities == level
            group_caps = np.where(members[None, :], caps, 0.0)
            part = _pro_rata(np.minimum(remaining, group_caps.sum(axis=1)), group_caps)
            out += part
            remaining = remaining - part.sum(axis=1)
        return out
    if method == "contracted_capacity":
        assert entitlements is not None
        first_caps = np.minimum(caps, np.asarray(entitlements, dtype=float)[None, :])
        first = _pro_rata(np.minimum(amount, first_caps.sum(axis=1)), first_caps)
        rest = amount - first.sum(axis=1)
        return first + _pro_rata(rest, caps - first)
    raise ValueError(f"unknown allocation method {method!r}")
