"""Hour-mean sun geometry and clear-sky bound of a site, and the filling of values to totals
under caps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

SAMPLES_PER_HOUR = 6
"""Sub-hourly samples (every 10 min, centred) averaged into the hour-mean sky quantities."""

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
def fill_to_totals(values: FloatArray, caps: FloatArray, groups: IntArray,
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

