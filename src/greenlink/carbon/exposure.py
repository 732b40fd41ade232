"""Exposure map: every SKU and customer contract ranked by CBAM cost over the phase-in years.

Each shipment's annual volume is projected onto every phase-in year
(:func:`greenlink.carbon.cbam_data.phase_in_years`; same tonnes, same specific
emissions, the year's phase-in and mark-up); the cost is summed per SKU or per customer, with and
without the direct connection, and ranked so the highest exposure comes first.
"""

from __future__ import annotations

import pandas as pd

from greenlink.carbon.cbam_data import phase_in_years
from greenlink.carbon.liability import (
    ImporterMass,
    PriceAssumptions,
    projected_masses,
    shipment_liability,
)
from greenlink.economics.money import money_total


def exposure_map(shipments: pd.DataFrame, by: str = "sku", *, country: str = "CN",
                 prices: PriceAssumptions | None = None,
                 years: tuple[int, ...] | None = None,
                 importer_mass: ImporterMass | None = None) -> pd.DataFrame:
    """CBAM cost over ``years`` (default: the phase-in years) per ``by`` (``"sku"`` or
    ``"customer"``), highest first.

    Parameters
    ----------
    shipments : DataFrame
        Shipment footprints (:func:`greenlink.carbon.batches.shipment_footprints`).
    by : str
        Grouping column.
    importer_mass : mapping (importer, year) → t, optional
        Importers' net mass per year of data over the whole scenario (de minimis), projected
        onto ``years`` here.

    Returns
    -------
    DataFrame
        ``by, tonnes_per_year, cost_grid_eur, cost_dc_eur, saving_eur, cost_default_eur``,
        one column ``cost_dc_<year>_eur`` per year, sorted by ``cost_grid_eur`` descending, and
        ``rank``.
    """
    years = years or phase_in_years()
    liab = shipment_liability(shipments, years=years, country=country, prices=prices,
                              importer_mass=None if importer_mass is None
                              else projected_masses(importer_mass, years))
    totals = liab.groupby(by)[["cost_grid_eur", "cost_dc_eur", "saving_eur",
                               "cost_default_eur"]].agg(money_total)  # sums of rounded lines
    totals.insert(0, "tonnes_per_year", shipments.groupby(by)["tonnes"].sum())
    per_year = liab.pivot_table(index=by, columns="year", values="cost_dc_eur",
                                aggfunc=money_total)
    per_year.columns = [f"cost_dc_{y}_eur" for y in per_year.columns]
    table = totals.join(per_year).sort_values("cost_grid_eur", ascending=False)
    table["rank"] = range(1, len(table) + 1)
    return table.reset_index()
