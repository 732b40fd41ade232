"""Meter uploads: a CSV (UTF-8, GBK or GB18030, detected) or xlsx (first sheet) of interval
energy for one scenario user, validated before storing.

Format: a header ``interval_start,energy_kwh``; ``interval_start`` an ISO 8601 timestamp with a
UTC offset (interval-beginning label), strictly increasing; ``energy_kwh`` >= 0. The text and the
readings pass the same checks as every meter file (:mod:`greenlink.metering.guard`): bounded
lines, finite values no larger than the park can supply in an interval, intervals in the
scenario year.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from greenlink import flows
from greenlink.database import transaction
from greenlink.errors import InputError, ProblemList
from greenlink.service import audit
from greenlink.service.context import Principal, ServiceContext
from greenlink.service.errors import NotFound
from greenlink.service.models import MeterUpload
from greenlink.service.parks import park_scope
from greenlink.service.roles import Action
from greenlink.tablefile import decode_text, parse_table
from greenlink.workflows.meters import ReadingLimits, check_text, guard_readings, upload_limits

MAX_ROWS = 40_000  # a leap year of 15-minute intervals fits
HEADER = [flows.INTERVAL_START, "energy_kwh"]


def parse_meter_csv(content: bytes, filename: str, limits: ReadingLimits) -> tuple[int, float]:
    """Validate a meter CSV of the one id in ``limits``; returns (rows, total energy [kWh]) or
    raises :class:`InputError` listing every problem (at most 20)."""
    (key,) = limits.rating_kw
    problems = ProblemList()
    if filename.lower().endswith((".xlsx", ".xlsm")):  # the first sheet, as text cells
        text = parse_table(content, filename).frame.to_csv(index=False, lineterminator="\n")
    else:  # UTF-8 (with or without BOM), GBK or GB18030, detected
        check_text(content, filename)
        text = decode_text(content, filename)[0].removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != HEADER:
        problems.add(f"header {header!r}", file=filename, location="line 1",
                     expected=",".join(HEADER))
        problems.raise_if_any()
    rows, last = 0, None
    stamps: list[int] = []
    values: list[float] = []
    lines: list[int] = []
    for lineno, row in enumerate(reader, start=2):
        if len(problems.problems) >= 20:
            break
        if not row:
            continue
        if len(row) != 2:
            problems.add(f"{len(row)} fields", file=filename, location=f"line {lineno}",
                         expected="2 fields")
            continue
        try:
            stamp = datetime.fromisoformat(row[0].strip())
        except ValueError:
            problems.add(f"timestamp {row[0]!r}", file=filename, location=f"line {lineno}",
                         expected="ISO 8601 with offset, e.g. 2025-01-01T00:00:00+08:00")
            continue
        if stamp.tzinfo is None:
            problems.add(f"timestamp {row[0]!r} has no UTC offset", file=filename,
                         location=f"line {lineno}", expected="an offset such as +08:00")
            continue
        if last is not None and stamp <= last:
            problems.add(f"timestamp {row[0]!r} not after the previous one", file=filename,
                         location=f"line {lineno}", expected="strictly increasing timestamps")
        last = stamp
        try:
            value = float(row[1])
        except ValueError:
            value = -1.0
        if value < 0:  # nan and +inf go on to the shared checks, which refuse them
            problems.add(f"energy {row[1]!r}", file=filename, location=f"line {lineno}",
                         expected="a finite number >= 0 [kWh]")
            continue
        rows += 1
        stamps.append(int(stamp.timestamp()))
        values.append(value)
        lines.append(lineno)
        if rows > MAX_ROWS:
            problems.add(f"more than {MAX_ROWS} rows", file=filename, expected="one year at most")
            break
    problems.raise_if_any()
    guard_readings(pd.DataFrame({"meter_id": key, "ts_s": stamps, "energy_kwh": values,
                                 "row": lines}), limits, file=filename,
                   value_column=HEADER[1], row_label="line", subject="user")
    return rows, math.fsum(values)


def _limits(park_folder: Path, user_id: str) -> ReadingLimits:
    from greenlink.scenario.load import load_scenario

    return upload_limits(load_scenario(park_folder / "scenario" / "park.toml").scenario, user_id)


def upload_meter(ctx: ServiceContext, actor: Principal, park_id: int, user_id: str | None,
                 filename: str, content: bytes) -> MeterUpload:
    """Store a validated meter file for a scenario user (a tenant: always its own user)."""
    scope = park_scope(ctx, actor, park_id, Action.METER_UPLOAD)
    if scope.user_id is not None:
        if user_id not in (None, scope.user_id):
            raise NotFound(f"user {user_id!r} not found in park {park_id}")
        user_id = scope.user_id
    if user_id is None:
        raise InputError(f"user_id: missing (one of {', '.join(scope.park.user_ids)})")
    if user_id not in scope.park.user_ids:
        raise NotFound(f"user {user_id!r} not found in park {park_id} "
                       f"(users: {', '.join(scope.park.user_ids)})")
    rows, total_kwh = parse_meter_csv(content, filename, _limits(scope.folder, user_id))
    with transaction(ctx.sessions) as s:
        row = MeterUpload(park_id=park_id, park_user_id=user_id, filename=filename[:255],
                          sha256=hashlib.sha256(content).hexdigest(), rows=rows,
                          energy_kwh=total_kwh, content=content, uploaded_by=actor.user_id)
        s.add(row)
        s.flush()
        audit.record(s, actor, "meter.upload", f"meter_upload:{row.id}", park_id=park_id,
                     user_id=user_id, rows=rows, sha256=row.sha256)
        return row


def list_meter_uploads(ctx: ServiceContext, actor: Principal, park_id: int) -> list[MeterUpload]:
    scope = park_scope(ctx, actor, park_id, Action.METER_READ)
    with ctx.sessions() as s:
        q = select(MeterUpload).where(MeterUpload.park_id == park_id)
        if scope.user_id is not None:
            q = q.where(MeterUpload.park_user_id == scope.user_id)
        return list(s.scalars(q.order_by(MeterUpload.id)))
