"""``greenlink optimize`` and ``greenlink sweep``: thin Typer shells over the services.

Mount (in ``cli/main.py``)::

    from greenlink.cli.optimize_cmd import optimize, sweep
    app.command()(optimize)
    app.command()(sweep)

``optimize_app`` carries both for tests (``CliRunner().invoke(optimize_app, ["optimize", ...])``).
Exit codes: 0 solved and every rule and target met, 1 solved but something had to be relaxed,
2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from greenlink.cli.common import progress_bar, user_errors, xlsx_format

console = Console(markup=False)  # user text prints as it is (no Rich markup)
optimize_app = typer.Typer(add_completion=False, no_args_is_help=True,
                           help="Optimal sizing and dispatch (HiGHS), and sweeps on Dask.")


def _print_result(opt: dict) -> None:
    cur = opt["currency"]
    table = Table(title="optimal sizes and costs", show_header=True)
    table.add_column("item")
    table.add_column("value", justify="right")
    for pid, kw in opt["sizes"]["pv_kw_dc"].items():
        table.add_row(f"PV {pid}", f"{kw:,.0f} kWp")
    for wid, kw in opt["sizes"]["wind_kw"].items():
        table.add_row(f"wind {wid}", f"{kw:,.0f} kW")
    table.add_row("battery", f"{opt['sizes']['battery_kwh']:,.0f} kWh / "
                  f"{opt['sizes']['battery_kw']:,.0f} kW")
    table.add_row("total cost (modelled period)", f"{opt['objective']:,.0f} {cur}")
    table.add_row("levelised cost of green supply", f"{opt['lcoe_green_per_kwh']:.4f} {cur}/kWh")
    for r in opt["requirements"]:
        if r["binding"]:
            table.add_row(f"shadow price {r['id']} ({r['scope']})",
                          f"{r['shadow_price_per_point']:,.0f} {cur}/point")
    console.print(table)
    for relax in opt["relaxations_needed"]:
        console.print(Text("infeasible: ", style="red"), Text(str(relax["message"])),
                      highlight=False, soft_wrap=True)


@optimize_app.command("optimize")
def optimize(scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
             out: Annotated[Path, typer.Option(help="output folder")] = Path("greenlink-opt"),
             ruleset: Annotated[str | None, typer.Option(help="rule-set id or TOML file")] = None,
             threads: Annotated[int, typer.Option(help="HiGHS threads")] = 1,
             quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
    """Size PV, battery (and wind) and dispatch the year at least cost under the rules."""
    from greenlink.workflows.optimise import optimize_scenario, write_optimization

    with user_errors(), progress_bar(8, enabled=not quiet) as say:
        result = optimize_scenario(scenario, progress=say, ruleset=ruleset, threads=threads)
        written = write_optimization(result, out, progress=say)
    if not quiet:
        _print_result(result.to_dict())
        for name, path in written.items():
            console.print(f"wrote {name}: {path}", highlight=False, markup=False)
    raise typer.Exit(code=0 if result.feasible else 1)


@optimize_app.command("sweep")
def sweep(scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
          param: Annotated[list[str], typer.Option(
              "--param", help="PATH=V1,V2,... (repeatable), e.g. battery.cost=300,400 or "
              "grid.export_limit_kw=0,5000")],
          out: Annotated[Path, typer.Option(help="output folder")] = Path("greenlink-sweep"),
          scheduler: Annotated[str | None, typer.Option(
              help="Dask scheduler address; default a local cluster; 'local' runs in-process")
          ] = None,
          workers: Annotated[int | None, typer.Option(help="local cluster workers")] = None,
          fmt: Annotated[str | None, typer.Option(
              "--format", help="xlsx: also write sweep.xlsx for Excel")] = None,
          quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
    """Optimise every combination of the parameters on Dask; write a table and a report."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from greenlink.report.sweep import write_sweep
    from greenlink.scenario.variants import parse_param
    from greenlink.workflows.sweep import run_sweep

    with user_errors():
        xlsx_format(fmt)  # refuse an unknown format before the long run
        params = [parse_param(p) for p in param]
        with Progress(BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(stderr=True), disable=quiet) as bar:
            task = bar.add_task("variants", total=None)
            table = run_sweep(scenario, params, scheduler=scheduler, workers=workers,
                              progress=lambda d, t: bar.update(task, completed=d, total=t))
        written = write_sweep(table, out, xlsx=xlsx_format(fmt))
    if not quiet:
        cols = [c for c in ("variant", *(k for k, _ in params), "feasible", "total_cost",
                            "pv_kw_dc", "battery_kwh", "green_share_of_consumption", "error")
                if c in table.columns]
        console.print(table[cols].to_string(index=False), markup=False, highlight=False)
        for name, path in written.items():
            console.print(f"wrote {name}: {path}", highlight=False, markup=False)
