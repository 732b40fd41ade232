"""The whole chain for one scenario: inputs → simulate → policy → carbon → outputs.

The CLI (and later the API) are thin shells over :func:`run_scenario` and :func:`write_outputs`.
Outputs are written to temporary names and moved into place only when all are complete, so an
error never leaves a half-written result folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greenlink.dispatch.simulate import simulate
from greenlink.inputs import ParkInputs, build_inputs
from greenlink.results import structural_kpis, summarise
from greenlink.scenario.load import LoadedScenario, load_scenario

Progress = Callable[[str], None]


@dataclass(frozen=True)
class RunResult:
    """Everything one simulation run produced."""

    inputs: ParkInputs
    flows: pd.DataFrame
    summary: dict[str, Any]
    policy: Any  # greenlink.policy.evaluate.PolicyReport


def evaluate_policy(inputs: ParkInputs, flows: pd.DataFrame, ruleset: str | None = None,
                    overrides: Mapping[str, float | str | bool] | None = None) -> Any:
    """Check the scenario's (or the given) rule set on simulated flows."""
    from greenlink.policy.evaluate import evaluate
    from greenlink.policy.ruleset import load_ruleset

    sc = inputs.scenario
    name = ruleset or sc.policy.ruleset
    path = (inputs.source.parent / name) if inputs.source and name.endswith(".toml") else name
    rules = load_ruleset(path)
    what_ifs: dict[str, object] = {**sc.policy.parameters, **(overrides or {})}
    check_date = sc.policy.check_date or max(
        d for d in (flows.index[-1].date(), rules.dates.in_force) if d is not None)
    return evaluate(rules, flows, sc.user_ids, structural_kpis(inputs), what_ifs or None,
                    check_date=check_date)


def product_table(inputs: ParkInputs, summary: dict[str, Any]) -> pd.DataFrame:
    """Carbon first cut: per-product electricity, green shares and indirect emissions."""
    from greenlink.carbon.factors import grid_factor
    from greenlink.carbon.products import product_footprints

    sc = inputs.scenario
    shares = {u["id"]: {k: u[k] for k in ("annual_matched_share", "hourly_matched_share",
                                          "green_share_of_consumption")}
              for u in summary["users"]}
    factor = grid_factor(province=sc.site.province or None, year=sc.carbon.grid_factor_year)
    return product_footprints(sc.products, shares, factor)


def run_scenario(source: str | Path | LoadedScenario, progress: Progress | None = None,
                 ruleset: str | None = None,
                 overrides: Mapping[str, float | str | bool] | None = None) -> RunResult:
    """Load, simulate, check and account one scenario (nothing is written)."""
    say = progress or (lambda _m: None)
    loaded = source if isinstance(source, LoadedScenario) else load_scenario(source)
    inputs = build_inputs(loaded, progress=say)
    say("simulating the year")
    flows = simulate(inputs)
    say("computing KPIs, policy check and product footprints")
    summary = summarise(inputs, flows)
    policy = evaluate_policy(inputs, flows, ruleset, overrides)
    summary["policy"] = policy.to_dict()
    products = product_table(inputs, summary) if inputs.scenario.products else pd.DataFrame()
    summary["products"] = _records(products)
    if inputs.scenario.installations:
        from greenlink.carbon.cbam_service import summary_section

        say("CBAM embedded emissions and liability")
        summary["cbam"] = summary_section(loaded, flows)
    return RunResult(inputs=inputs, flows=flows, summary=summary, policy=policy)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records")) if len(frame) else []


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value)}")


def write_outputs(result: RunResult, out_dir: str | Path, progress: Progress | None = None,
                  report: bool = True) -> dict[str, Path]:
    """Write flows.parquet, flows.csv, summary.json and report.html into ``out_dir``.

    Files are first written into a temporary folder beside ``out_dir`` and then moved in one by
    one with atomic renames; files already in ``out_dir`` are replaced only by complete ones.
    """
    say = progress or (lambda _m: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".greenlink-", dir=out))
    try:
        flows = result.flows.reset_index()
        say("writing flows.parquet and flows.csv")
        flows.to_parquet(tmp / "flows.parquet", index=False)
        csv = flows.copy()
        csv["interval_start"] = csv["interval_start"].map(lambda t: t.isoformat())
        csv.to_csv(tmp / "flows.csv", index=False, float_format="%.6f")
        (tmp / "summary.json").write_text(
            json.dumps(result.summary, indent=2, ensure_ascii=False, default=_json_default),
            encoding="utf-8")
        names = ["flows.parquet", "flows.csv", "summary.json"]
        if report:
            from greenlink.report.html import write_report

            say("writing report.html")
            write_report(tmp / "report.html", result.flows, result.summary)
            names.append("report.html")
        written = {}
        for name in names:
            os.replace(tmp / name, out / name)
            written[name] = out / name
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
