"""The typed run summary: one JSON encoder (NaN → null), a published schema, tenant allow-list."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenlink.jsonio import dumps
from greenlink.summary import (
    PolicySummary,
    ProductRow,
    RunSummary,
    TenantSummary,
    read_summary,
    summary_json_schema,
    tenant_view,
)
from greenlink.workflows.run import run_scenario, write_outputs
from tests.scenario.parks import BASE_TOML, write_park

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _no_nan(text: str) -> dict:
    def refuse(token: str) -> float:
        raise ValueError(f"{token} in JSON")
    return json.loads(text, parse_constant=refuse)


def test_jsonio_writes_null_for_nan_and_inf() -> None:
    value = {"a": float("nan"), "b": [np.float64("inf"), -math.inf, np.int64(3)],
             "c": pd.Timestamp("2025-01-01T08:00", tz="Asia/Shanghai"), "d": Decimal("0.10"),
             "e": np.bool_(True), "f": pd.NaT}
    assert _no_nan(dumps(value)) == {"a": None, "b": [None, None, 3],
                                     "c": "2025-01-01T08:00:00+08:00", "d": "0.10", "e": True,
                                     "f": None}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory):
    return run_scenario(write_park(tmp_path_factory.mktemp("park")))


def test_park_without_generation_writes_valid_json(tmp_path: Path) -> None:
    wind = BASE_TOML[BASE_TOML.index("[[wind]]"):BASE_TOML.index("[[batteries]]")]
    toml = BASE_TOML.replace(wind, "")
    result = run_scenario(write_park(tmp_path, toml=toml.format(loads="loads.csv")))
    written = write_outputs(result, tmp_path / "out", report=False)
    data = _no_nan(written["summary.json"].read_text(encoding="utf-8"))
    # no generation: the self-use and export shares are undefined (0 / 0), written as null
    assert data["shares"]["self_use_share_of_generation"] is None
    assert data["shares"]["export_share_of_generation"] is None
    assert data["shares"]["green_share_of_consumption"] == 0.0
    assert read_summary(written["summary.json"].read_bytes()) == result.summary


def test_summary_round_trips_and_is_frozen(run) -> None:
    summary: RunSummary = run.summary
    assert read_summary(summary.to_json()) == summary
    with pytest.raises(ValueError):
        summary.shares.green_share_of_consumption = 1.0  # type: ignore[misc]


def test_published_schema_is_current() -> None:
    published = json.loads((DOCS / "summary.schema.json").read_text(encoding="utf-8"))
    assert published == summary_json_schema(), "run: greenlink schema --summary " \
        "--out docs/summary.schema.json"


#: What a tenant may see, decided here (a reviewer changes this list on purpose, never by
#: accident): park totals and KPIs, its own rows, the verdicts and installations that concern it.
TENANT_FIELDS = {"greenlink_version", "scenario", "capacity", "totals_kwh", "shares", "users",
                 "monthly_kwh", "energy_balance_max_abs_error_kwh", "policy", "products", "cbam"}


def test_tenant_view_is_an_allow_list(run) -> None:
    assert set(TenantSummary.model_fields) == TENANT_FIELDS
    # a section added to the run summary later never reaches a tenant
    assert set(RunSummary.model_fields) - TENANT_FIELDS >= {"cost", "weather", "optimization"}
    view = tenant_view(run.summary, "a")
    assert set(json.loads(view.model_dump_json())) == TENANT_FIELDS


def _summary_with(users: list[str], base: RunSummary) -> RunSummary:
    user0 = base.users[0]
    verdict = base.policy.results[0] if base.policy else None
    assert verdict is not None and base.policy is not None
    product = base.products[0]
    return base.model_copy(update={
        "users": [user0.model_copy(update={"id": u}) for u in users],
        "products": [product.model_copy(update={"user_id": u, "sku": u.upper()}) for u in users],
        "policy": base.policy.model_copy(update={"results": [
            verdict.model_copy(update={"scope": s}) for s in ["park", *users]]})})


@given(users=st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=4,
                      unique=True),
       me=st.sampled_from(["a", "b", "c", "d"]))
def test_tenant_view_keeps_only_its_user(run, users: list[str], me: str) -> None:
    summary = _summary_with(users, run.summary)
    out = tenant_view(summary, me)
    assert [u.id for u in out.users] == [u for u in users if u == me]
    assert all(p.user_id == me for p in out.products)
    assert out.policy is not None
    assert {r.scope for r in out.policy.results} <= {"park", me}
    assert out.shares == summary.shares


def test_sections_are_typed(run) -> None:
    assert isinstance(run.summary.policy, PolicySummary)
    assert all(isinstance(p, ProductRow) for p in run.summary.products)
    with pytest.raises(ValueError):
        RunSummary.model_validate({**run.summary.model_dump(), "surprise": 1})


def test_totals_cover_every_park_energy_column() -> None:
    from greenlink import flows
    from greenlink.summary import MonthTotals, Totals

    assert set(Totals.model_fields) == {*flows.PARK_ENERGY_COLUMNS, "battery_loss_kwh"}
    assert set(MonthTotals.model_fields) == (
        {*flows.PARK_ENERGY_COLUMNS, "month"} - {flows.IMPORT_OVER_LIMIT_KWH})
