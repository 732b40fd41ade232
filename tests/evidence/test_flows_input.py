"""Green-share packs take the flows table through greenlink.flows: any zone, index or column.

The hand-known numbers are those of ``tiny_flows`` (see its docstring): matched 16 and 2 kWh in
the two clock hours, share (16 + 2) / 32 = 0.5625.
"""

from __future__ import annotations

import pandas as pd
import pytest

from greenlink.evidence.claims import build_green_share, green_share, recompute_green_share
from tests.evidence.conftest import TZ, request_for, tiny_flows

KOLKATA = "Asia/Kolkata"  # UTC+5:30: local clock hours begin at half past a UTC hour


def _forms(frame: pd.DataFrame) -> dict[str, pd.DataFrame]:
    utc = frame.tz_convert("UTC")
    return {"local index": frame, "UTC index": utc, "column, UTC": utc.reset_index(),
            "column, rows reversed": frame.reset_index().iloc[::-1]}


def _request(frame: pd.DataFrame, tz: str, form: str):  # type: ignore[no-untyped-def]
    index = pd.DatetimeIndex(frame.index)
    return request_for(_forms(frame)[form], "u", start=index[0], end=index[-1] +
                       pd.Timedelta(minutes=30), timezone=tz)


@pytest.mark.parametrize("form", ["UTC index", "column, UTC", "column, rows reversed"])
def test_pack_bytes_do_not_depend_on_the_form_of_the_table(form: str) -> None:
    reference, _, _ = build_green_share(_request(tiny_flows(), TZ, "local index"))
    members, _, doc = build_green_share(_request(tiny_flows(), TZ, form))
    assert members == reference
    assert doc["claimed"]["hourly_matched_share"] == pytest.approx(0.5625)
    hours = members["claim_hours.csv"].decode().splitlines()
    assert [line.split(",")[0] for line in hours[1:]] == ["2025-01-01T00:00:00+08:00",
                                                         "2025-01-01T01:00:00+08:00"]
    first = members["data/generation.csv"].decode().splitlines()[1]
    assert first.startswith("2025-01-01T00:00:00+08:00,")


def _in_kolkata() -> pd.DataFrame:
    """tiny_flows' four half hours, from 00:00 to 02:00 in Kolkata (18:30-20:30 UTC)."""
    frame = tiny_flows()
    return frame.set_axis(pd.date_range("2025-01-01 00:00", periods=4, freq="30min",
                                        tz=KOLKATA, name="interval_start"))


@pytest.mark.parametrize("form", ["local index", "UTC index", "column, UTC"])
def test_hours_are_local_clock_hours_of_a_half_hour_zone(form: str) -> None:
    table = _forms(_in_kolkata())[form]
    result = green_share(table, "u", KOLKATA)
    assert [t.isoformat() for t in result.hours.index] == ["2025-01-01T00:00:00+05:30",
                                                           "2025-01-01T01:00:00+05:30"]
    assert result.hours["matched_kwh"].tolist() == [16.0, 2.0]
    assert result.hourly_matched_share == pytest.approx(0.5625)


def test_pack_of_a_utc_table_in_a_half_hour_zone_verifies() -> None:
    members, result, _ = build_green_share(_request(_in_kolkata(), KOLKATA, "UTC index"))
    assert result.hours["supply_kwh"].tolist() == [20.0, 2.0]
    assert recompute_green_share(members).hourly_matched_share == pytest.approx(0.5625)
