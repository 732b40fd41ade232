"""Synthetic hourly weather year from 12 monthly means of global horizontal irradiation.

The method is the one Meteonorm and PVsyst use for sites without measured hourly data:

1. **Daily clearness index** ``Kt`` from the library of Markov transition matrices (MTM) of
   Aguiar, Collares-Pereira & Conde (1988), chosen by the monthly-mean clearness index, then
   rescaled so that every month reproduces its input irradiation.
2. **Hourly clearness index** ``kt`` from the time-dependent, autoregressive, Gaussian (TAG) model
   of Aguiar & Collares-Pereira (1992), bounded by a clear-sky limit (pvlib Ineichen-Perez with
   pvlib's bundled Linke-turbidity climatology, so no network is needed), then rescaled so that
   every day reproduces its daily irradiation.
3. **Components and ambient conditions**: GHI is split into DNI/DHI with pvlib's
   ``erbs_driesse`` model, the air temperature follows monthly means with a diurnal sine, and the
   wind speed is a constant 2 m/s.

The implementation is written from the papers; the MTM library is shipped as data in
``greenlink/data/weather/aguiar_mtm.csv`` (see ``SOURCES.md`` there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
import pvlib
from numba import njit
from numpy.typing import ArrayLike, NDArray

from greenlink.errors import ProblemList

__all__ = [
    "MarkovLibrary",
    "daily_clearness",
    "default_monthly_temp_c",
    "hour_mean_sky",
    "hourly_clearness",
    "markov_library",
    "synthetic_weather",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

N_STATES = 10
"""Number of daily-Kt states (rows/columns) of every Markov transition matrix."""

SAMPLES_PER_HOUR = 6
"""Sub-hourly samples (every 10 min, centred) averaged into the hour-mean sky quantities."""

WIND_SPEED_M_S = 2.0
"""Constant wind speed of the synthetic year (m/s)."""

DIURNAL_TEMP_RANGE_K = 8.0
"""Peak-to-peak daily air-temperature swing of the diurnal sine (K)."""

_ROW_SUM_TOLERANCE = 0.005  # published probabilities are rounded to 3 decimals
_MAX_REDRAWS = 20  # TAG rejection sampling: redraws before a value is clipped to its bounds
_REDRAW_POOL_FACTOR = 4  # normal draws kept for the redraws, per hour of the year
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --------------------------------------------------------------------------------------------
# Markov transition-matrix library (Aguiar, Collares-Pereira & Conde 1988)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MarkovLibrary:
    """The ten Markov transition matrices of daily clearness index.

    Attributes
    ----------
    ktm_upper : numpy.ndarray, shape (9,)
        Upper bin edges of the monthly-mean clearness index (0.30, 0.35, …, 0.70); matrix ``i``
        applies to ``ktm_upper[i-1] < Kt_m <= ktm_upper[i]`` (matrix 0: ``Kt_m <= 0.30``,
        matrix 9: ``Kt_m > 0.70``). Dimensionless.
    kt_min, kt_max : numpy.ndarray, shape (10,)
        Range of daily clearness index covered by each matrix; it is divided into 10 equal
        states. Dimensionless.
    matrices : numpy.ndarray, shape (10, 10, 10)
        ``matrices[i, a, b]`` = probability that a day in state ``a`` is followed by a day in
        state ``b`` under matrix ``i``. Rows are renormalised to sum to exactly 1 (the published
        values are rounded to three decimals).
    """

    ktm_upper: FloatArray
    kt_min: FloatArray
    kt_max: FloatArray
    matrices: FloatArray

    def matrix_index(self, monthly_kt: ArrayLike) -> IntArray:
        """Index of the matrix for each monthly-mean clearness index (dimensionless)."""
        return np.searchsorted(self.ktm_upper, np.asarray(monthly_kt, dtype=float),
                               side="left").astype(np.int64)

    def state_edges(self, index: int) -> FloatArray:
        """The 11 edges of the 10 equal daily-Kt states of matrix ``index``."""
        return np.linspace(self.kt_min[index], self.kt_max[index], N_STATES + 1)


def _read_mtm_table() -> pd.DataFrame:
    path = resources.files("greenlink") / "data" / "weather" / "aguiar_mtm.csv"
    with path.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)


@lru_cache(maxsize=1)
def markov_library() -> MarkovLibrary:
    """Load the shipped MTM library (``data/weather/aguiar_mtm.csv``).

    Returns
    -------
    MarkovLibrary
        Matrices, their monthly-Kt bins and daily-Kt ranges; arrays are read-only.

    Raises
    ------
    ValueError
        If the shipped table is malformed (a packaging error, not a user error): wrong shape,
        negative probabilities or a row that does not sum to 1 within 0.005.

    References
    ----------
    .. [1] R. Aguiar, M. Collares-Pereira, J. P. Conde, "Simple procedure for generating
       sequences of daily radiation values using a library of Markov transition matrices",
       Solar Energy 40(3), 269-279, 1988.
    """
    table = _read_mtm_table().sort_values(["matrix", "from_state"])
    p_cols = [f"p_to_{j}" for j in range(1, N_STATES + 1)]
    if len(table) != N_STATES * N_STATES:
        raise ValueError(f"aguiar_mtm.csv: expected 100 rows, found {len(table)}")
    probs = table[p_cols].to_numpy(dtype=float).reshape(N_STATES, N_STATES, N_STATES)
    sums = probs.sum(axis=2)
    if (probs < 0).any() or np.abs(sums - 1.0).max() > _ROW_SUM_TOLERANCE:
        bad = np.argwhere(np.abs(sums - 1.0) > _ROW_SUM_TOLERANCE)
        raise ValueError(f"aguiar_mtm.csv: rows (matrix, state) {bad.tolist()} do not sum to 1")
    probs = probs / sums[:, :, None]
    per_matrix = table.groupby("matrix").first()
    ktm_upper = per_matrix["ktm_up_to"].to_numpy(dtype=float)[:-1]
    kt_min = per_matrix["kt_min"].to_numpy(dtype=float)
    kt_max = per_matrix["kt_max"].to_numpy(dtype=float)
    for arr in (ktm_upper, kt_min, kt_max, probs):
        arr.setflags(write=False)
    return MarkovLibrary(ktm_upper=ktm_upper, kt_min=kt_min, kt_max=kt_max, matrices=probs)


def stationary_distribution(matrix: FloatArray) -> FloatArray:
    """Stationary distribution ``π`` of a Markov transition matrix (``π P = π``, Σπ = 1)."""
    values, vectors = np.linalg.eig(np.asarray(matrix, dtype=float).T)
    pi = np.real(vectors[:, int(np.argmin(np.abs(values - 1.0)))])
    pi = np.clip(pi / pi.sum(), 0.0, None)
    return np.asarray(pi / pi.sum(), dtype=float)


@dataclass(frozen=True)
class ChainMoments:
    """Long-run statistics of the daily Kt of one library matrix (dimensionless)."""

    mean: float
    std: float
    lag1: float
    between_state_share: float  # variance of the state means / total variance


@lru_cache(maxsize=16)
def chain_moments(index: int) -> ChainMoments:
    """Mean, standard deviation and lag-1 autocorrelation of daily Kt drawn from matrix
    ``index`` (the stationary chain, each value uniform within its state).

    With state means ``m``, state width ``Δ`` and stationary ``π``:
    ``μ = Σ π m``, ``σ² = Σ π (m² + Δ²/12) − μ²``,
    ``ρ₁ = (Σ_ab π_a P_ab m_a m_b − μ²) / σ²``.
    """
    lib = markov_library()
    edges = lib.state_edges(index)
    mids = 0.5 * (edges[:-1] + edges[1:])
    width = float(edges[1] - edges[0])
    matrix = lib.matrices[index]
    pi = stationary_distribution(matrix)
    mean = float(pi @ mids)
    between = float(pi @ mids**2 - mean**2)
    variance = between + width**2 / 12.0
    cov = float(pi @ (matrix @ mids * mids)) - mean**2
    return ChainMoments(mean=mean, std=math.sqrt(variance), lag1=cov / variance,
                        between_state_share=between / variance)


def persistence_weight(index: int, lag1: float) -> float:
    """Weight ``w`` of the identity in ``P' = w I + (1 − w) P`` that gives matrix ``index`` the
    lag-1 autocorrelation ``lag1`` (0 when the matrix already has at least that much).

    ``P'`` has the stationary distribution of ``P`` (``π P' = π``), so the distribution of
    daily Kt is unchanged; its lag-1 autocorrelation is ``w·b + (1 − w)·ρ₁`` with ``b`` the
    share of the variance between state means (staying in a state redraws the value within it).
    """
    m = chain_moments(index)
    if lag1 <= m.lag1 or m.between_state_share <= m.lag1:
        return 0.0
    return float(min((lag1 - m.lag1) / (m.between_state_share - m.lag1), 0.95))


def daily_clearness(monthly_kt: ArrayLike, days_per_month: ArrayLike,
                    rng: np.random.Generator, kt_initial: float | None = None,
                    lag1: float | None = None, exact_means: bool = True) -> FloatArray:
    """Draw a sequence of daily clearness indices from the Aguiar MTM library.

    Parameters
    ----------
    monthly_kt : array_like, shape (n_months,)
        Monthly-mean daily clearness index ``Kt_m`` = mean daily GHI / mean daily extraterrestrial
        horizontal irradiation, dimensionless, each in [0, 1].
    days_per_month : array_like of int, shape (n_months,)
        Number of days to draw for each month (≥ 1).
    rng : numpy.random.Generator
        Source of every random draw.
    kt_initial : float, optional
        Clearness index of the day before the first day (dimensionless); it sets the first
        Markov state. Default: ``monthly_kt[0]``.
    lag1 : float, optional
        Lag-1 autocorrelation of daily Kt to give the chain (a station's value, e.g. 0.46 for
        Nanjing); None keeps the library's own persistence (≈ 0.3).
    exact_means : bool, default True
        True: every month is rescaled to its ``monthly_kt`` exactly (a typical year). False: the
        months keep the spread of the draws (one possible year): each is scaled by the fixed
        factor ``Kt_m / E[Kt]`` of its matrix, so ``monthly_kt`` is the long-run mean.

    Returns
    -------
    numpy.ndarray, shape (sum(days_per_month),)
        Daily clearness index, dimensionless.

    Notes
    -----
    For month ``m`` the matrix ``P`` is chosen by the bin of ``Kt_m`` (≤0.30, 0.30–0.35, …,
    >0.70). The matrix's daily range [Kt_min, Kt_max] is cut into ten equal states
    ``S_j = [Kt_min + jΔ, Kt_min + (j+1)Δ)``, ``Δ = (Kt_max − Kt_min)/10``. With the previous
    day in state ``a`` (the state of its Kt on the current month's grid, clipped to 0…9), the
    next state ``b`` is drawn with probability ``P[a, b]`` and the day's value uniformly in
    ``S_b``:

    .. math:: Kt_d = Kt_{min} + (b + u)\\,Δ, \\quad u \\sim U(0, 1)

    With ``lag1`` the chain uses ``P' = w I + (1 − w) P`` (:func:`persistence_weight`): the
    same distribution of daily Kt, more day-to-day persistence. The published matrices carry
    less persistence than Chinese stations show (weather-data.md §5.1: Nanjing 0.46, Guangzhou
    0.59), which narrows the spread of monthly sums from year to year.

    The chain runs on across month boundaries. With ``exact_means`` every month is rescaled,
    ``Kt_d ← Kt_d · Kt_m / mean_m(Kt_d)`` (as in the ``solaR`` implementation of the method).

    References
    ----------
    .. [1] R. Aguiar, M. Collares-Pereira, J. P. Conde, "Simple procedure for generating
       sequences of daily radiation values using a library of Markov transition matrices",
       Solar Energy 40(3), 269-279, 1988.
    """
    ktm = np.asarray(monthly_kt, dtype=float).ravel()
    days = np.asarray(days_per_month, dtype=np.int64).ravel()
    if ktm.shape != days.shape:
        raise ValueError("monthly_kt and days_per_month must have the same length")
    if (days < 1).any():
        raise ValueError("days_per_month must be ≥ 1")
    lib = markov_library()
    matrix_of_month = lib.matrix_index(ktm)
    n_days = int(days.sum())
    u_state = rng.random(n_days)
    u_value = rng.random(n_days)

    kt = np.empty(n_days)
    previous = float(ktm[0] if kt_initial is None else kt_initial)
    day = 0
    for month, n in enumerate(days.tolist()):
        index = int(matrix_of_month[month])
        edges = lib.state_edges(index)
        matrix = lib.matrices[index]
        if lag1 is not None:
            w = persistence_weight(index, lag1)
            matrix = w * np.eye(N_STATES) + (1.0 - w) * matrix
        cumulative = np.cumsum(matrix, axis=1)
        cumulative[:, -1] = 1.0
        state = int(np.clip(np.searchsorted(edges, previous, side="right") - 1, 0, N_STATES - 1))
        start = day
        for _ in range(n):
            state = min(int(np.searchsorted(cumulative[state], u_state[day], side="right")),
                        N_STATES - 1)
            kt[day] = edges[state] + u_value[day] * (edges[state + 1] - edges[state])
            day += 1
        previous = float(kt[day - 1])
        mean = kt[start:day].mean() if exact_means else chain_moments(index).mean
        kt[start:day] *= ktm[month] / mean if mean > 0 else 0.0
    return kt


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


# --------------------------------------------------------------------------------------------
# Sky geometry and clear-sky bound
# --------------------------------------------------------------------------------------------
def _hour_mean_sky(latitude: float, longitude: float, altitude_m: float,
                   index: pd.DatetimeIndex, samples_per_hour: int) -> tuple[FloatArray, FloatArray]:
    utc = index.tz_convert("UTC").tz_localize(None).to_numpy().astype("datetime64[ns]")
    step = np.timedelta64(3_600_000_000_000 // samples_per_hour, "ns")
    offsets = step // 2 + step * np.arange(samples_per_hour)
    sub = pd.DatetimeIndex((utc[:, None] + offsets[None, :]).ravel()).tz_localize("UTC")
    location = pvlib.location.Location(latitude, longitude, tz="UTC", altitude=altitude_m)
    solpos = location.get_solarposition(sub)
    dni_extra = pvlib.irradiance.get_extra_radiation(sub)
    clear = location.get_clearsky(sub, model="ineichen", solar_position=solpos,
                                  dni_extra=dni_extra)
    cos_z = np.cos(np.radians(solpos["zenith"].to_numpy(dtype=float)))
    extra_h = np.asarray(dni_extra, dtype=float) * np.clip(cos_z, 0.0, None)
    ghi_clear = np.clip(clear["ghi"].to_numpy(dtype=float), 0.0, None)
    shape = (len(index), samples_per_hour)
    return ghi_clear.reshape(shape).mean(axis=1), extra_h.reshape(shape).mean(axis=1)


def hour_mean_sky(latitude: float, longitude: float, altitude_m: float,
                  index: pd.DatetimeIndex,
                  samples_per_hour: int = SAMPLES_PER_HOUR) -> pd.DataFrame:
    """Hour-mean clear-sky and extraterrestrial horizontal irradiance.

    Parameters
    ----------
    latitude, longitude : float
        Site coordinates in degrees (north, east positive).
    altitude_m : float
        Site elevation above sea level (m).
    index : pandas.DatetimeIndex
        Tz-aware, hourly, interval-beginning labels.
    samples_per_hour : int, default 6
        Number of equally spaced, centred samples averaged per hour.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``index``, columns ``ghi_clear_sky`` (Ineichen-Perez clear-sky GHI, W/m²)
        and ``ghi_extraterrestrial`` (extraterrestrial irradiance on a horizontal plane, W/m²),
        both means over the hour that starts at the label.

    Notes
    -----
    :math:`G_{0h} = E_0 \\max(\\cos θ_z, 0)` with :math:`E_0` the extraterrestrial normal
    irradiance (Spencer 1971) and :math:`θ_z` the true solar zenith angle. The clear-sky GHI
    uses pvlib's monthly Linke-turbidity climatology (Remund et al. 2003), interpolated to days,
    and the site altitude for the air pressure.

    References
    ----------
    .. [1] P. Ineichen, R. Perez, "A new airmass independent formulation for the Linke turbidity
       coefficient", Solar Energy 73(3), 151-157, 2002.
    .. [2] J. Remund, L. Wald, M. Lefèvre, T. Ranchin, J. Page, "Worldwide Linke turbidity
       information", Proc. ISES Solar World Congress, Göteborg, 2003.
    """
    clear, extra = _hour_mean_sky(latitude, longitude, altitude_m, index, samples_per_hour)
    return pd.DataFrame({"ghi_clear_sky": clear, "ghi_extraterrestrial": extra}, index=index)


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------
def _fill_to_totals(values: FloatArray, caps: FloatArray, groups: IntArray,
                    totals: FloatArray, max_iter: int = 200) -> FloatArray:
    """Rescale ``values`` so each group sums to its total, never exceeding ``caps``.

    Groups above their total are scaled down uniformly; groups below it scale up their uncapped
    members, clip at the caps and repeat (water filling). A group whose uncapped members are all
    zero is filled in proportion to the remaining headroom. Requires ``totals ≤ Σ caps``.
    """
    n = totals.size
    v = np.clip(values, 0.0, caps)
    scale_tol = 1e-10 * max(float(totals.max(initial=0.0)), 1.0)
    for _ in range(max_iter):
        sums = np.bincount(groups, v, minlength=n)
        deficit = totals - sums
        if np.abs(deficit).max(initial=0.0) <= scale_tol:
            break
        free = v < caps * (1.0 - 1e-12)
        free_sum = np.bincount(groups, np.where(free, v, 0.0), minlength=n)
        headroom = np.bincount(groups, caps - v, minlength=n)
        with np.errstate(divide="ignore", invalid="ignore"):
            down = np.where(sums > 0, totals / sums, 0.0)
            up = np.where(free_sum > 0, (deficit + free_sum) / free_sum, 1.0)
            share = np.where(headroom > 0, deficit / headroom, 0.0)
        g_over = (deficit < 0)[groups]
        g_up = ((deficit > 0) & (free_sum > 0))[groups]
        g_headroom = ((deficit > 0) & (free_sum <= 0))[groups]
        v = np.where(g_over, v * down[groups], v)
        v = np.where(g_up & free, v * up[groups], v)
        v = np.where(g_headroom, v + (caps - v) * share[groups], v)
        v = np.minimum(v, caps)
    return v


def default_monthly_temp_c(latitude: float, altitude_m: float = 0.0) -> FloatArray:
    """Rough monthly mean air temperatures from latitude and altitude alone.

    Parameters
    ----------
    latitude : float
        Degrees north (negative south).
    altitude_m : float, default 0
        Elevation above sea level (m).

    Returns
    -------
    numpy.ndarray, shape (12,)
        Monthly mean air temperature Jan…Dec (°C).

    Notes
    -----
    A crude fit to East-Asian monsoon-climate stations (Guangzhou, Nanjing, Beijing, Harbin),
    *not* a climatology; pass measured normals wherever they are known:

    .. math::

        \\bar T &= \\min(27, 39 - 0.72\\,|φ|) - 0.0065\\,z \\\\
        A &= \\mathrm{clip}(0.55\\,|φ| - 5, 1.5, 25) \\\\
        T_m &= \\bar T - \\mathrm{sign}(φ)\\, A \\cos(2π (n_m - 15) / 365.25)

    with φ the latitude (°), z the altitude (m, standard lapse rate 6.5 K/km) and n_m the day
    of year of mid-month; the coldest month is January in the north and July in the south.
    For Nanjing (32.0 °N) this gives 3.4 °C in January and 28.5 °C in July (normals: about 2.7
    and 28.1 °C).
    """
    lat = abs(latitude)
    mean = min(27.0, 39.0 - 0.72 * lat) - 0.0065 * altitude_m
    amplitude = float(np.clip(0.55 * lat - 5.0, 1.5, 25.0))
    mid_day = np.array([15.5, 45.0, 74.5, 105.0, 135.5, 166.0,
                        196.5, 227.5, 258.0, 288.5, 319.0, 349.5])
    sign = 1.0 if latitude >= 0 else -1.0
    return mean - sign * amplitude * np.cos(2.0 * np.pi * (mid_day - 15.0) / 365.25)


def _as_floats(values: object) -> FloatArray | None:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return None
    return arr if arr.ndim == 1 else None


def _check_arguments(latitude: float, longitude: float, altitude_m: float, timezone: str,
                     year: int, monthly_ghi_kwh_m2: Sequence[float], seed: int,
                     monthly_temp_c: Sequence[float] | None) -> FloatArray:
    problems = ProblemList()
    for name, value, lo, hi in (("latitude", latitude, -90.0, 90.0),
                                ("longitude", longitude, -180.0, 180.0),
                                ("altitude_m", altitude_m, -500.0, 9000.0)):
        try:
            ok = lo <= float(value) <= hi
        except (TypeError, ValueError):
            ok = False
        if not ok:
            problems.add(f"{name} = {value!r} is out of range", location=name,
                         expected=f"a number in [{lo:g}, {hi:g}]")
    if isinstance(year, bool) or not isinstance(year, int | np.integer) or not 1900 <= year <= 2200:
        problems.add(f"year = {year!r} is not valid", location="year",
                     expected="an integer year in [1900, 2200]")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        problems.add(f"seed = {seed!r} is not valid", location="seed",
                     expected="a non-negative integer")
    try:
        pd.Timestamp("2000-01-01", tz=timezone)
    except Exception:
        problems.add(f"unknown time zone {timezone!r}", location="timezone",
                     expected="an IANA time-zone name such as 'Asia/Shanghai'")
    ghi = _as_floats(monthly_ghi_kwh_m2)
    if ghi is None or ghi.size != 12:
        problems.add("monthly GHI must be 12 numbers (Jan…Dec)", location="monthly_ghi_kwh_m2",
                     expected="12 monthly sums of global horizontal irradiation in kWh/m²")
        ghi = None
    else:
        for m in np.flatnonzero(~np.isfinite(ghi) | (ghi < 0)):
            problems.add(f"{_MONTH_NAMES[m]} GHI {ghi[m]!r} kWh/m² is negative or not a number",
                         location=f"monthly_ghi_kwh_m2[{m}]", expected="a finite value ≥ 0")
    if monthly_temp_c is not None:
        temp = _as_floats(monthly_temp_c)
        if temp is None or temp.size != 12:
            problems.add("monthly temperatures must be 12 numbers (Jan…Dec)",
                         location="monthly_temp_c", expected="12 monthly means in °C")
        else:
            for m in np.flatnonzero(~np.isfinite(temp) | (temp < -70) | (temp > 50)):
                problems.add(f"{_MONTH_NAMES[m]} temperature {temp[m]!r} °C is implausible",
                             location=f"monthly_temp_c[{m}]",
                             expected="a monthly mean in [-70, 50] °C")
    problems.raise_if_any()
    assert ghi is not None
    return ghi


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Sky:
    """What a synthetic year needs of the sky, the same for every seed (cached)."""

    index: pd.DatetimeIndex
    clear_w: FloatArray
    extra_w: FloatArray
    sin_h: FloatArray
    zenith_centre: FloatArray
    dni_extra_centre: FloatArray
    solar_time_centre: FloatArray


@lru_cache(maxsize=8)
def _sky(latitude: float, longitude: float, altitude_m: float, timezone: str,
         year: int) -> _Sky:
    index = pd.date_range(pd.Timestamp(year, 1, 1), pd.Timestamp(year + 1, 1, 1), freq="h",
                          tz=timezone, inclusive="left")
    clear_w, extra_w = _hour_mean_sky(latitude, longitude, altitude_m, index, SAMPLES_PER_HOUR)
    centre = index + pd.Timedelta(minutes=30)
    location = pvlib.location.Location(latitude, longitude, tz="UTC", altitude=altitude_m)
    zenith = location.get_solarposition(centre)["zenith"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        sin_h = extra_w / pvlib.irradiance.get_extra_radiation(index).to_numpy(dtype=float)
    utc = centre.tz_convert("UTC")
    utc_hours = (utc.hour + utc.minute / 60.0).to_numpy(dtype=float)
    eot_min = np.asarray(pvlib.solarposition.equation_of_time_spencer71(utc.day_of_year),
                         dtype=float)
    solar_time = np.mod(utc_hours + longitude / 15.0 + eot_min / 60.0, 24.0)
    sky = _Sky(index=index, clear_w=clear_w, extra_w=extra_w, sin_h=sin_h,
               zenith_centre=zenith,
               dni_extra_centre=pvlib.irradiance.get_extra_radiation(centre).to_numpy(
                   dtype=float),
               solar_time_centre=solar_time)
    for arr in (clear_w, extra_w, sin_h, zenith, sky.dni_extra_centre, solar_time):
        arr.setflags(write=False)
    return sky


def synthetic_weather(latitude: float, longitude: float, altitude_m: float, timezone: str,
                      year: int, monthly_ghi_kwh_m2: Sequence[float], seed: int,
                      monthly_temp_c: Sequence[float] | None = None,
                      daily_kt_lag1: float | None = None,
                      interannual: bool = False) -> pd.DataFrame:
    """Generate a synthetic hourly weather year from 12 monthly GHI sums.

    Parameters
    ----------
    latitude, longitude : float
        Site coordinates in degrees (north, east positive).
    altitude_m : float
        Site elevation above sea level (m); used for the clear-sky model.
    timezone : str
        IANA time zone of the output index, e.g. ``"Asia/Shanghai"``. Days (for the daily
        Markov chain) are calendar days in this zone, so use the site's local zone.
    year : int
        Calendar year (1900–2200); sets the length (8760 or 8784 h) and the sun positions.
    monthly_ghi_kwh_m2 : sequence of 12 float
        Global horizontal irradiation summed over each month Jan…Dec (kWh/m²), each ≥ 0 and not
        above the month's clear-sky irradiation.
    seed : int
        Seed of the ``numpy.random.Generator`` that makes every random draw; the same seed and
        inputs give an identical year.
    monthly_temp_c : sequence of 12 float, optional
        Monthly mean air temperature Jan…Dec (°C). If None, a rough latitude/altitude-based
        default is used (:func:`default_monthly_temp_c`); it is not a climatology, so pass
        station normals when they are known.
    daily_kt_lag1 : float, optional
        Lag-1 autocorrelation of daily clearness to give the year, e.g. the station's
        (:func:`greenlink.resource.stations.station_daily_kt`; Nanjing 0.46); None keeps the
        Markov library's own (≈ 0.3, ≈ 0.25 after the monthly rescaling).
    interannual : bool, default False
        False: a typical year whose monthly sums equal ``monthly_ghi_kwh_m2``. True: one
        possible year, whose monthly sums spread around them as the daily process makes them
        (``monthly_ghi_kwh_m2`` is their long-run mean): what many-year risk runs draw.

    Returns
    -------
    pandas.DataFrame
        One row per hour of the calendar year in ``timezone`` (8760 or 8784 rows), tz-aware,
        labelled at the interval beginning; values are means over the hour (centred at
        label + 30 min). Columns:

        * ``ghi`` — global horizontal irradiance (W/m²),
        * ``dni`` — direct normal irradiance (W/m²),
        * ``dhi`` — diffuse horizontal irradiance (W/m²),
        * ``temp_air`` — air temperature (°C),
        * ``wind_speed`` — wind speed at 10 m (m/s), constant 2 m/s.

    Raises
    ------
    greenlink.errors.InputError
        If an argument is out of range: not exactly 12 finite, non-negative monthly values, a
        month above its clear-sky irradiation, an unknown time zone, a bad seed or year.

    Notes
    -----
    *Daily.* The monthly-mean clearness index is
    :math:`K_{t,m} = H_m / \\sum_{d∈m} H_{0,d}` with :math:`H_{0,d}` the daily extraterrestrial
    horizontal irradiation. :func:`daily_clearness` draws :math:`Kt_d` from the Aguiar MTM
    library [1]_; the daily irradiation :math:`H_d = Kt_d H_{0,d}` is then rescaled per month to
    the input sum while no day exceeds its clear-sky irradiation :math:`H_{cs,d}` (iterative
    proportional rescaling of the days below the bound, "water filling").

    *Hourly.* :func:`hourly_clearness` draws :math:`kt_h` with the TAG model [2]_, bounded by
    the clear-sky :math:`kt_{cs,h} = G_{cs,h}/G_{0h,h}`; :math:`G_h = kt_h G_{0h,h}` is rescaled
    per day to :math:`H_d` in the same capped way, so :math:`0 ≤ G_h ≤ G_{cs,h}` and the
    monthly sums match the input. :math:`G_{cs}` (Ineichen-Perez [3]_ with pvlib's Linke
    turbidity) and :math:`G_{0h}` are hour means of six 10-minute samples. GHI is 0 whenever the
    sun is below the horizon for the whole hour.

    *Components.* DNI and DHI from pvlib ``erbs_driesse`` [4]_ with the zenith angle at the
    centre of the hour (label + 30 min), so that :math:`DHI + DNI \\cos θ_z = GHI` there; DNI is
    0 for zenith angles above 87°.

    *Temperature.* Monthly means are placed at mid-month and interpolated linearly (periodic)
    to daily means :math:`\\bar T_d`; the hourly value is
    :math:`T = \\bar T_d + (ΔT/2) \\sin(2π (t_{sol} − 9)/24)` with :math:`t_{sol}` the apparent
    solar time (h) at the hour centre and :math:`ΔT` = 8 K, i.e. a minimum at 03:00 and a
    maximum at 15:00 solar time.

    References
    ----------
    .. [1] R. Aguiar, M. Collares-Pereira, J. P. Conde, "Simple procedure for generating
       sequences of daily radiation values using a library of Markov transition matrices",
       Solar Energy 40(3), 269-279, 1988.
    .. [2] R. Aguiar, M. Collares-Pereira, "TAG: a time-dependent, autoregressive, Gaussian model
       for generating synthetic hourly radiation", Solar Energy 49(3), 167-174, 1992.
    .. [3] P. Ineichen, R. Perez, "A new airmass independent formulation for the Linke turbidity
       coefficient", Solar Energy 73(3), 151-157, 2002.
    .. [4] A. Driesse, A. Jensen, R. Perez, "A continuous form of the Perez diffuse sky model for
       forward and reverse transposition", Solar Energy 267, 112093, 2024
       (doi:10.1016/j.solener.2023.112093); D. G. Erbs, S. A. Klein, J. A. Duffie, "Estimation of
       the diffuse radiation fraction for hourly, daily and monthly-average global radiation",
       Solar Energy 28(4), 293-302, 1982.
    """
    ghi_month_kwh = _check_arguments(latitude, longitude, altitude_m, timezone, year,
                                     monthly_ghi_kwh_m2, seed, monthly_temp_c)
    sky = _sky(float(latitude), float(longitude), float(altitude_m), timezone, int(year))
    index, clear_w, extra_w = sky.index, sky.clear_w, sky.extra_w
    cap_w: FloatArray = np.where(extra_w > 0, clear_w, 0.0).astype(float)

    month = index.month.to_numpy(dtype=np.int64) - 1
    day = index.day_of_year.to_numpy(dtype=np.int64) - 1
    n_days = int(day.max()) + 1
    day_month = np.zeros(n_days, dtype=np.int64)
    day_month[day] = month
    days_per_month = np.bincount(day_month, minlength=12)

    h0_day_wh = np.bincount(day, extra_w, minlength=n_days).astype(float)
    cap_day_wh = np.bincount(day, cap_w, minlength=n_days).astype(float)
    h0_month_wh = np.bincount(day_month, h0_day_wh, minlength=12)
    cap_month_wh = np.bincount(day_month, cap_day_wh, minlength=12)
    ghi_month_wh = ghi_month_kwh * 1000.0

    problems = ProblemList()
    for m in np.flatnonzero(ghi_month_wh > cap_month_wh * (1.0 + 1e-9)):
        problems.add(f"{_MONTH_NAMES[m]} GHI {ghi_month_kwh[m]:g} kWh/m² is above the clear-sky "
                     f"irradiation of the site ({cap_month_wh[m] / 1000.0:.1f} kWh/m²)",
                     location=f"monthly_ghi_kwh_m2[{m}]",
                     expected=f"at most {cap_month_wh[m] / 1000.0:.1f} kWh/m²")
    problems.raise_if_any()

    rng = np.random.default_rng(int(seed))
    with np.errstate(divide="ignore", invalid="ignore"):
        monthly_kt = np.where(h0_month_wh > 0, ghi_month_wh / h0_month_wh, 0.0)
    kt_day = daily_clearness(monthly_kt, days_per_month, rng, kt_initial=float(monthly_kt[-1]),
                             lag1=daily_kt_lag1, exact_means=not interannual)
    if interannual:
        # each month keeps the sum of its draws, no day above its clear-sky irradiation
        ghi_day_wh = np.minimum(kt_day * h0_day_wh, cap_day_wh)
    else:
        ghi_day_wh = _fill_to_totals(kt_day * h0_day_wh, cap_day_wh, day_month, ghi_month_wh)

    with np.errstate(divide="ignore", invalid="ignore"):
        kt_day_final = np.where(h0_day_wh > 0, ghi_day_wh / h0_day_wh, 0.0)
        kt_clear = np.where(extra_w > 0, cap_w / extra_w, 0.0)
    kt_hour = hourly_clearness(kt_day_final, day, sky.sin_h, rng, kt_max=kt_clear)
    ghi = _fill_to_totals(kt_hour * extra_w, cap_w, day, ghi_day_wh)

    parts = pvlib.irradiance.erbs_driesse(ghi, sky.zenith_centre,
                                          dni_extra=sky.dni_extra_centre)
    dni = np.clip(np.nan_to_num(np.asarray(parts["dni"], dtype=float)), 0.0, None)
    dhi = np.clip(np.nan_to_num(np.asarray(parts["dhi"], dtype=float)), 0.0, ghi)

    temp = np.asarray(default_monthly_temp_c(latitude, altitude_m) if monthly_temp_c is None
                      else monthly_temp_c, dtype=float)
    temp_air = _air_temperature(temp, index, sky.solar_time_centre, n_days)

    return pd.DataFrame({"ghi": ghi, "dni": dni, "dhi": dhi, "temp_air": temp_air,
                         "wind_speed": np.full(len(index), WIND_SPEED_M_S)}, index=index)


def _air_temperature(monthly_temp_c: FloatArray, index: pd.DatetimeIndex,
                     solar_time: FloatArray, n_days: int) -> FloatArray:
    """Hourly air temperature (°C): interpolated monthly means plus a diurnal sine."""
    year = int(index[0].year)
    mid = np.array([(pd.Timestamp(year, m, 1) - pd.Timestamp(year, 1, 1)).days
                    + pd.Timestamp(year, m, 1).days_in_month / 2.0 for m in range(1, 13)])
    days = np.arange(n_days) + 0.5
    daily = np.interp(days, np.concatenate(([mid[-1] - n_days], mid, [mid[0] + n_days])),
                      np.concatenate(([monthly_temp_c[-1]], monthly_temp_c,
                                      [monthly_temp_c[0]])))
    day = index.day_of_year.to_numpy(dtype=np.int64) - 1
    swing = 0.5 * DIURNAL_TEMP_RANGE_K * np.sin(2.0 * math.pi * (solar_time - 9.0) / 24.0)
    return np.asarray(daily[day] + swing, dtype=float)
