"""Reading and writing the CSV tables inside a pack, with errors that name file, row and field.

Tables are written with a fixed float format (``%.6f`` kWh: 1 mWh resolution, finer than any
meter) and ISO 8601 time stamps with UTC offset. The claim is computed from the values *as
written*, so a verifier who re-reads the CSV recomputes exactly the same numbers.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Float format of every energy column in a pack.
FLOAT_FORMAT = "%.6f"
DECIMALS = 6


@dataclass(frozen=True)
class Failure:
    """Where verification failed: file, 1-based data row (header excluded), field, and why."""

    file: str
    message: str
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.field is not None:
            where += f" field {self.field}"
        return f"{where}: {self.message}"


class PackFailure(Exception):
    """Raised inside verification to stop at the first failure."""

    def __init__(self, failure: Failure) -> None:
        self.failure = failure
        super().__init__(str(failure))


def fail(file: str, message: str, row: int | None = None, field: str | None = None) -> PackFailure:
    return PackFailure(Failure(file, message, row, field))


def round_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Round every float column to the pack's resolution (what the CSV will hold)."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].round(DECIMALS)
    return out


def iso_strings(index: pd.DatetimeIndex) -> list[str]:
    """ISO 8601 text with UTC offset of every time stamp (``2025-01-01T00:00:00+08:00``)."""
    return [t.isoformat() for t in index]


def table_bytes(frame: pd.DataFrame, time_column: str, stamps: list[str] | None = None) -> bytes:
    """CSV bytes of ``frame`` with its DatetimeIndex written as ``time_column`` (ISO 8601).

    ``stamps`` may pass the index already formatted (:func:`iso_strings`) to share the work
    between tables on the same index.
    """
    out = frame.copy()
    out.insert(0, time_column, stamps if stamps is not None
               else iso_strings(pd.DatetimeIndex(out.index)))
    buf = io.StringIO()
    out.to_csv(buf, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def read_table(data: bytes, file: str, time_column: str, columns: list[str],
               tz: str) -> pd.DataFrame:
    """Parse a pack table; the first bad cell raises :class:`PackFailure` naming row and field.

    Returns a frame indexed by tz-aware ``time_column`` holding ``columns`` as floats.
    """
    try:
        raw = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise fail(file, f"not a readable CSV table: {exc}") from exc
    for col in [time_column, *columns]:
        if col not in raw.columns:
            raise fail(file, "column missing", field=col)
    try:
        stamps = pd.to_datetime(raw[time_column], utc=True, format="ISO8601")
    except (ValueError, TypeError):
        stamps = None
    if stamps is None or stamps.isna().any():
        for i, text in enumerate(raw[time_column], start=1):
            try:
                pd.Timestamp(text)
            except ValueError:
                raise fail(file, f"not an ISO 8601 time stamp: {text!r}", row=i,
                           field=time_column) from None
        raise fail(file, "time stamps unreadable", field=time_column)
    values = {}
    for col in columns:
        num = pd.to_numeric(raw[col], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(num))
        if len(bad):
            i = int(bad[0])
            raise fail(file, f"not a finite number: {raw[col].iloc[i]!r}", row=i + 1, field=col)
        values[col] = num
    index = pd.DatetimeIndex(stamps).tz_convert(tz)
    index.name = time_column
    return pd.DataFrame(values, index=index)


def first_mismatch(claimed: np.ndarray, recomputed: np.ndarray, tol: float) -> int | None:
    """Index of the first element where ``|claimed − recomputed| > tol``, or None."""
    bad = np.flatnonzero(~(np.abs(claimed - recomputed) <= tol))
    return int(bad[0]) if len(bad) else None
