"""Units: the one kWh ↔ Wh conversion and the named tolerances.

Certificates count whole watt-hours; flows count kWh as floats. Every conversion between the two
goes through :func:`kwh_to_wh`, so the Wh issued for an hour and the Wh claimed against it are
computed by the same rule and can never differ by rounding.

The rule: **round down to the whole Wh, after adding** :data:`WH_FLOAT_NOISE` (a millionth of a
Wh), so that float noise such as ``(0.2 + 0.7 + 0.1) * 1000 = 999.9999999999999`` does not lose
a Wh, and
nothing is ever issued or claimed above what was measured.
"""

from __future__ import annotations

from typing import overload

import numpy as np
import numpy.typing as npt

WH_PER_KWH = 1000
KWH_PER_MWH = 1000

#: Float noise absorbed before rounding kWh down to whole Wh [Wh].
WH_FLOAT_NOISE = 1e-6

#: The energy balance of a simulated interval closes to this [kWh].
BALANCE_TOLERANCE_KWH = 1e-6
#: Tolerance for flows tables read from files (CSV keeps 6 decimals per column) [kWh].
FILE_TOLERANCE_KWH = 1e-3
#: Values below zero down to this are float noise, clipped to 0 in outputs [kWh].
NEGATIVE_NOISE_KWH = 1e-9
#: No interval of a flows table may hold more than this (1 TWh): larger is a unit error [kWh].
MAX_INTERVAL_KWH = 1e9
#: Ratios (shares) compared to a threshold are equal within this.
SHARE_TOLERANCE = 1e-9


@overload
def kwh_to_wh(kwh: float) -> int: ...
@overload
def kwh_to_wh(kwh: npt.ArrayLike) -> npt.NDArray[np.int64]: ...


def kwh_to_wh(kwh: float | npt.ArrayLike) -> int | npt.NDArray[np.int64]:
    """Whole Wh in ``kwh`` (rounded down after absorbing float noise; negatives give 0).

    Parameters
    ----------
    kwh : float or array-like
        Energy [kWh], finite.

    Returns
    -------
    int or numpy.ndarray of int64
        Energy [Wh], ``floor(kwh · 1000 + 1e-6)``, at least 0.
    """
    values = np.asarray(kwh, dtype=float)
    if not np.all(np.isfinite(values)):
        raise ValueError("kwh_to_wh: energy must be finite")
    wh = np.maximum(np.floor(values * WH_PER_KWH + WH_FLOAT_NOISE), 0.0).astype(np.int64)
    if np.ndim(kwh) == 0 and not isinstance(kwh, np.ndarray):
        return int(wh)
    return wh


@overload
def wh_to_kwh(wh: int) -> float: ...
@overload
def wh_to_kwh(wh: npt.ArrayLike) -> npt.NDArray[np.float64]: ...


def wh_to_kwh(wh: int | npt.ArrayLike) -> float | npt.NDArray[np.float64]:
    """Energy in Wh as kWh (exact division by 1000)."""
    values = np.asarray(wh, dtype=float) / WH_PER_KWH
    if np.ndim(wh) == 0 and not isinstance(wh, np.ndarray):
        return float(values)
    return values


def clip_noise(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Values with tiny negative float noise (down to −:data:`NEGATIVE_NOISE_KWH`) set to 0."""
    arr = np.asarray(values, dtype=float)
    return np.where((arr < 0) & (arr >= -NEGATIVE_NOISE_KWH), 0.0, arr)
