"""The bounds every meter reading passes before it may reach a store.

Meter files come from outside: an operator's SCADA export, a tenant's upload over the web
service. A reading that is not a finite number, or larger than the meter can physically
measure, would make downstream arithmetic overflow (hourly sums, whole-Wh conversion) or mint
certificates for energy that was never generated. So every path into a store —
:func:`greenlink.metering.ingest.ingest_files` (the CLI's ``greenlink ingest``, the service's
meter files) and the service's per-user meter upload — calls :func:`guard_readings` on what it
read, and refuses the whole file (:class:`~greenlink.errors.InputError`, nothing stored) when:

* the file holds **no readings** (empty, or a header only);
* a value is **not finite** (``inf``, ``-inf``, ``nan``, ``Infinity``, or a number too large
  for a float);
* a value's magnitude is **above** ``rating_kw × Δt × rating_margin`` (Δt the meter's interval
  in hours; ``rating_margin`` in ``data/metering/defaults.toml``);
* an interval starts **outside the scenario's year** (local calendar year of the park).

Reading a text file costs time in proportion to its longest line (DuckDB's type sniffing of a
200,000-digit number takes seconds, not milliseconds), so CSV text is checked first, in one
vectorised pass, by :func:`check_text`: no line may be longer than :data:`MAX_LINE_BYTES`.

Softer faults (gaps, duplicates, stuck meters, negative readings within the bound, DST
anomalies, balance) are not refused: :mod:`greenlink.metering.validate` reports them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from greenlink.errors import InputError, Problem
from greenlink.flows import year_index
from greenlink.metering.validate import ValidationParams, interval_limit_kwh
from greenlink.scenario.model import Scenario

#: The longest line a meter CSV may have [bytes]. A wide file with a thousand meters needs
#: about 13 kB per line; the parse cost of a line grows faster than its length.
MAX_LINE_BYTES = 16_384

_CHUNK = 1 << 20
_LINE_BREAK = np.zeros(256, dtype=bool)
_LINE_BREAK[[ord("\n"), ord("\r")]] = True


def supply_capacity_kw(scenario: Scenario) -> float:
    """The most power the park can deliver to its users: grid connection + plants + batteries.

    No user's load (and no production line of it) can exceed it, so it is the rating of a user
    meter that states none.
    """
    return (scenario.grid.connection_capacity_kw
            + sum(p.capacity_kw_dc for p in scenario.pv)
            + sum(w.capacity_kw for w in scenario.wind)
            + sum(b.power_kw for b in scenario.batteries))


def meter_ratings_kw(scenario: Scenario) -> dict[str, float]:
    """Rating of every meter: its own ``rating_kw``, else the measured asset's capacity (plant,
    battery power, grid connection), else (user and line meters) the park's supply capacity."""
    cap: dict[str, float] = {p.id: p.capacity_kw_dc for p in scenario.pv}
    cap |= {w.id: w.capacity_kw for w in scenario.wind}
    cap |= {b.id: b.power_kw for b in scenario.batteries}
    cap["grid"] = scenario.grid.connection_capacity_kw
    supply = supply_capacity_kw(scenario)
    return {m.id: float(m.rating_kw if m.rating_kw is not None else cap.get(m.measures, supply))
            for m in scenario.meters}


@dataclass(frozen=True)
class ReadingLimits:
    """What a reading may be: its interval in the scenario year, its magnitude below a bound.

    ``max_kwh``, ``rating_kw`` and ``interval_minutes`` are keyed by the ``meter_id`` of the
    readings (a meter id, or the user id of a service upload).
    """

    year: int
    timezone: str
    start_s: int  # first interval start of the year [s since the Epoch, UTC]
    end_s: int  # first instant after the year [s since the Epoch, UTC]
    rating_kw: dict[str, float]
    interval_minutes: dict[str, int]
    margin: float

    @property
    def max_kwh(self) -> dict[str, float]:
        """Largest magnitude of one reading [kWh]: rating × Δt × margin."""
        return {k: float(interval_limit_kwh(r, self.interval_minutes[k], self.margin))
                for k, r in self.rating_kw.items()}


def _year(scenario: Scenario) -> tuple[int, int]:
    step = scenario.time.interval_minutes
    index = year_index(scenario.time.year, step, scenario.site.timezone)
    start = int(index[0].timestamp())
    return start, int(index[-1].timestamp()) + 60 * step


def meter_limits(scenario: Scenario, params: ValidationParams | None = None
                 ) -> ReadingLimits:
    """Limits of the scenario's meters (ratings: :func:`meter_ratings_kw`)."""
    params = params or ValidationParams.defaults()
    start, end = _year(scenario)
    return ReadingLimits(scenario.time.year, scenario.site.timezone, start, end,
                         meter_ratings_kw(scenario),
                         {m.id: m.interval_minutes for m in scenario.meters},
                         params.rating_margin)


def upload_limits(scenario: Scenario, user_id: str, params: ValidationParams | None = None
                  ) -> ReadingLimits:
    """Limits of one user's interval energy uploaded to the service: the park's supply capacity
    over the scenario's interval (the upload states no meter, so no narrower rating)."""
    params = params or ValidationParams.defaults()
    start, end = _year(scenario)
    return ReadingLimits(scenario.time.year, scenario.site.timezone, start, end,
                         {user_id: supply_capacity_kw(scenario)},
                         {user_id: scenario.time.interval_minutes}, params.rating_margin)


def _where(row: int, row_label: str, column: str) -> str:
    return f"{row_label} {row}, column {column!r}"


def guard_readings(readings: pd.DataFrame, limits: ReadingLimits, *, file: str,
                   value_column: str | None = None, row_label: str = "row",
                   subject: str = "meter") -> None:
    """Refuse readings that must not reach a store; name the file, row, column and meter.

    Parameters
    ----------
    readings : meter_id, ts_s (interval start, s since the Epoch, UTC), energy_kwh, row
    value_column : the column holding the values (``None``: one column per meter, named by it)
    row_label : how the file counts its rows (``"row"``: data rows; ``"line"``: text lines)
    subject : what a ``meter_id`` is, in messages (``"meter"``, or ``"user"`` for an upload)

    Raises
    ------
    InputError
        One problem per kind found (the first row of each, with the count), nothing stored.
    """
    if len(readings) == 0:
        raise InputError(Problem("no readings: the file is empty or holds only a header",
                                 file=file, location=f"{row_label} 1",
                                 expected="at least one reading"))
    meter = readings["meter_id"]
    if isinstance(meter.dtype, pd.CategoricalDtype):
        code = meter.cat.codes.to_numpy(dtype=np.int64)
        ids = [str(c) for c in meter.cat.categories]
    else:
        code, uniques = pd.factorize(meter.astype(str))
        ids = [str(c) for c in uniques]
    unknown = [i for i in ids if i not in limits.rating_kw]
    if unknown:
        raise InputError(Problem(f"no limits for {unknown[:10]}", file=file,
                                 expected=f"ids of the scenario: "
                                 f"{', '.join(sorted(limits.rating_kw))}"))
    energy = readings["energy_kwh"].to_numpy(dtype=float)
    ts = readings["ts_s"].to_numpy(dtype=np.int64)
    rows = readings["row"].to_numpy(dtype=np.int64)
    max_of = limits.max_kwh
    bound = np.array([max_of[i] for i in ids], dtype=float)[code]
    problems: list[Problem] = []

    def column(i: int) -> str:
        return value_column if value_column is not None else ids[code[i]]

    bad = np.flatnonzero(~np.isfinite(energy))
    if bad.size:
        i = int(bad[0])
        problems.append(Problem(
            f"{subject} {ids[code[i]]!r}: value {energy[i]} is not a finite number ({bad.size} "
            "such value(s))", file=file, location=_where(int(rows[i]), row_label, column(i)),
            expected="a finite energy of the interval, e.g. 12.5"))
    with np.errstate(invalid="ignore"):
        high = np.flatnonzero(np.isfinite(energy) & (np.abs(energy) > bound))
    if high.size:
        i = int(high[0])
        m = ids[code[i]]
        problems.append(Problem(
            f"{subject} {m!r}: {energy[i]:.6g} kWh in one interval is above its limit "
            f"({high.size} such value(s))", file=file,
            location=_where(int(rows[i]), row_label, column(i)),
            expected=f"at most {bound[i]:.6g} kWh = rating {limits.rating_kw[m]:g} kW × "
            f"{limits.interval_minutes[m]} min × {limits.margin:g} (rating_margin); a unit "
            "confusion (Wh written as kWh) or a wrong rating_kw"))
    outside = np.flatnonzero((ts < limits.start_s) | (ts >= limits.end_s))
    if outside.size:
        i = int(outside[0])
        when = pd.Timestamp(int(ts[i]), unit="s", tz="UTC").tz_convert(limits.timezone)
        first = pd.Timestamp(limits.start_s, unit="s", tz="UTC").tz_convert(limits.timezone)
        after = pd.Timestamp(limits.end_s, unit="s", tz="UTC").tz_convert(limits.timezone)
        problems.append(Problem(
            f"{subject} {ids[code[i]]!r}: the interval starting {when.isoformat()} is outside the "
            f"scenario year {limits.year} ({outside.size} such reading(s))", file=file,
            location=f"{row_label} {int(rows[i])}",
            expected=f"interval starts from {first.isoformat()} to before {after.isoformat()}"))
    if problems:
        raise InputError(problems)


def _chunks_of(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            yield chunk


def check_text(data: bytes | Path, name: str) -> None:
    """Refuse text that is empty or has a line longer than :data:`MAX_LINE_BYTES`.

    One pass over the bytes (1 MiB at a time, vectorised), stopping at the first overlong line:
    the cost is bounded by the file's length, whatever it holds. ``\\n`` and ``\\r`` both end a
    line.
    """
    chunks: Iterable[bytes] = _chunks_of(data) if isinstance(data, Path) else (
        data[i:i + _CHUNK] for i in range(0, len(data), _CHUNK))
    offset, last_break, newlines, blank = 0, -1, 0, True
    for chunk in chunks:
        arr = np.frombuffer(chunk, dtype=np.uint8)
        breaks = np.flatnonzero(_LINE_BREAK[arr])
        if blank and not chunk.isspace():
            blank = False
        ends = np.append(breaks + offset, offset + len(chunk))  # the chunk's end: open line
        lengths = np.diff(np.concatenate(([last_break], ends))) - 1
        over = np.flatnonzero(lengths > MAX_LINE_BYTES)
        if over.size:
            start = (int(ends[over[0] - 1]) if over[0] > 0 else last_break) + 1
            line = newlines + int(np.count_nonzero(arr[:max(start - offset, 0)] == ord("\n")))
            long_ = int(lengths[over[0]]) if over[0] < breaks.size else None
            size = f"{long_:,} bytes long" if long_ is not None else \
                f"longer than {MAX_LINE_BYTES:,} bytes"
            raise InputError(Problem(f"a line {size}", file=name,
                                     location=f"line {line + 1}",
                                     expected=f"lines of at most {MAX_LINE_BYTES:,} bytes "
                                     "(a timestamp, a meter id and a number each)"))
        if breaks.size:
            last_break = int(breaks[-1]) + offset
        newlines += int(np.count_nonzero(arr == ord("\n")))
        offset += len(chunk)
    if blank:
        raise InputError(Problem("the file is empty", file=name, location="line 1",
                                 expected="a header row and at least one reading"))
