"""Default parameters of a fixed PV plant: the one copy.

The scenario model (:class:`greenlink.scenario.model.PVPlant`) and the PV functions of
:mod:`greenlink.resource.pv` take their defaults from :data:`PV_DEFAULTS`. This module imports
nothing heavy, so the scenario model stays light.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Cell-temperature mounting (SAPM parameters, glass/glass): open rack or close (roof) mount.
Mounting = Literal["open_rack", "roof"]


@dataclass(frozen=True)
class PVDefaults:
    """PVWatts-style defaults (tilt has none: every plant states it)."""

    dc_ac_ratio: float = 1.2  # inverter rating = capacity_kw_dc / dc_ac_ratio
    azimuth_deg: float = 180.0  # clockwise from north: south-facing
    losses_percent: float = 14.0  # PVWatts flat DC system losses
    inverter_efficiency: float = 0.96  # nominal (pvlib inverter.pvwatts eta_inv_nom)
    gamma_pdc_per_k: float = -0.0037  # temperature coefficient of DC power, 1/K
    mounting: Mounting = "open_rack"  # cell-temperature model
    albedo: float = 0.2  # ground reflectance


PV_DEFAULTS = PVDefaults()
