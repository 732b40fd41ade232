"""``greenlink portfolio run``: many parks on Dask, one results table (docs/risk.md).

Exit codes: 0 every park ran and passed every rule, 1 some park failed a rule or could not be
simulated, 2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from greenlink.cli.common import console, user_errors
from greenlink.i18n import N_
from greenlink.i18n import gettext as _

portfolio_app = typer.Typer(add_completion=False, no_args_is_help=True,
                            help=N_("Many parks at once on Dask."))


@portfolio_app.command("run")
def run(parks: Annotated[list[Path], typer.Argument(help=N_("park scenario files, or folders of "
                                                     "them"))],
        out: Annotated[Path, typer.Option(help=N_("output folder"))] = Path("greenlink-portfolio"),
        scheduler: Annotated[str | None, typer.Option(
            help=N_("Dask scheduler address (tcp://host:8786); default a local cluster; 'local' "
            "runs in this process"))] = None,
        workers: Annotated[int | None, typer.Option(help=N_("local cluster workers"))] = None,
        finance: Annotated[bool, typer.Option("--finance", help=N_("lifetime finance of each "
                                              "park"))] = False,
        terms: Annotated[Path | None, typer.Option(help=N_("finance terms TOML"))] = None,
        risk_years: Annotated[int, typer.Option(help=N_("weather years of a risk run per park "
                                                "(0: none)"))] = 0,
        optimize: Annotated[bool, typer.Option("--optimize", help=N_("optimise each park's sizes "
                                               "first"))] = False,
        park_files: Annotated[bool, typer.Option(help=N_("write each park's flows, summary and "
                                                 "report under parks/<name>/"))] = True,
        quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
    """Simulate and check every park (and, on request, finance, risk, optimise); a failing
    park is reported without stopping the others. Writes portfolio.parquet, portfolio.xlsx and
    portfolio.html (a link to each park's report)."""
    from greenlink.workflows.portfolio import PortfolioOptions, run_portfolio, write_portfolio

    options = PortfolioOptions(finance=finance, terms_file=None if terms is None else str(terms),
                               risk_years=risk_years, optimise=optimize,
                               write_park_files=park_files)
    with user_errors():
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=Console(stderr=True), disable=quiet) as bar:
            task = bar.add_task("parks", total=None)
            table = run_portfolio(parks, out_dir=out, options=options, scheduler=scheduler,
                                  workers=workers,
                                  progress=lambda d, t, name: bar.update(
                                      task, completed=d, total=t, description=f"done {name}"))
        written = write_portfolio(table, out)
    errors = table[table["status"] != "ok"]
    if not quiet:
        cols = [c for c in ("park", "status", "green_share_of_consumption",
                            "self_use_share_of_generation", "all_rules_passed", "npv_project",
                            "error") if c in table.columns]
        console.print(table[cols].to_string(index=False), highlight=False, soft_wrap=True)
        for name, path in written.items():
            console.print(_("wrote {name}: {path}").format(name=name, path=path), highlight=False)
    passed = "all_rules_passed" in table and bool(table["all_rules_passed"].fillna(False).all())
    raise typer.Exit(code=0 if errors.empty and passed else 1)
