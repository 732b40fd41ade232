"""Per-product electricity footprint: indirect emissions at grid factor and with the direct line.

Specific indirect emissions = specific electricity consumption (MWh/t) × emission factor (t/MWh),
the rule of the Commission's CBAM communication template and Reg (EU) 2023/956 Annex IV. With the
direct line, the hourly-matched share of the user's consumption is taken at an emission factor of
zero and the rest at the grid factor: the MWh-weighted average of IR 2025/2547 Art 9(1).

This is not the CBAM liability (defaults, mark-ups, phase-in and carbon price come later); it says
how far green electricity changes the emissions CBAM would count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from greenlink.carbon.cbam_goods import CbamGood, classify, normalise_cn_code
from greenlink.carbon.factors import EmissionFactor
from greenlink.errors import InputError, Problem, ProblemList

SHARE_KEYS = ("annual_matched_share", "hourly_matched_share", "green_share_of_consumption")
_NUMERIC_FIELDS = ("electricity_kwh_per_t", "direct_emissions_t_per_t", "annual_output_t")

COLUMNS = [
    "sku", "name", "cn_code", "user_id", "annual_output_t", "electricity_kwh_per_t",
    "electricity_mwh_per_year", "green_share_annual", "green_share_hourly",
    "green_share_of_consumption", "ef_t_per_mwh", "ef_source",
    "indirect_emissions_grid_t", "indirect_emissions_direct_line_t",
    "specific_indirect_grid_t_per_t", "specific_indirect_direct_line_t_per_t",
    "direct_emissions_t", "specific_direct_t_per_t",
    "is_cbam_good", "sector", "cbam_counts_indirect", "cbam_relevant_indirect_saving_t",
    "cbam_note",
]

_NOTE_ANNEX_II = ("Annex II good ({sector}): CBAM counts direct emissions only"
                  " (Reg 2023/956 Art 7(1)), so green electricity does not lower its CBAM"
                  " embedded emissions; the saving still counts for Scope 2 and product carbon"
                  " footprints")
_NOTE_INDIRECT = ("CBAM counts indirect emissions ({sector}): the saving needs evidence of the"
                  " direct technical link with hourly metering (IR 2025/2547 Annex II D.4.3); it is"
                  " measured against the factor given, whereas CBAM's alternative is the"
                  " production country's default (IR 2025/2621 Annex II)")
_NOTE_NOT_CBAM = ("not a CBAM good: the saving is outside CBAM; it counts for Scope 2 and product"
                  " carbon footprints")


def _field(item: object, name: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, name, None)


def _rows(products: pd.DataFrame | Iterable[object]) -> list[object]:
    if isinstance(products, pd.DataFrame):
        return list(products.to_dict("records"))
    return list(products)


def _factor(grid_factor: EmissionFactor | float) -> tuple[float, str]:
    if isinstance(grid_factor, EmissionFactor):
        value, source = grid_factor.ef_t_per_mwh, grid_factor.source
    else:
        value, source = float(grid_factor), "user-supplied factor"
    if not (math.isfinite(value) and value >= 0.0):
        raise InputError(Problem(f"grid emission factor {value!r} is not a valid factor",
                                 location="grid_factor", expected="a finite number ≥ 0 t CO2/MWh"))
    return value, source


def _number(value: Any, where: str, problems: ProblemList) -> float:
    if value is None:
        problems.add("value missing", location=where, expected="a number ≥ 0")
        return 0.0
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number >= 0.0):
        problems.add(f"{value!r} is not a valid number", location=where, expected="a number ≥ 0")
        return 0.0
    return number


def product_footprints(products: pd.DataFrame | Iterable[object],
                       user_shares: Mapping[str, Mapping[str, float]],
                       grid_factor: EmissionFactor | float) -> pd.DataFrame:
    """Electricity, indirect and direct emissions per product, grid-only and with the direct line.

    Parameters
    ----------
    products : DataFrame or iterable of mappings / objects
        Each with ``sku``, ``cn_code``, ``user_id`` (or ``user``, as in the scenario's
        ``Product``), ``name`` (optional), ``electricity_kwh_per_t``,
        ``direct_emissions_t_per_t`` (optional, default 0) and ``annual_output_t``.
    user_shares : mapping
        ``user_shares[user_id] = {"annual_matched_share": x, "hourly_matched_share": y,
        "green_share_of_consumption": z}``, fractions 0..1 from the dispatch (kpis.md).
    grid_factor : EmissionFactor or float
        Emission factor of grid electricity, t CO2/MWh (e.g. ``grid_factor("CN-JS")`` or
        ``cbam_default_factor()``).

    Returns
    -------
    pandas.DataFrame
        One row per product, columns :data:`COLUMNS`. Emissions are t CO2 per year (``_t``) or per
        tonne of product (``_t_per_t``). ``indirect_emissions_direct_line_t`` takes the
        hourly-matched share at zero emissions and the rest at the grid factor.
        ``cbam_relevant_indirect_saving_t`` is the difference where CBAM counts indirect emissions
        (cement, fertilisers, 2601 12 00) and **zero** for Annex II goods (iron and steel,
        aluminium, hydrogen, electricity) and non-CBAM goods; ``cbam_note`` says why.

    Raises
    ------
    InputError
        Missing or invalid fields, a malformed CN code, a user without shares, a share outside
        0..1, or an invalid grid factor; all problems are reported together.
    """
    ef_t_per_mwh, ef_source = _factor(grid_factor)
    problems = ProblemList()
    records: list[dict[str, Any]] = []
    for i, item in enumerate(_rows(products)):
        where = f"products[{i}]"
        sku = _field(item, "sku")
        if sku is None or str(sku) == "":
            problems.add("product has no sku", location=f"{where}.sku", expected="a product id")
        user = _field(item, "user_id")
        if user is None:
            user = _field(item, "user")
        if user is None:
            problems.add("product has no user_id", location=f"{where}.user_id",
                         expected="the id of the user that makes it")
        raw_cn = _field(item, "cn_code")
        try:
            good = classify(normalise_cn_code(str(raw_cn), location=f"{where}.cn_code"))
        except InputError as exc:
            problems.problems.extend(exc.problems)
            continue
        values: dict[str, float] = {}
        for name in _NUMERIC_FIELDS:
            raw = _field(item, name)
            if raw is None and name == "direct_emissions_t_per_t":
                raw = 0.0
            values[name] = _number(raw, f"{where}.{name}", problems)
        shares = user_shares.get(str(user)) if user is not None else None
        if user is not None and shares is None:
            problems.add(f"no green shares for user {user!r}", location=f"{where}.user_id",
                         expected="a key of user_shares: " + ", ".join(map(str, user_shares)))
        share: dict[str, float] = {}
        for key in SHARE_KEYS:
            raw = shares.get(key) if shares is not None else 0.0
            value = _number(raw, f"user_shares[{user!r}].{key}", problems)
            if value > 1.0:
                problems.add(f"share {value!r} above 1", location=f"user_shares[{user!r}].{key}",
                             expected="a fraction 0..1")
            share[key] = value
        records.append(_footprint(item, sku, user, good, values, share, ef_t_per_mwh, ef_source))
    problems.raise_if_any()
    return pd.DataFrame.from_records(records, columns=COLUMNS)


def _footprint(item: object, sku: Any, user: Any, good: CbamGood, values: Mapping[str, float],
               share: Mapping[str, float], ef_t_per_mwh: float, ef_source: str) -> dict[str, Any]:
    output_t = values["annual_output_t"]
    mwh_per_t = values["electricity_kwh_per_t"] / 1000.0
    hourly = share["hourly_matched_share"]
    specific_grid = mwh_per_t * ef_t_per_mwh
    specific_line = mwh_per_t * (1.0 - hourly) * ef_t_per_mwh
    indirect_grid_t = specific_grid * output_t
    indirect_line_t = specific_line * output_t
    if not good.is_cbam_good:
        note = _NOTE_NOT_CBAM + (f"; {good.note}" if good.note else "")
    elif good.indirect_emissions_counted:
        note = _NOTE_INDIRECT.format(sector=good.sector)
    else:
        note = _NOTE_ANNEX_II.format(sector=good.sector)
    saving_t = indirect_grid_t - indirect_line_t if good.indirect_emissions_counted else 0.0
    name = _field(item, "name")
    return {
        "sku": str(sku), "name": "" if name is None else str(name), "cn_code": good.cn_code,
        "user_id": str(user), "annual_output_t": output_t,
        "electricity_kwh_per_t": values["electricity_kwh_per_t"],
        "electricity_mwh_per_year": mwh_per_t * output_t,
        "green_share_annual": share["annual_matched_share"], "green_share_hourly": hourly,
        "green_share_of_consumption": share["green_share_of_consumption"],
        "ef_t_per_mwh": ef_t_per_mwh, "ef_source": ef_source,
        "indirect_emissions_grid_t": indirect_grid_t,
        "indirect_emissions_direct_line_t": indirect_line_t,
        "specific_indirect_grid_t_per_t": specific_grid,
        "specific_indirect_direct_line_t_per_t": specific_line,
        "direct_emissions_t": values["direct_emissions_t_per_t"] * output_t,
        "specific_direct_t_per_t": values["direct_emissions_t_per_t"],
        "is_cbam_good": good.is_cbam_good, "sector": good.sector,
        "cbam_counts_indirect": good.indirect_emissions_counted,
        "cbam_relevant_indirect_saving_t": saving_t, "cbam_note": note,
    }
