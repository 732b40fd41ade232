"""Time-of-use tariff over an interval index (wraps :func:`greenlink.inputs.tariff_periods`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from greenlink.inputs import tariff_periods
from greenlink.scenario.model import Tariff


def tou_prices(tariff: Tariff, index: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Import price [currency/kWh] and period name of every interval (local wall-clock time).

    Returns
    -------
    price_per_kwh : (T,) float array
    period : (T,) object array of period names (``peak``, ``flat``, …)
    """
    periods = tariff_periods(tariff, index)
    prices = np.array([tariff.prices_per_kwh[p] for p in periods], dtype=float)
    return prices, periods
