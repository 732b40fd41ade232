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


#: Canonical byte forms that are hashed or signed keep their own fixed layout (and refuse NaN);
#: every other JSON output goes through greenlink.jsonio.
CANONICAL_JSON = {"jsonio.py", "certificates/digests.py", "certificates/gec/store.py",
                  "evidence/claims.py", "evidence/manifest.py", "signing/keys.py",
                  "signing/trust.py"}


def test_one_json_encoder() -> None:
    import ast

    import greenlink

    src = Path(greenlink.__file__).parent
    stray, lax = [], []
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("dumps", "to_json")):
                continue
            if node.func.attr == "to_json" or rel not in CANONICAL_JSON:
                if isinstance(node.func.value, ast.Name) and node.func.value.id in ("json",
                                                                                   "frame"):
                    stray.append(f"{rel}:{node.lineno}")
            elif rel != "jsonio.py" and not any(
                    k.arg == "allow_nan" and isinstance(k.value, ast.Constant)
                    and k.value.value is False for k in node.keywords):
                lax.append(f"{rel}:{node.lineno}")
    assert stray == [], f"JSON written outside greenlink.jsonio: {stray}"
    assert lax == [], f"canonical JSON that would write NaN: {lax}"


def _models_in(model: type) -> set[str]:
    """Every pydantic model class reachable from ``model``'s fields."""
    import typing

    from pydantic import BaseModel

    found: set[str] = set()

    def walk(tp: object) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp.__name__ in found:
                return
            found.add(tp.__name__)
            for f in tp.model_fields.values():
                walk(f.annotation)
        for arg in typing.get_args(tp):
            walk(arg)

    walk(model)
    return found


def test_tenant_view_nested_sections_are_reviewed() -> None:
    # a tenant sees these sections whole; a new nested section needs a decision here
    assert _models_in(TenantSummary) == {
        "TenantSummary", "ScenarioInfo", "Capacity", "Totals", "Shares", "UserSummary",
        "MonthTotals", "PolicySummary", "RuleSetInfo", "RuleVerdict", "Clause", "ProductRow",
        "CbamSummary", "CbamInstallationSummary",
        # a tenant's own products' footprints under other regimes (tenant_view keeps its user's)
        "ProductFootprintSummary", "RegimeReading"}


def test_tenant_verdict_flags_say_nothing_of_other_users(run) -> None:
    policy = run.summary.policy
    assert policy is not None
    verdict = next(r for r in policy.results if r.scope == "park")
    other_fails = policy.model_copy(update={"all_passed": False, "results": [
        verdict.model_copy(update={"status": "pass", "passed": True}),
        verdict.model_copy(update={"scope": "b", "status": "fail", "passed": False})]})
    view = tenant_view(run.summary.model_copy(update={"policy": other_fails}), "a")
    assert view.policy is not None
    assert [r.scope for r in view.policy.results] == ["park"]
    assert view.policy.all_passed is True


def test_no_server_path_in_the_summary(run) -> None:
    assert run.summary.scenario.file == "park.toml"
    assert "/" not in run.summary.to_json().split('"file"')[1].split(",")[0]


def test_nested_sections_cannot_be_changed_in_place(run) -> None:
    with pytest.raises(AttributeError):
        run.summary.users.append(run.summary.users[0])  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        run.summary.users[0].load_kwh = 0.0  # type: ignore[misc]
