"""Hourly clearness index from the time-dependent autoregressive Gaussian (TAG) model of Aguiar &
Collares-Pereira (1992), bounded by the clear-sky limit."""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_MAX_REDRAWS = 20  # TAG rejection sampling: redraws before a value is clipped to its bounds
_REDRAW_POOL_FACTOR = 4  # normal draws kept for the redraws, per hour of the year

# --------------------------------------------------------------------------------------------
# Hourly TAG model (Aguiar & Collares-Pereira 1992)
# --------------------------------------------------------------------------------------------
def _tag_parameters(daily_kt: FloatArray, sin_h: FloatArray
                    ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mean ``ktm``, standard deviation ``σ`` and lag-1 autocorrelation ``φ`` of the TAG model."""
    kt = np.clip(daily_kt, 0.0, 0.95)  # κ turns negative above Kt ≈ 0.97
    s = np.clip(sin_h, 0.02, 1.0)
    lam = -0.19 + 1.12 * kt + 0.24 * np.exp(-8.0 * kt)
    eta = 0.32 - 1.6 * (kt - 0.5) ** 2
    kappa = 0.19 + 2.27 * kt**2 - 2.51 * kt**3
    ktm = lam + eta * np.exp(-kappa / s)
    a = 0.14 * np.exp(-20.0 * (kt - 0.35) ** 2)
    b = 3.0 * (kt - 0.45) ** 2 + 16.0 * kt**5
    sigma = a * np.exp(b * (1.0 - s))
    phi = 0.38 + 0.06 * np.cos(7.4 * kt - 2.5)
    return ktm, sigma, phi


def hourly_clearness(daily_kt: ArrayLike, day_of_hour: ArrayLike, sin_elevation: ArrayLike,
                     rng: np.random.Generator, kt_max: ArrayLike | None = None) -> FloatArray:
    """Draw hourly clearness indices with the TAG model.

    Parameters
    ----------
    daily_kt : array_like, shape (n_days,)
        Daily clearness index of each day, dimensionless.
    day_of_hour : array_like of int, shape (n_hours,)
        For each hour, the index into ``daily_kt`` of its day. Hours must be consecutive.
    sin_elevation : array_like, shape (n_hours,)
        Sine of the (hour-mean) solar elevation, dimensionless; hours with a value ≤ 0 are night.
    rng : numpy.random.Generator
        Source of every random draw.
    kt_max : array_like, shape (n_hours,), optional
        Upper bound of each hour's kt (dimensionless), normally the clear-sky kt. Default 1.

    Returns
    -------
    numpy.ndarray, shape (n_hours,)
        Hourly clearness index ``kt`` = hourly GHI / hourly extraterrestrial horizontal
        irradiance, dimensionless, within [0, kt_max]; 0 at night.

    Notes
    -----
    With ``Kt`` the day's clearness index and ``h`` the solar elevation,

    .. math::

        kt &= k_{tm}(Kt, h) + σ(Kt, h)\\, y \\\\
        k_{tm} &= λ + η \\exp(-κ / \\sin h) \\\\
        λ &= -0.19 + 1.12\\,Kt + 0.24 \\exp(-8\\,Kt), \\quad
        η = 0.32 - 1.6\\,(Kt - 0.5)^2, \\quad
        κ = 0.19 + 2.27\\,Kt^2 - 2.51\\,Kt^3 \\\\
        σ &= A \\exp(B\\,(1 - \\sin h)), \\quad
        A = 0.14 \\exp(-20\\,(Kt - 0.35)^2), \\quad B = 3\\,(Kt - 0.45)^2 + 16\\,Kt^5 \\\\
        y_t &= φ\\,y_{t-1} + \\sqrt{1 - φ^2}\\,ε_t, \\quad ε_t \\sim N(0, 1), \\quad
        φ = 0.38 + 0.06 \\cos(7.4\\,Kt - 2.5)

    so that ``y`` is a stationary unit-variance AR(1) process; it starts each morning from
    ``y ~ N(0, 1)``. A value outside [0, kt_max] is rejected and ``ε`` redrawn (up to 20 times,
    then clipped), as in the paper. ``Kt`` is clipped to ≤ 0.95 and ``sin h`` to ≥ 0.02 inside
    the parameter formulas to keep them finite.

    References
    ----------
    .. [1] R. Aguiar, M. Collares-Pereira, "TAG: a time-dependent, autoregressive, Gaussian model
       for generating synthetic hourly radiation", Solar Energy 49(3), 167-174, 1992.
    """
    kt_day = np.asarray(daily_kt, dtype=float)
    day = np.asarray(day_of_hour, dtype=np.int64)
    sin_h = np.asarray(sin_elevation, dtype=float)
    upper = np.ones_like(sin_h) if kt_max is None else np.asarray(kt_max, dtype=float)
    if not (day.shape == sin_h.shape == upper.shape):
        raise ValueError("day_of_hour, sin_elevation and kt_max must have the same shape")
    ktm, sigma, phi = _tag_parameters(kt_day[day], sin_h)
    innovation = np.sqrt(1.0 - phi**2)
    eps = rng.standard_normal(sin_h.size)
    # redraws of the rejection step come from one pool drawn up front (deterministic per seed);
    # a value still outside its bounds when the pool is used up is clipped, as after 20 tries
    pool = rng.standard_normal(_REDRAW_POOL_FACTOR * sin_h.size + 64)
    return _tag_loop(sin_h > 0, np.maximum(upper, 0.0), ktm, sigma, phi, innovation, eps, pool)


@njit(cache=True)
def _tag_loop(light: NDArray[np.bool_], upper: FloatArray, ktm: FloatArray, sigma: FloatArray,
              phi: FloatArray, innovation: FloatArray, eps: FloatArray,
              pool: FloatArray) -> FloatArray:  # pragma: no cover - compiled
    out = np.zeros(light.size)
    y = 0.0
    previous_light = False
    next_draw = 0
    for i in range(light.size):
        if not light[i]:
            previous_light = False
            continue
        hi = upper[i]
        m, s = ktm[i], sigma[i]
        # stationary start in the morning, AR(1) step afterwards
        if previous_light:
            carry, scale = phi[i] * y, innovation[i]
        else:
            carry, scale = 0.0, 1.0
        y_new = carry + scale * eps[i]
        value = m + s * y_new
        tries = 0
        while not (0.0 <= value <= hi) and tries < _MAX_REDRAWS and next_draw < pool.size:
            y_new = carry + scale * pool[next_draw]
            next_draw += 1
            value = m + s * y_new
            tries += 1
        out[i] = min(max(value, 0.0), hi)
        y = y_new
        previous_light = True
    return out


