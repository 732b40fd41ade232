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
from greenlink.carbon.batches import BATCH_FOOTPRINT_REGIME
from greenlink.carbon.cbam_data import parameter
from greenlink.carbon.embedded import round_half_up, round_see
from greenlink.carbon.emission_factor_routes import EfDecision


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


def green_declaration(shipment: pd.Series, decision: EfDecision, period: str, process: str,
                      certificates_cancelled: str = "") -> dict[str, object]:
    """A buyer-facing declaration for one shipment (plain dict, JSON-ready).

    ``cbam``: the period values of the shipment's process (IR 2025/2547 Art 9(2): attribution
    per production process over the reporting period) — the same for every shipment of the
    process and period. ``product_footprint``: the footprint from the hours the shipment's
    batches ran, under the regime that allows hour-resolved electricity; never a CBAM figure.
    """
    tonnes = float(shipment["tonnes"])
    counted = float(shipment["see_counted_dc_t_per_t"])
    return {
        "shipment_id": str(shipment["shipment_id"]),
        "customer": str(shipment["customer"]),
        "sku": str(shipment["sku"]),
        "cn_code": str(shipment["cn_code"]),
        "tonnes": tonnes,
        "batches": str(shipment["batches"]),
        "process": process,
        "cbam": {
            "basis": f"period value of process {process} over the reporting period {period} "
                     "(IR 2025/2547 Art 9(2)); the same for every shipment of the process",
            "see_direct_t_per_t": round_see(float(shipment["see_direct_t_per_t"])),
            "see_indirect_t_per_t": round_see(float(shipment["see_indirect_t_per_t"])),
            "see_counted_t_per_t": round_see(counted),
            "embedded_emissions_counted_t": round_half_up(
                tonnes * round_see(counted), int(parameter("period_total_decimals"))),
            "emission_factor_route": decision.route,
            "emission_factor_template_code": decision.template_code,
            "emission_factor_t_per_mwh": decision.ef_t_per_mwh,
            "missing_evidence": "; ".join(decision.missing_evidence),
        },
        "product_footprint": {
            "regime": BATCH_FOOTPRINT_REGIME,
            "basis": "the hours this shipment's batches ran (hour-resolved electricity, "
                     "hourly matching); a buyer-facing product footprint, not a CBAM figure",
            "electricity_mwh_per_t": round_see(float(shipment["electricity_mwh_per_t"])),
            "green_share_hourly_matched": round_half_up(float(shipment["green_share"]), 4),
            "footprint_t_per_t_grid_only": round_see(
                float(shipment["footprint_grid_t_per_t"])),
            "footprint_t_per_t_with_direct_line": round_see(
                float(shipment["footprint_dc_t_per_t"])),
        },
        "certificates_cancelled": certificates_cancelled or "none (registry not connected)",
        "statement": "green share = energy from the park's plants matched hour by hour to the "
                     "hours the batches ran; a claim here must not also back a Scope 2 claim",
    }
