"""Where a dispatch departs from what can happen at the connection point and under the rules.

A dispatch is *realizable* when in every interval

1. the park does not import and export together;
2. batteries charge only from green energy the users' allocation left over (from the grid only
   where ``grid_charging = true``);
3. green energy serves the loads before it is stored or exported (the direct green is
   ``min(generation, load)``).

:func:`departures` measures each on a flows table (docs/formats.md). The optimiser's realizable
dispatch has none by construction; the relaxed LP (``optimize.dispatch = "relaxed"``) may have
all three, and the output says how much.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.inputs import ParkInputs
from greenlink.optimize.inputs import OptimizationInputs

#: Energy below this (kWh per interval) is solver round-off, not a departure.
TOL_KWH = 1e-3


@dataclass(frozen=True)
class Departures:
    """How far a dispatch departs from the three rules of a realizable dispatch.

    Attributes
    ----------
    simultaneous_intervals : intervals with import and export together
    simultaneous_import_kwh, simultaneous_export_kwh : the energy in them
    charged_while_importing_kwh : green charged into batteries while the grid fed the loads
    grid_charged_kwh : energy charged from the grid by batteries that may not
    green_held_back_kwh : green generation not sent to loads that had to import
    """

    simultaneous_intervals: int
    simultaneous_import_kwh: float
    simultaneous_export_kwh: float
    charged_while_importing_kwh: float
    grid_charged_kwh: float
    green_held_back_kwh: float

    @property
    def any(self) -> bool:
        return bool(self.simultaneous_intervals or self.charged_while_importing_kwh > TOL_KWH
                    or self.grid_charged_kwh > TOL_KWH or self.green_held_back_kwh > TOL_KWH)

    def messages(self) -> list[str]:
        out = []
        if self.simultaneous_intervals:
            out.append(f"imports and exports in the same interval in "
                       f"{self.simultaneous_intervals:,} intervals "
                       f"({self.simultaneous_import_kwh:,.0f} kWh imported, "
                       f"{self.simultaneous_export_kwh:,.0f} kWh exported in them)")
        if self.charged_while_importing_kwh > TOL_KWH:
            out.append(f"charges {self.charged_while_importing_kwh:,.0f} kWh of green energy into "
                       "batteries while the grid feeds the loads (grid charging in effect)")
        if self.grid_charged_kwh > TOL_KWH:
            out.append(f"charges {self.grid_charged_kwh:,.0f} kWh from the grid into batteries "
                       "that may not (grid_charging = false)")
        if self.green_held_back_kwh > TOL_KWH:
            out.append(f"keeps {self.green_held_back_kwh:,.0f} kWh of green energy from loads "
                       "that import (green does not serve the loads first)")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"simultaneous_intervals": self.simultaneous_intervals,
                "simultaneous_import_kwh": self.simultaneous_import_kwh,
                "simultaneous_export_kwh": self.simultaneous_export_kwh,
                "charged_while_importing_kwh": self.charged_while_importing_kwh,
                "grid_charged_kwh": self.grid_charged_kwh,
                "green_held_back_kwh": self.green_held_back_kwh,
                "realizable": not self.any, "messages": self.messages()}


def departures(oi: OptimizationInputs, sized: ParkInputs, table: pd.DataFrame) -> Departures:
    """Measure the departures of the flows ``table`` of the sized park ``sized``."""
    col = {c: table[c].to_numpy(dtype=float) for c in (
        flows.IMPORT_KWH, flows.EXPORT_KWH, flows.LOAD_KWH, flows.GENERATION_KWH,
        flows.GREEN_DIRECT_KWH, flows.BATTERY_CHARGE_KWH, flows.BATTERY_CHARGE_GREEN_KWH)}
    imp, exp = col[flows.IMPORT_KWH], col[flows.EXPORT_KWH]
    both = (imp > TOL_KWH) & (exp > TOL_KWH)
    load, direct = col[flows.LOAD_KWH], col[flows.GREEN_DIRECT_KWH]
    unserved = np.maximum(load - direct, 0.0)
    charge_green = col[flows.BATTERY_CHARGE_GREEN_KWH]
    charged_while = np.where(unserved > TOL_KWH, np.minimum(charge_green, unserved), 0.0)
    grid_charge = np.maximum(col[flows.BATTERY_CHARGE_KWH] - charge_green, 0.0)
    may = any(b.grid_charging for b in sized.scenario.batteries)
    held = np.maximum(np.minimum(col[flows.GENERATION_KWH], load) - direct, 0.0)
    return Departures(
        simultaneous_intervals=int(both.sum()),
        simultaneous_import_kwh=float(imp[both].sum()),
        simultaneous_export_kwh=float(exp[both].sum()),
        charged_while_importing_kwh=float(charged_while[charged_while > TOL_KWH].sum()),
        grid_charged_kwh=0.0 if may else float(grid_charge[grid_charge > TOL_KWH].sum()),
        green_held_back_kwh=float(held[held > TOL_KWH].sum()))


def allocation_departure(oi: OptimizationInputs, direct: np.ndarray, green_discharge: np.ndarray
                         ) -> dict[str, Any] | None:
    """Where per-user columns let the optimiser split the battery's green discharge among users
    (an allocation method other than pro rata with a per-user rule or target): how far that
    split departs from the method's (``None`` when it does not).

    ``direct`` and ``green_discharge`` are (T, U) per user.
    """
    from greenlink.dispatch.allocation import allocate

    sc = oi.park.scenario
    total = green_discharge.sum(axis=1)
    room = np.maximum(oi.load_kwh - direct, 0.0)
    kwargs = {"shares": np.array([u.share or 0.0 for u in sc.users]),
              "priorities": np.array([u.priority or 1 for u in sc.users]),
              "entitlements": np.array([(u.contracted_kw or 0.0) * oi.dt_h for u in sc.users])}
    method = allocate(total, room, sc.allocation.method, **kwargs)
    moved = np.abs(green_discharge - method).sum(axis=1) / 2
    if float(moved.sum()) <= TOL_KWH:
        return None
    n = int((moved > TOL_KWH).sum())
    return {"intervals": n, "kwh": float(moved.sum()), "method": sc.allocation.method,
            "message": f"the battery's green discharge is split among users by the optimiser, "
                       f"not by the allocation method {sc.allocation.method!r}, in {n:,} "
                       f"intervals ({float(moved.sum()):,.0f} kWh go to other users than the "
                       "method would give them); direct green follows the method"}
