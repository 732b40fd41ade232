"""Small units: meter CSV validation, tenant filtering, SVG stand-alone, restart recovery."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenlink.errors import InputError
from greenlink.metering.guard import ReadingLimits
from greenlink.service.meters import parse_meter_csv
from greenlink.service.parks import standalone_svg
from greenlink.service.roles import ALLOWED, Action, Role, allowed
from greenlink.service.uploads import referenced_paths

energies = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1,
                    max_size=50)


# the year 2025 in China; energies up to 1e6 kWh a quarter hour need a 10 GW park
LIMITS = ReadingLimits(2025, "Asia/Shanghai", 1735660800, 1767196800, {"u": 1e7}, {"u": 15},
                       1.05)


def csv_of(values: list[float]) -> bytes:
    rows = [f"2025-01-01T{i // 4:02d}:{15 * (i % 4):02d}:00+08:00,{v!r}"
            for i, v in enumerate(values)]
    return ("interval_start,energy_kwh\n" + "\n".join(rows) + "\n").encode()


@given(energies)
@settings(max_examples=50, deadline=None)
def test_meter_csv_counts_and_sums(values: list[float]) -> None:
    rows, total = parse_meter_csv(csv_of(values), "m.csv", LIMITS)
    assert rows == len(values)
    assert math.isclose(total, math.fsum(values), rel_tol=1e-9, abs_tol=1e-9)


@given(energies, st.data())
@settings(max_examples=30, deadline=None)
def test_meter_csv_names_the_line_of_a_negative_value(values: list[float],
                                                      data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(values) - 1))
    values = [*values[:i], -1.0, *values[i + 1:]]
    with pytest.raises(InputError) as err:
        parse_meter_csv(csv_of(values), "m.csv", LIMITS)
    assert f"line {i + 2}" in str(err.value)


def test_meter_csv_rejects_wrong_header_naive_time_and_disorder() -> None:
    with pytest.raises(InputError, match="interval_start,energy_kwh"):
        parse_meter_csv(b"time,kwh\n2025-01-01T00:00:00+08:00,1\n", "m.csv", LIMITS)
    with pytest.raises(InputError, match="no UTC offset"):
        parse_meter_csv(b"interval_start,energy_kwh\n2025-01-01T00:00:00,1\n", "m.csv",
                        LIMITS)
    with pytest.raises(InputError, match="not after the previous"):
        parse_meter_csv(b"interval_start,energy_kwh\n2025-01-01T01:00:00+08:00,1\n"
                        b"2025-01-01T00:00:00+08:00,1\n", "m.csv", LIMITS)


def test_roles_table() -> None:
    assert set(ALLOWED) == set(Action)
    assert not allowed(Role.VERIFIER, Action.JOB_CREATE)
    assert not allowed(Role.TENANT, Action.REPORT_DOWNLOAD)
    assert not allowed(Role.IMPORTER, Action.PARK_READ)
    writes = {Action.ORG_CREATE, Action.USER_CREATE, Action.PARK_CREATE, Action.PARK_GRANT,
              Action.JOB_CREATE, Action.METER_UPLOAD}
    assert not any(allowed(Role.VERIFIER, a) for a in writes)


def test_referenced_paths_and_svg() -> None:
    raw = {"weather": {"path": "builtin:nanjing"},
           "users": [{"load": {"path": "series/a.csv"}}, {"load": {"path": "series/a.csv"}}],
           "cbam": [{"batches_file": "cbam/b.csv", "name": "x.csv"}], "extra_files": ["e.csv"]}
    assert referenced_paths(raw) == ["cbam/b.csv", "e.csv", "series/a.csv"]
    svg = standalone_svg('<svg class="plot" width="1pt"><g/></svg>')
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert standalone_svg(svg) == svg


def test_restart_marks_interrupted_jobs_failed(tmp_path: Path) -> None:
    from greenlink.service import accounts, jobs
    from greenlink.service.models import Job, Park, ParkAccess
    from greenlink.service.settings import make_settings
    from greenlink.service.startup import open_service
    from tests.service.conftest import FAST_HASH, PASSWORD

    settings = make_settings(None, tmp_path, **FAST_HASH)
    ctx = open_service(settings, start_runner=False)
    user = accounts.create_user(ctx, None, "op@x.test", PASSWORD, "operator", "Op",
                                create_org=True)
    park_dir = tmp_path / "parks" / "p1"
    with ctx.sessions() as s, s.begin():
        park = Park(name="p", organisation_id=user.organisation_id, folder=str(park_dir),
                    user_ids=["u"])
        s.add(park)
        s.flush()
        s.add(ParkAccess(park_id=park.id, organisation_id=user.organisation_id))
        s.add(Job(park_id=park.id, kind="simulate", status="running", created_by=user.id))
    (park_dir / "jobs" / ".tmp-1").mkdir(parents=True)
    ctx.close()
    ctx = open_service(settings, start_runner=False)
    try:
        me = accounts.authenticate(ctx, accounts.login(ctx, "op@x.test", PASSWORD).secret)
        job = jobs.list_jobs(ctx, me, 1)[0]
        assert job.status == "failed" and job.error == "interrupted by a restart"
        assert not (park_dir / "jobs" / ".tmp-1").exists()
    finally:
        ctx.close()
