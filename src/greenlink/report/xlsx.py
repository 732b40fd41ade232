"""The summary of a run as an Excel workbook (``summary.xlsx``): the same figures as
``summary.json``, one sheet per table, units in the second (frozen) header row.

Sheets: ``summary`` (scenario, capacity, yields, energy totals, shares, cost, grid, balance —
one row per figure with its unit), ``users``, ``monthly``, ``policy`` (one row per verdict),
``products``, the CBAM tables when the scenario has installations, and ``warnings`` when the
inputs raised any. Written by :func:`greenlink.xlsxfile.write_xlsx`, the one xlsx writer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from greenlink.xlsxfile import Sheet, records_sheet, unit_of, write_xlsx

_FRACTION = "fraction 0..1"
_SECTIONS = ("scenario", "capacity", "specific_yield_kwh_per_kwp", "totals_kwh", "shares",
             "cost", "grid")


def _unit(section: str, item: str, currency: str) -> str:
    if section == "specific_yield_kwh_per_kwp":
        return "kWh/kWp"
    if section == "totals_kwh":
        return "kWh"
    if section == "shares":
        return _FRACTION
    if section == "cost" and item != "currency":
        return currency
    return unit_of(item, currency)


def summary_sheets(summary: Mapping[str, Any]) -> list[Sheet]:
    """The sheets of ``summary.xlsx`` from ``summary.json`` content (a mapping)."""
    currency = str((summary.get("cost") or {}).get("currency")
                   or (summary.get("scenario") or {}).get("currency") or "")
    rows: list[dict[str, Any]] = []
    for section in _SECTIONS:
        for item, value in (summary.get(section) or {}).items():
            if isinstance(value, dict | list):
                continue
            rows.append({"section": section, "item": item, "value": value,
                         "unit": _unit(section, item, currency)})
    balance = summary.get("energy_balance_max_abs_error_kwh")
    if balance is not None:
        rows.append({"section": "check", "item": "energy_balance_max_abs_error_kwh",
                     "value": balance, "unit": "kWh"})
    sheets = [Sheet("summary", pd.DataFrame(rows, columns=["section", "item", "value", "unit"]),
                    {"unit": "", "value": ""}, currency, freeze_columns=2)]
    sheets.append(records_sheet("users", summary.get("users") or [], currency=currency,
                                freeze_columns=1))
    sheets.append(records_sheet("monthly", summary.get("monthly_kwh") or [],
                                units={"month": ""}, freeze_columns=1))
    policy = summary.get("policy") or {}
    verdicts = [{**{k: v for k, v in r.items() if not isinstance(v, dict | list)},
                 "unit": _FRACTION if "share" in str(r.get("kpi", "")) else ""}
                for r in policy.get("results") or []]
    if verdicts:
        sheets.append(records_sheet("policy", verdicts, currency=currency,
                                    units={"value": "see unit", "threshold": "see unit",
                                           "margin": "see unit", "unit": ""},
                                    freeze_columns=1))
    if summary.get("products"):
        sheets.append(records_sheet("products", summary["products"], currency=currency,
                                    freeze_columns=1))
    for inst in (summary.get("cbam") or {}).get("installations") or []:
        ident = str(inst.get("id") or inst.get("installation") or "installation")
        for key in ("processes", "liability_per_year", "exposure_by_sku"):
            if inst.get(key):
                sheets.append(records_sheet(f"{ident} {key}", inst[key], currency="EUR",
                                            freeze_columns=1))
    warnings = summary.get("warnings") or []
    if warnings:
        sheets.append(Sheet("warnings", pd.DataFrame({"warning": list(warnings)}),
                            {"warning": ""}))
    return sheets


def write_summary_xlsx(path: str | Path, summary: Mapping[str, Any]) -> Path:
    """Write ``summary.xlsx`` (see the module docstring)."""
    return write_xlsx(path, summary_sheets(summary))


def table_sheets(tables: Mapping[str, pd.DataFrame | Sequence[Mapping[str, Any]]],
                 currency: str = "") -> list[Sheet]:
    """Sheets of named tables (frames or records), for the CBAM and sweep outputs."""
    out = []
    for name, table in tables.items():
        if isinstance(table, pd.DataFrame):
            out.append(Sheet(name, table.reset_index(drop=True), currency=currency,
                             freeze_columns=1))
        else:
            out.append(records_sheet(name, list(table), currency=currency, freeze_columns=1))
    return out
