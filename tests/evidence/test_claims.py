"""The green-share claim: hand-known numbers, and agreement with greenlink.policy.kpis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from greenlink.evidence.claims import build_green_share, green_share, recompute_green_share
from greenlink.policy.kpis import hourly_matched_share
from tests.evidence.conftest import TZ, random_flows, request_for, tiny_flows


def test_tiny_case_known_by_hand() -> None:
    result = green_share(tiny_flows(), "u", TZ)
    assert result.hours["matched_kwh"].tolist() == [16.0, 2.0]
    assert result.hours["supply_kwh"].tolist() == [20.0, 2.0]
    assert result.load_kwh == 32.0
    assert result.hourly_matched_share == pytest.approx(18 / 32)
    assert result.green_share_of_consumption == pytest.approx(18 / 32)


def test_members_and_claim_document() -> None:
    members, _result, doc = build_green_share(request_for(tiny_flows(), "u"))
    assert set(members) == {"claim.json", "claim_hours.csv", "data/generation.csv",
                            "data/delivery.csv", "data/allocation.csv", "scenario/tiny.toml"}
    assert doc["claimed"]["hourly_matched_share"] == pytest.approx(0.5625)
    assert doc["period"]["interval_minutes"] == 30
    assert doc["topology"]["single_line_diagram_sha256"] == "ab" * 32
    header = members["data/generation.csv"].split(b"\n")[0].decode()
    assert header.startswith("interval_start,generation_kwh") and "pv.generation_kwh" in header
    assert recompute_green_share(members).hourly_matched_share == pytest.approx(0.5625)


def test_period_cut_keeps_only_the_period() -> None:
    flows = tiny_flows()
    req = request_for(flows, "u", end=flows.index[2])  # first clock hour only
    _members, result, doc = build_green_share(req)
    assert doc["claimed"]["hourly_matched_share"] == pytest.approx(1.0)
    assert len(result.hours) == 1


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), user=st.sampled_from(["u0", "u1"]))
def test_recomputed_share_equals_policy_kpi(seed: int, user: str) -> None:
    flows = random_flows(seed)
    members, result, _doc = build_green_share(request_for(flows, user))
    again = recompute_green_share(members)
    assert again.hourly_matched_share == pytest.approx(result.hourly_matched_share, abs=1e-9)
    assert result.hourly_matched_share == pytest.approx(
        hourly_matched_share(flows.round(6), user), abs=1e-12)
    assert 0.0 <= result.hourly_matched_share <= 1.0 + 1e-12
