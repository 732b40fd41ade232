"""Checking a flows table that comes from outside (a file, an upload, metered and allocated).

A simulated table satisfies these by construction; one read from a file is checked before any
stage uses it, and every problem is reported at once with the file, the row and the column.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from greenlink.errors import InputError, ProblemList
from greenlink.flows.schema import (
    BATTERY_CHARGE_KWH,
    BATTERY_DISCHARGE_KWH,
    COLUMNS,
    CURTAILED_KWH,
    EXPORT_KWH,
    GENERATION_KWH,
    GREEN_TO_LOAD_KWH,
    IMPORT_KWH,
    INTERVAL_START,
    LOAD_KWH,
    PARK_COLUMNS,
    required_columns,
    user_green,
    user_load,
)
from greenlink.flows.time import normalise
from greenlink.units import FILE_TOLERANCE_KWH, MAX_INTERVAL_KWH

#: Columns of the park energy balance.
BALANCE_COLUMNS = (GENERATION_KWH, BATTERY_DISCHARGE_KWH, IMPORT_KWH, LOAD_KWH,
                   BATTERY_CHARGE_KWH, EXPORT_KWH, CURTAILED_KWH)
#: Problems reported per kind before the rest are summarised.
_MAX_PER_CHECK = 5


def _row(frame: pd.DataFrame, i: int) -> str:
    return f"row {i + 1} ({frame.index[i].isoformat()})"


def _first_rows(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask)[:_MAX_PER_CHECK]


def balance_error_kwh(frame: pd.DataFrame) -> np.ndarray:
    """Per-interval residual of the park balance
    ``generation + discharge + import − (load + charge + export + curtailed)`` (should be ~0)."""
    supply = frame[GENERATION_KWH] + frame[BATTERY_DISCHARGE_KWH] + frame[IMPORT_KWH]
    use = frame[LOAD_KWH] + frame[BATTERY_CHARGE_KWH] + frame[EXPORT_KWH] + frame[CURTAILED_KWH]
    return np.asarray((supply - use).to_numpy(dtype=float))


def contract_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of ``frame`` that belong to the flows contract: park columns and
    ``<id>.<quantity>`` columns of a known quantity (other columns are carried along unchecked)."""
    quantities = {c.name for c in COLUMNS if c.scope in ("user", "generator", "battery")}
    return [c for c in frame.columns if c in PARK_COLUMNS
            or (isinstance(c, str) and "." in c and c.rsplit(".", 1)[1] in quantities)]


def validate_flows(frame: pd.DataFrame, user_ids: Sequence[str] = (), *,
                   required: Sequence[str] | None = None, timezone: str | None = None,
                   interval_minutes: int | None = None, file: str | None = None,
                   tolerance_kwh: float = FILE_TOLERANCE_KWH) -> pd.DataFrame:
    """Check a flows table from outside; return it normalised (see docs/formats.md).

    Parameters
    ----------
    frame
        The table (``interval_start`` as index or column).
    user_ids
        The scenario's users (for the per-user sums).
    required
        Columns the caller needs; default: every park column and each user's load and green
        column (:func:`greenlink.flows.required_columns`). A stage that needs fewer names them.
    timezone, interval_minutes
        The scenario's zone and interval length; ``interval_minutes=None`` accepts any regular
        step.

    Checks: tz-aware interval starts, once each, in regular steps; the required columns present;
    every contract column present numeric, finite, not negative and below 1 TWh per interval;
    where their columns are present: per user ``green ≤ load``, Σ users' load = park load and
    Σ users' green = ``green_to_load_kwh``, and the park energy balance — all within
    ``tolerance_kwh``.

    Raises
    ------
    InputError
        With every problem found (up to five rows per check), naming file, row and column.
    """
    table = normalise(frame, timezone, file=file)
    problems = ProblemList()
    if table.empty:
        problems.add("flows table has no rows", file=file, expected="one row per interval")
        problems.raise_if_any()
    index = pd.DatetimeIndex(table.index)
    if len(index) > 1:
        steps = np.diff(index.as_unit("s").asi8)
        step = interval_minutes * 60 if interval_minutes is not None else int(np.median(steps))
        for i in _first_rows(steps != step):
            problems.add(f"gap or step of {steps[i] / 60:g} min after this row", file=file,
                         location=f"{_row(table, int(i))}, {INTERVAL_START}",
                         expected=f"regular {step / 60:g}-minute intervals")
    wanted = required_columns(list(user_ids)) if required is None else list(required)
    for c in wanted:
        if c not in table.columns:
            problems.add(f"no column {c!r}", file=file, location=c,
                         expected="the columns of docs/formats.md")
    values: dict[str, np.ndarray] = {}
    before = len(problems.problems)
    for c in contract_columns(table):
        col = pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float)
        for i in _first_rows(~np.isfinite(col)):
            text = str(table[c].iloc[i])
            text = text if len(text) <= 40 else text[:40] + "…"
            problems.add(f"{text!r} is not a finite number", file=file,
                         location=f"{_row(table, int(i))}, {c}", expected="a finite kWh value")
        finite = np.where(np.isfinite(col), col, 0.0)
        for i in _first_rows(finite < -tolerance_kwh):
            problems.add(f"negative energy {finite[i]:g} kWh", file=file,
                         location=f"{_row(table, int(i))}, {c}", expected="kWh ≥ 0")
        for i in _first_rows(finite > MAX_INTERVAL_KWH):
            problems.add(f"{finite[i]:g} kWh in one interval", file=file,
                         location=f"{_row(table, int(i))}, {c}",
                         expected=f"at most {MAX_INTERVAL_KWH:g} kWh (is the unit kWh?)")
        values[c] = finite
    if len(problems.problems) == before:  # relations only between plausible values
        _check_relations(table, values, user_ids, file, tolerance_kwh, problems)
    problems.raise_if_any(InputError)
    return table


def _check_relations(table: pd.DataFrame, values: dict[str, np.ndarray], user_ids: Sequence[str],
                     file: str | None, tolerance_kwh: float, problems: ProblemList) -> None:
    """The relations between columns, each where all its columns are present."""
    users = [u for u in user_ids if user_green(u) in values and user_load(u) in values]
    for u in users:
        over = values[user_green(u)] - values[user_load(u)]
        for i in _first_rows(over > tolerance_kwh):
            problems.add(f"user {u!r} received {over[i]:g} kWh more green energy than it used",
                         file=file, location=f"{_row(table, int(i))}, {user_green(u)}",
                         expected=f"{user_green(u)} ≤ {user_load(u)}")
    if user_ids and len(users) == len(user_ids):
        for total, per_user in ((LOAD_KWH, user_load), (GREEN_TO_LOAD_KWH, user_green)):
            if total not in values:
                continue
            diff = values[total] - sum(values[per_user(u)] for u in user_ids)
            for i in _first_rows(np.abs(diff) > tolerance_kwh):
                problems.add(f"{total} differs from the users' sum by {diff[i]:g} kWh",
                             file=file, location=f"{_row(table, int(i))}, {total}",
                             expected="the park column equal to the sum over users")
    if all(c in values for c in BALANCE_COLUMNS):
        residual = balance_error_kwh(pd.DataFrame({c: values[c] for c in BALANCE_COLUMNS},
                                                  index=table.index))
        for i in _first_rows(np.abs(residual) > tolerance_kwh):
            problems.add(f"energy balance off by {residual[i]:g} kWh", file=file,
                         location=_row(table, int(i)),
                         expected="generation + discharge + import = load + charge + export + "
                                  "curtailed")
