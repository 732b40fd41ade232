"""One claim path: every way to claim, cancel or withdraw ends in ``Registry.claim``; shells
reach the registry through ``greenlink.workflows.registry`` only; the registry's issuance
ceiling is the bound meter ingest puts on a reading."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import greenlink
from greenlink.certificates.registry import Registry
from tests.certificates.conftest import claim_ready, hours, park
from tests.certificates.test_wh_rule import _metered_park

SRC = Path(greenlink.__file__).parent
SHELLS = ("cli", "web", "api", "service")
FORBIDDEN = ("greenlink.certificates.registry", "greenlink.certificates.from_meters")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


def test_no_shell_imports_the_registry_or_issuance_directly() -> None:
    stray = [f"{path.relative_to(SRC)}: {name}" for shell in SHELLS
             for path in sorted((SRC / shell).rglob("*.py")) for name in _imports(path)
             if name in FORBIDDEN]
    assert stray == [], f"shells go through greenlink.workflows.registry: {stray}"


def test_only_the_claim_path_sets_a_claimed_cancelled_or_withdrawn_status() -> None:
    setters = [name for name, fn in inspect.getmembers(Registry, inspect.isfunction)
               if any(f"certificate_bundle_status = {s}" in inspect.getsource(fn)
                      or f"else {s}" in inspect.getsource(fn)
                      for s in ("CLAIMED", "CANCELLED", "WITHDRAWN"))]
    assert setters == ["_claim_bundle"]
    for path in SRC.rglob("*.py"):
        if path.name != "lifecycle.py":
            text = path.read_text(encoding="utf-8")
            assert "certificate_bundle_status = " not in text, path


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []
    real = Registry.claim

    def claim(self: Registry, request: Any) -> Any:
        calls.append(request)
        return real(self, request)

    monkeypatch.setattr(Registry, "claim", claim)
    return calls


def test_every_library_and_workflow_entry_point_calls_the_one_function(
        tmp_path: Path, spy: list[Any]) -> None:
    from greenlink.carbon.claims import cancel_for_claims
    from greenlink.workflows import registry as flow

    reg, meta = park(f"sqlite:///{tmp_path / 'r.sqlite'}")
    reg.issue(hours("pv", [1000] * 6), metadata_id=meta)
    claim_ready(reg, users=("alu", "bess"), periods=6)
    reg.cancel(1, beneficiary="alu", purpose="tenant_scope2")
    reg.withdraw(2)
    reg.storage_charge("bess", [3])
    flow.cancel(reg, 4, beneficiary="alu", purpose="shipment")
    flow.withdraw(reg, 5)
    cancel_for_claims(reg, pd.DataFrame({"batch_id": "b", "hour_start": [
        pd.Timestamp("2025-06-01 05:00", tz="UTC")], "claim_wh": [500]}),
        account_id="park", beneficiary="alu")
    assert [(r.kind, r.purpose, r.operation) for r in spy] == [
        ("claim", "tenant_scope2", "library"), ("withdraw", None, "library"),
        ("claim", "storage_charge", "library"), ("claim", "shipment", "library"),
        ("withdraw", None, "library"), ("claim", "product_batch", "library")]
    records = reg.claims()
    assert records["claim_id"].nunique() == 6 and reg.verify().ok


def test_the_registry_issues_every_hour_meter_ingest_accepts(tmp_path: Path) -> None:
    """Ingest refuses a reading above rating × interval × rating_margin; the registry's ceiling
    is capacity × 1 h × the same margin (data/metering/defaults.toml): a plant metering 4 %
    above its rating is stored and issued, 6 % above is refused at ingest."""
    from greenlink.certificates.from_meters import issue_from_store
    from greenlink.certificates.issuance import hour_limit_wh, rating_margin
    from greenlink.errors import GreenlinkError
    from greenlink.metering.validate import ValidationParams

    assert rating_margin() == ValidationParams.defaults().rating_margin == 1.05
    assert hour_limit_wh(400.0) == 420_000  # 400 kW × 1 h × 1.05
    quarter = 400 * 0.25  # the scenario's plant: 400 kW DC, 15-minute readings
    for sub in ("ok", "over"):
        (tmp_path / sub).mkdir()
    sc, store, _ = _metered_park(tmp_path / "ok", "Asia/Shanghai", [quarter * 1.04] * 4)
    reg = open_registry_here(tmp_path)
    issued = issue_from_store(reg, sc, store)
    assert issued.bundles == 1 and issued.wh == 416_000  # above 400 kWh, below 420 kWh
    with pytest.raises(GreenlinkError, match="rating"):
        _metered_park(tmp_path / "over", "Asia/Shanghai", [quarter * 1.06] * 4)


def open_registry_here(tmp_path: Path) -> Registry:
    from greenlink.certificates.db import open_registry

    return open_registry(f"sqlite:///{tmp_path / 'registry.sqlite'}")
