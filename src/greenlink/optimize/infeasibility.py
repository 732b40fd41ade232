"""Explain a problem that cannot meet its rules: which rule or target, and by how much to relax.

Every rule and target row is elastic (a shortfall variable at a large penalty, see
:func:`greenlink.optimize.constraints.define_requirement_constraints`), and so is the import
limit. The LP is therefore always feasible; a positive shortfall at the optimum is the smallest
(penalty-weighted) relaxation that makes the problem feasible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from greenlink.optimize.constraints import Variables
from greenlink.optimize.inputs import OptimizationInputs
from greenlink.optimize.lp import Solution

_TOL_KWH = 1e-6


@dataclass(frozen=True)
class Relaxation:
    """One rule, target or limit that cannot be met, and the relaxation that would do."""

    what: str
    scope: str
    period: str
    shortfall_kwh: float
    threshold: float | None
    feasible_threshold: float | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "scope": self.scope, "period": self.period,
                "shortfall_kwh": self.shortfall_kwh, "threshold": self.threshold,
                "feasible_threshold": self.feasible_threshold, "message": self.message}


def explain(oi: OptimizationInputs, v: Variables, sol: Solution) -> list[Relaxation]:
    """Every missed rule, target or import limit with the relaxation that makes it feasible."""
    out: list[Relaxation] = []
    for i, req in enumerate(oi.requirements):
        slack = max(float(sol.x[v.slack[i]]), 0.0)
        if slack <= _TOL_KWH:
            continue
        den = v.req_den[i].value(sol.x)
        points = slack / den if den > 0 else float("inf")
        new = req.threshold - points if req.operator == ">=" else req.threshold + points
        kind = "rule" if req.origin == "rule" else "target"
        out.append(Relaxation(
            what=req.id, scope=req.scope, period=req.period, shortfall_kwh=slack,
            threshold=req.threshold, feasible_threshold=new,
            message=(f"{kind} {req.id} ({req.metric} {req.operator} {req.threshold:.4g}, "
                     f"{req.scope}, {req.period}) cannot be met: short by {slack:,.0f} kWh; "
                     f"it must relax by {100 * points:.2f} points to {new:.4f}")))
    if v.over_limit is not None:
        cols = v.over_limit[v.over_limit >= 0]
        over = np.maximum(sol.x[cols], 0.0)
        if over.sum() > _TOL_KWH:
            need_kw = (oi.import_limit_kwh + float(over.max())) / oi.dt_h
            out.append(Relaxation(
                what="grid.import_limit_kw", scope="park", period="interval",
                shortfall_kwh=float(over.sum()), threshold=oi.import_limit_kwh / oi.dt_h,
                feasible_threshold=need_kw,
                message=(f"the import limit ({oi.import_limit_kwh / oi.dt_h:,.0f} kW) cannot "
                         f"be kept in {int((over > _TOL_KWH).sum())} intervals: it must rise to "
                         f"{need_kw:,.0f} kW (or the PV/battery bounds must rise)")))
    return out
