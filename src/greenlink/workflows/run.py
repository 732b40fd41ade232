"""Run one scenario: inputs → simulate → policy → carbon → one typed summary → files.

The CLI, the service and the sweeps are thin shells over :func:`run_scenario` and
:func:`write_outputs`. Outputs are written to temporary names and moved into place only when all
are complete, so an error never leaves a half-written result folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from greenlink import flows
from greenlink.dispatch.simulate import simulate
from greenlink.inputs import ParkInputs, build_inputs
from greenlink.jsonio import records
from greenlink.policy.applicable import scenario_check_date, scenario_ruleset
from greenlink.policy.evaluate import PolicyReport, evaluate
from greenlink.policy.kpis import compute_kpis
from greenlink.results import structural_kpis, summarise
from greenlink.scenario.load import LoadedScenario, load_scenario
from greenlink.summary import RunSummary

Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


@dataclass(frozen=True)
class RunResult:
    """Everything one simulation run produced."""

    inputs: ParkInputs
    flows: pd.DataFrame
    summary: RunSummary
    policy: PolicyReport


def evaluate_policy(inputs: ParkInputs, table: pd.DataFrame, ruleset: str | None = None,
                    overrides: Mapping[str, float | str | bool] | None = None) -> PolicyReport:
    """Check the scenario's (or the given) rule set on a flows table."""
    sc = inputs.scenario
    rules = scenario_ruleset(sc, inputs.source, ruleset, overrides)
    check_date = scenario_check_date(sc, flows.time_index(table)[-1].date(), rules)
    return evaluate(rules, table, sc.user_ids, structural_kpis(inputs), check_date=check_date,
                    timezone=sc.site.timezone)


def product_records(inputs: ParkInputs, kpis: pd.DataFrame) -> list[dict[str, Any]]:
    """Carbon first cut: per-product electricity, green shares and indirect emissions, from the
    year's KPIs per user (:func:`greenlink.policy.kpis.compute_kpis`)."""
    from greenlink.carbon.factors import grid_factor
    from greenlink.carbon.products import product_footprints

    sc = inputs.scenario
    if not sc.products:
        return []
    shares: dict[str, dict[str, float]] = {u: {} for u in sc.user_ids}
    for row in kpis[kpis["scope"] != "park"].itertuples():
        shares[str(row.scope)][str(row.kpi)] = float(row.value)  # type: ignore[arg-type]
    factor = grid_factor(province=sc.site.province or None, year=sc.carbon.grid_factor_year)
    return records(product_footprints(sc.products, shares, factor))


def cbam_section(loaded: LoadedScenario, table: pd.DataFrame) -> dict[str, Any]:
    """The CBAM section of the summary, with the footprints of the products that are not CBAM
    goods under the regime that covers them (the EU Battery Regulation for cells …)."""
    from greenlink.workflows.cbam import summary_section
    from greenlink.workflows.footprint import summary_footprints

    return {**summary_section(loaded, table), "footprints": summary_footprints(loaded, table)}


def run_scenario(source: str | Path | LoadedScenario, progress: Progress | None = None,
                 ruleset: str | None = None,
                 overrides: Mapping[str, float | str | bool] | None = None) -> RunResult:
    """Load, simulate, check and account one scenario (nothing is written)."""
    say = progress or _quiet
    loaded = source if isinstance(source, LoadedScenario) else load_scenario(source)
    inputs = build_inputs(loaded, progress=say)
    say("simulating the year")
    table = simulate(inputs)
    return assess(inputs, table, say, ruleset, overrides)


def assess(inputs: ParkInputs, table: pd.DataFrame,
           progress: Progress | None = None, ruleset: str | None = None,
           overrides: Mapping[str, float | str | bool] | None = None,
           optimization: dict[str, Any] | None = None) -> RunResult:
    """The steps after dispatch, the same for simulated, optimised and metered flows: policy
    check, product footprints, CBAM, and the one typed summary."""
    say = progress or _quiet
    say("computing KPIs, policy check and product footprints")
    policy = evaluate_policy(inputs, table, ruleset, overrides)
    kpis = compute_kpis(table, inputs.scenario.user_ids, period="year",
                        timezone=inputs.scenario.site.timezone)
    products = product_records(inputs, kpis)
    cbam = None
    if inputs.scenario.installations and inputs.source is not None:
        say("CBAM embedded emissions and liability")
        cbam = cbam_section(LoadedScenario(inputs.scenario, inputs.source), table)
    summary = summarise(inputs, table, kpis=kpis, policy=policy.to_dict(), products=products,
                        cbam=cbam, optimization=optimization)
    return RunResult(inputs=inputs, flows=table, summary=summary, policy=policy)


def write_outputs(result: RunResult, out_dir: str | Path, progress: Progress | None = None,
                  report: bool = True, xlsx: bool = False) -> dict[str, Path]:
    """Write flows.parquet, flows.csv, summary.json and report.html into ``out_dir`` — and, with
    ``xlsx``, flows.xlsx and summary.xlsx for Excel (the report links them).

    Files are first written into a temporary folder beside ``out_dir`` and then moved in one by
    one with atomic renames; files already in ``out_dir`` are replaced only by complete ones.
    """
    say = progress or _quiet
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".greenlink-", dir=out))
    try:
        say("writing flows.parquet and flows.csv" + (" and the xlsx files" if xlsx else ""))
        formats: tuple[flows.OutputFormat, ...] = (*flows.FORMATS, *(("xlsx",) if xlsx else ()))
        names = list(flows.write_flows(result.flows, tmp, formats))
        (tmp / "summary.json").write_text(result.summary.to_json(), encoding="utf-8")
        names.append("summary.json")
        summary = result.summary.model_dump(mode="json")
        if xlsx:
            from greenlink.report.xlsx import write_summary_xlsx

            write_summary_xlsx(tmp / "summary.xlsx", summary)
            names.append("summary.xlsx")
        if report:
            from greenlink.report.html import write_report

            say("writing report.html")
            write_report(tmp / "report.html", result.flows, summary, files=names)
            names.append("report.html")
        written = {}
        for name in names:
            os.replace(tmp / name, out / name)
            written[name] = out / name
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


#: Data files of a run folder the report links, when they are there.
LINKED_FILES = ("flows.xlsx", "summary.xlsx", "flows.csv", "flows.parquet", "summary.json")


def rerender_report(folder: str | Path) -> Path:
    """Re-render ``report.html`` from a run folder's ``flows.parquet`` and ``summary.json``
    (of ``simulate``, ``optimize`` or ``finance``: the optimisation and finance sections are
    drawn from the summary, inside the page, like the first time)."""
    from greenlink.errors import InputError, Problem
    from greenlink.report.html import write_report
    from greenlink.summary import read_summary

    run = Path(folder)
    flows_path, summary_path = run / "flows.parquet", run / "summary.json"
    for p in (flows_path, summary_path):
        if not p.is_file():
            raise InputError(Problem("not found", file=str(p),
                                     expected="the output of greenlink simulate"))
    try:
        summary = read_summary(summary_path.read_bytes())
    except ValueError as exc:
        raise InputError(Problem(f"not a summary.json of this greenlink version: {exc}",
                                 file=str(summary_path))) from None
    table = flows.read_flows(flows_path, summary.scenario.timezone)
    files = [name for name in LINKED_FILES if (run / name).is_file()]
    return Path(write_report(run / "report.html", table, summary.model_dump(mode="json"),
                             files=files))
