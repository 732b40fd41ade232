"""Scope 2 (GHG Protocol) per user, the hourly-matched (24/7) score, and the buyer's declaration.

* location-based: ``Σ load × EF_grid``;
* market-based: the green energy received through the direct line carries EF 0 (a contractual
  instrument that conveys the attribute), the rest the grid factor standing in for the residual
  mix (China publishes none; stated in the result);
* 24/7 score: ``Σ_h min(load_h, green_h) / Σ_h load_h`` over hours (the GHG Protocol revision
  proposes hourly matching; consultation 2025, final standard expected 2027). An hour is a local
  clock hour of the scenario's zone (:func:`greenlink.flows.hour_key`), whatever zone the flows
  table's index is in.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from greenlink import flows


@dataclass(frozen=True)
class Scope2:
    """Scope 2 of one user over the flows period (t CO2)."""

    user: str
    load_mwh: float
    green_mwh: float
    location_based_t: float
    market_based_t: float
    hourly_matched_score: float
    ef_t_per_mwh: float
    ef_source: str
    note: str


def scope2(table: pd.DataFrame, user: str, ef_t_per_mwh: float, ef_source: str, *,
           timezone: str | None = None) -> Scope2:
    """Scope 2 location- and market-based and the 24/7 score of ``user`` from the flows table.

    Parameters
    ----------
    table
        The flows table (``interval_start`` as index or column, any zone).
    user, ef_t_per_mwh, ef_source
        The user; the grid factor [t CO2/MWh] and where it comes from.
    timezone
        The scenario's zone, whose clock hours are matched; ``None``: the zone of the table's
        index.
    """
    table = flows.normalise(table, timezone)
    hours = flows.hour_key(flows.time_index(table), timezone)
    load = pd.Series(table[flows.user_load(user)].to_numpy(dtype=float), index=hours)
    green = pd.Series(table[flows.user_green(user)].to_numpy(dtype=float), index=hours)
    hourly = pd.DataFrame({"load": load, "green": green}).groupby(level=0).sum()
    matched = hourly[["load", "green"]].min(axis=1).sum()
    total = float(load.sum())
    load_mwh, green_mwh = total / 1000.0, float(green.sum()) / 1000.0
    return Scope2(user=user, load_mwh=load_mwh, green_mwh=green_mwh,
                  location_based_t=load_mwh * ef_t_per_mwh,
                  market_based_t=(load_mwh - green_mwh) * ef_t_per_mwh,
                  hourly_matched_score=float(matched / total) if total else 0.0,
                  ef_t_per_mwh=ef_t_per_mwh, ef_source=ef_source,
                  note="market-based: direct-line green energy at 0 t/MWh (attributes conveyed "
                       "with the physical delivery); the grid factor stands in for a residual "
                       "mix, which China does not publish")


def green_declaration(shipment: pd.Series, route: str, missing_evidence: str,
                      certificates_cancelled: str = "") -> dict[str, object]:
    """A buyer-facing green electricity declaration for one shipment (plain dict, JSON-ready)."""
    return {
        "shipment_id": str(shipment["shipment_id"]),
        "customer": str(shipment["customer"]),
        "sku": str(shipment["sku"]),
        "tonnes": float(shipment["tonnes"]),
        "batches": str(shipment["batches"]),
        "electricity_mwh_per_t": round(float(shipment["electricity_mwh_per_t"]), 5),
        "green_share_hourly_matched": round(float(shipment["green_share"]), 4),
        "emission_factor_route": route,
        "missing_evidence": missing_evidence,
        "footprint_t_per_t_grid_only": round(float(shipment["footprint_grid_t_per_t"]), 5),
        "footprint_t_per_t_with_direct_line": round(float(shipment["footprint_dc_t_per_t"]), 5),
        "cbam_see_counted_t_per_t": round(float(shipment["see_counted_dc_t_per_t"]), 5),
        "certificates_cancelled": certificates_cancelled or "none (registry not connected)",
        "statement": "green share = energy from the park's plants matched hour by hour to the "
                     "hours the batches ran; a claim here must not also back a Scope 2 claim",
    }
