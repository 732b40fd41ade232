"""Meter data into a park's store: one path for ``greenlink ingest``, the service's park meter
files and its per-user meter uploads.

Every reading passes the guard of :mod:`greenlink.metering.guard` (finite, within rating ×
interval × margin, inside the scenario year, parse cost bounded) before anything is stored; a
bad file stores nothing (docs/metering.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from greenlink.metering.guard import (
    ReadingLimits as ReadingLimits,
)
from greenlink.metering.guard import (
    check_text as check_text,
)
from greenlink.metering.guard import (
    guard_readings as guard_readings,
)
from greenlink.metering.guard import (
    upload_limits as upload_limits,
)
from greenlink.metering.ingest import IngestReport, ingest_files
from greenlink.metering.readfile import ColumnMapping as ColumnMapping
from greenlink.metering.readfile import Layout
from greenlink.metering.validate import ValidationParams
from greenlink.scenario.model import Scenario


def ingest(scenario: Scenario, files: Sequence[Path | str], store: Path | str, *,
           columns: ColumnMapping | None = None, layout: Layout = "auto",
           timezone: str | None = None, fill: bool = False,
           balance_tolerance: float | None = None, sheet: str | None = None,
           decimal: str = ".") -> IngestReport:
    """Read, validate and store meter files in the park's store; the validation report."""
    return ingest_files(
        scenario, files, store, mapping=columns or ColumnMapping(), layout=layout,
        timezone=timezone, fill=fill,
        params=ValidationParams.defaults(balance_relative_tolerance=balance_tolerance),
        sheet=sheet, decimal=decimal)  # type: ignore[arg-type]
