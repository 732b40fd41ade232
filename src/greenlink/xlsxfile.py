"""Writing the xlsx workbooks users open in Excel or WPS: the one writer of flows, summaries,
settlement statements, sweep results and CBAM tables (openpyxl, write-only mode).

Every sheet has two header rows, frozen: the column names (as in the CSV and JSON outputs) and
their units (``kWh``, ``t CO2e/t``, ``CNY``, ``fraction 0..1`` …, from :func:`unit_of` unless the
caller names them). Time stamps become local wall-clock times (Excel has no time zones) and the
unit row names the zone and its UTC offset. Empty, NaN and infinite values are empty cells. The
workbook is written under a temporary name and renamed, so no reader sees half a file.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# user-facing texts of this module (one place, for translation later)
_UNIT_TIME = "local time, {zone} (UTC{offset}), interval beginning"
_UNIT_TIME_NAIVE = "local time"
_UNIT_FRACTION = "fraction 0..1"

#: Units of column-name endings, longest first wins (``green_share`` → a fraction).
_SUFFIX_UNITS: tuple[tuple[str, str], ...] = (
    ("_kwh_per_kwp", "kWh/kWp"), ("_mwh_per_t", "MWh/t"), ("_kwh_per_t", "kWh/t"),
    ("_t_per_mwh", "t CO2/MWh"), ("_t_per_t", "t CO2e/t"), ("_per_kwh", "{currency}/kWh"),
    ("_per_point", "{currency}/point"), ("_per_t", "{currency}/t"),
    ("_kw_dc", "kWp"), ("_kwp", "kWp"), ("_kwh", "kWh"), ("_mwh", "MWh"), ("_wh", "Wh"),
    ("_kw", "kW"), ("_mw", "MW"), ("_kv", "kV"), ("_t_co2e", "t CO2e"), ("_tco2e", "t CO2e"),
    ("tonnes_per_year", "t/year"), ("_t", "t"), ("tonnes", "t"), ("_eur", "EUR"),
    ("_cny", "CNY"), ("_usd", "USD"), ("_percent", "%"), ("_pct", "%"), ("_minutes", "min"),
    ("_hours", "h"), ("_days", "d"), ("_share", _UNIT_FRACTION), ("share", _UNIT_FRACTION),
)
_SHARE_OF = re.compile(r"_share_of_|^share_|_share$")


def unit_of(column: str, currency: str = "") -> str:
    """The unit a column's name states (``load_kwh`` → ``kWh``, ``cost_per_kwh`` →
    ``CNY/kWh``, ``green_share_of_consumption`` → ``fraction 0..1``), or ``""``."""
    name = column.lower()
    if _SHARE_OF.search(name):
        return _UNIT_FRACTION
    for suffix, unit in _SUFFIX_UNITS:
        if name.endswith(suffix):
            return unit.format(currency=currency or "currency")
    return ""


@dataclass(frozen=True)
class Sheet:
    """One worksheet: a table, its units, and how much of it stays in view."""

    name: str
    frame: pd.DataFrame
    units: Mapping[str, str] = field(default_factory=dict)  # column → unit (default unit_of)
    currency: str = ""  # fills ``{currency}/kWh`` units
    freeze_columns: int = 0  # columns kept in view beside the frozen header rows


def _sheet_name(name: str, used: set[str]) -> str:
    clean = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "sheet"
    out, n = clean, 2
    while out.lower() in used:
        suffix = f" ({n})"
        out, n = clean[:31 - len(suffix)] + suffix, n + 1
    used.add(out.lower())
    return out


def _time_unit(values: pd.Series) -> str:
    tz = getattr(values.dt, "tz", None)
    if tz is None or not len(values):
        return _UNIT_TIME_NAIVE
    offset = values.iloc[0].strftime("%z")
    return _UNIT_TIME.format(zone=str(tz), offset=f"{offset[:3]}:{offset[3:]}")


def _column_values(values: pd.Series) -> list[Any]:
    """Plain Python cell values: local naive datetimes, floats, text; empty for missing."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(values):
        return [None if pd.isna(v) else v.to_pydatetime() for v in values]
    if pd.api.types.is_bool_dtype(values):
        return [bool(v) for v in values]
    if pd.api.types.is_numeric_dtype(values):
        array = values.to_numpy(dtype=float, na_value=np.nan)
        cells: list[Any] = array.tolist()
        bad = ~np.isfinite(array)
        if bad.any():
            for i in np.flatnonzero(bad):
                cells[i] = None
        return cells
    return [_cell(v) for v in values]


def _cell(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.tz_localize(None).to_pydatetime() \
            if value.tzinfo is not None else value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(_text(v) for v in value)
    if value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return str(value)


def _text(value: Any) -> str:
    cell = _cell(value)
    return "" if cell is None else str(cell)


def write_xlsx(path: str | Path, sheets: Sequence[Sheet]) -> Path:
    """Write ``sheets`` into one workbook at ``path`` (see the module docstring)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook(write_only=True)
    used: set[str] = set()
    bold, italic = Font(bold=True), Font(italic=True, color="555555")
    for sheet in sheets:
        ws = book.create_sheet(_sheet_name(sheet.name, used))
        frame = sheet.frame
        names = [str(c) for c in frame.columns]
        units = []
        for c, name in zip(frame.columns, names, strict=True):
            if name in sheet.units:
                units.append(sheet.units[name])
            elif pd.api.types.is_datetime64_any_dtype(frame[c]):
                units.append(_time_unit(frame[c]))
            else:
                units.append(unit_of(name, sheet.currency))
        columns = [_column_values(frame.iloc[:, i]) for i in range(frame.shape[1])]
        for i, (name, unit) in enumerate(zip(names, units, strict=True), start=1):
            width = max(len(name), len(unit), 10) + 2
            if pd.api.types.is_datetime64_any_dtype(frame.iloc[:, i - 1]):
                width = max(width, 19)
            ws.column_dimensions[get_column_letter(i)].width = min(width, 60)
        ws.freeze_panes = f"{get_column_letter(sheet.freeze_columns + 1)}3"
        header = []
        for name in names:
            cell = WriteOnlyCell(ws, value=name)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        unit_row = []
        for unit in units:
            cell = WriteOnlyCell(ws, value=unit)
            cell.font = italic
            unit_row.append(cell)
        ws.append(unit_row)
        dates = [j for j in range(frame.shape[1])
                 if pd.api.types.is_datetime64_any_dtype(frame.iloc[:, j])]
        for row in zip(*columns, strict=True) if columns else ():
            if dates:
                cells: list[Any] = list(row)
                for j in dates:
                    stamp = WriteOnlyCell(ws, value=row[j])
                    stamp.number_format = "yyyy-mm-dd hh:mm"
                    cells[j] = stamp
                ws.append(cells)
            else:
                ws.append(row)
    if not sheets:
        book.create_sheet("empty")
    tmp = target.with_name(f".{target.name}.tmp")
    book.save(tmp)
    os.replace(tmp, target)
    return target


def records_sheet(name: str, records: Sequence[Mapping[str, Any]], *,
                  units: Mapping[str, str] | None = None, currency: str = "",
                  freeze_columns: int = 0) -> Sheet:
    """A sheet of JSON-like records (nested values as ``key: value; …`` text)."""
    frame = pd.DataFrame([{k: _cell(v) if isinstance(v, dict | list | tuple) else v
                           for k, v in r.items()} for r in records])
    return Sheet(name, frame, units or {}, currency, freeze_columns)


def key_value_sheet(name: str, items: Mapping[str, Any], *, currency: str = "",
                    units: Mapping[str, str] | None = None) -> Sheet:
    """A two-column sheet ``item, value`` with each item's unit in a third column."""
    rows = [{"item": k, "value": _cell(v), "unit": (units or {}).get(k, unit_of(k, currency))}
            for k, v in items.items()]
    return Sheet(name, pd.DataFrame(rows, columns=["item", "value", "unit"]), {"unit": ""},
                 currency)
