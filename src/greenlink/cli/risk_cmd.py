"""``greenlink risk``: compliance risk from many weather years (docs/risk.md).

Exit codes: 0 every rule fails in at most one year in ten (the P90 holds), 1 some rule fails
more often, 2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from greenlink.cli.common import console, user_errors
from greenlink.i18n import N_
from greenlink.i18n import gettext as _


def risk(scenario: Annotated[Path, typer.Argument(help=N_("scenario TOML file"))],
         years: Annotated[int, typer.Option(help=N_("synthetic weather years to simulate"))] = 500,
         weather_dir: Annotated[Path | None, typer.Option(
             help=N_("a folder of actual-year weather files (the scenario's weather kind) instead "
             "of synthetic years"))] = None,
         seed: Annotated[int, typer.Option(help=N_("seed of the first synthetic year"))] = 1,
         out: Annotated[Path, typer.Option(help=N_("output folder"))] = Path("greenlink-risk"),
         ruleset: Annotated[str | None, typer.Option(help=N_("rule-set id or TOML file"))] = None,
         scheduler: Annotated[str | None, typer.Option(
             help=N_("Dask scheduler address; default a local cluster; 'local' runs in-process"))
         ] = None,
         workers: Annotated[int | None, typer.Option(help=N_("local cluster workers"))] = None,
         quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
    """Simulate the park in many weather years and check every rule in each: P10/P50/P90/P99
    of generation, shares and cost, the probability of failing each rule in a year, the
    margin each rule needs at P90; risk.json, risk_years.parquet/csv and risk_report.html."""
    from greenlink.workflows.risk import run_risk, write_risk

    with user_errors():
        with Progress(BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(stderr=True), disable=quiet) as bar:
            task = bar.add_task("weather years", total=None)
            result = run_risk(scenario, years=years, weather_dir=weather_dir, seed=seed,
                              ruleset=ruleset, scheduler=scheduler, workers=workers,
                              progress=lambda d, t: bar.update(task, completed=d, total=t))
        written = write_risk(result, out)
    s = result.summary
    if not quiet:
        table = Table(title=f"compliance risk over {s.years} weather years")
        for col in ("rule", "scope", "P(fail in a year)", "P50", "P90", "margin at P90"):
            table.add_column(col, justify="left" if col in ("rule", "scope") else "right")
        for r in s.rules:
            share = "share" in r.kpi
            fmt = (lambda v: "–" if v is None else f"{v:.1%}") if share else \
                (lambda v: "–" if v is None else f"{v:,.4g}")
            needed = r.margin_needed_at_p90
            table.add_row(r.rule_id, r.scope, f"{r.failure_probability:.1%}", fmt(r.p50),
                          fmt(r.p90), "–" if needed is None else
                          ("holds" if needed <= 0 else f"needs +{fmt(needed)}"))
        console.print(table)
        for name, path in written.items():
            console.print(_("wrote {name}: {path}").format(name=name, path=path), highlight=False)
    raise typer.Exit(code=0 if all(r.failure_probability <= 0.10 for r in s.rules) else 1)
