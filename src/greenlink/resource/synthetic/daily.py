"""Daily clearness index from the Markov transition-matrix library of Aguiar, Collares-Pereira &
Conde (1988), rescaled to the monthly means."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

N_STATES = 10
"""Number of daily-Kt states (rows/columns) of every Markov transition matrix."""

_ROW_SUM_TOLERANCE = 0.005  # published probabilities are rounded to 3 decimals



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


