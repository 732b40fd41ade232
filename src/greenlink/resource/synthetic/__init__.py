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

Modules: :mod:`.daily` (step 1), :mod:`.hourly` (step 2), :mod:`.sky` (sun geometry and
clear-sky bound), :mod:`.temperature`, :mod:`.year` (the assembled year).

The implementation is written from the papers; the MTM library is shipped as data in
``greenlink/data/weather/aguiar_mtm.csv`` (see ``SOURCES.md`` there).
"""

from greenlink.resource.synthetic.daily import (
    N_STATES,
    ChainMoments,
    MarkovLibrary,
    chain_moments,
    daily_clearness,
    markov_library,
    persistence_weight,
    stationary_distribution,
)
from greenlink.resource.synthetic.hourly import hourly_clearness
from greenlink.resource.synthetic.sky import SAMPLES_PER_HOUR, hour_mean_sky
from greenlink.resource.synthetic.temperature import DIURNAL_TEMP_RANGE_K, default_monthly_temp_c
from greenlink.resource.synthetic.year import WIND_SPEED_M_S, synthetic_weather

__all__ = [
    "DIURNAL_TEMP_RANGE_K",
    "N_STATES",
    "SAMPLES_PER_HOUR",
    "WIND_SPEED_M_S",
    "ChainMoments",
    "MarkovLibrary",
    "chain_moments",
    "daily_clearness",
    "default_monthly_temp_c",
    "hour_mean_sky",
    "hourly_clearness",
    "markov_library",
    "persistence_weight",
    "stationary_distribution",
    "synthetic_weather",
]
