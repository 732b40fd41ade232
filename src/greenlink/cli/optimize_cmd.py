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

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from greenlink.cli.common import err_console, user_errors, xlsx_format

console = Console(markup=False)  # user text prints as it is (no Rich markup)
optimize_app = typer.Typer(add_completion=False, no_args_is_help=True,
                           help="Optimal sizing and dispatch (HiGHS), and sweeps on Dask.")


def _money(x: float) -> str:
    return f"{x:,.0f}"


def _print_result(opt: dict[str, Any]) -> None:
    cur = opt["currency"]
    table = Table(title="optimal sizes and costs", show_header=True)
    table.add_column("item")
    table.add_column("value", justify="right")
    for pid, kw in opt["sizes"]["pv_kw_dc"].items():
        table.add_row(f"PV {pid}", f"{kw:,.0f} kWp")
    for wid, kw in opt["sizes"]["wind_kw"].items():
        table.add_row(f"wind {wid}", f"{kw:,.0f} kW")
    batteries = opt["sizes"].get("batteries") or {}
    for bid, b in batteries.items():
        name = f"battery {bid}" if len(batteries) > 1 else "battery"
        table.add_row(name, f"{b['energy_kwh']:,.0f} kWh / {b['power_kw']:,.0f} kW")
    table.add_row("total cost (modelled period)", f"{_money(opt['objective'])} {cur}")
    table.add_row("levelised cost of green supply", f"{opt['lcoe_green_per_kwh']:.4f} {cur}/kWh")
    console.print(table)
    method = opt.get("method", {})
    if method.get("dispatch") == "relaxed":
        dep = method.get("departures", {})
        for msg in dep.get("messages", []):
            console.print(f"[yellow]not realizable:[/] the dispatch {msg}", highlight=False)
        worth = method.get("worth_of_departures")
        if worth is not None:
            console.print(f"a realizable dispatch at these sizes costs {_money(worth)} {cur} more",
                          highlight=False)
    elif method.get("gap") is not None:
        console.print(f"realizable dispatch; within {100 * method['gap']:.2f} % of the least cost "
                      f"(lower bound {_money(method['lower_bound'])} {cur})", highlight=False)
    else:
        console.print("realizable dispatch; exact at these generation sizes", highlight=False)
    departure = method.get("allocation_departure")
    if departure:
        console.print(f"[yellow]note:[/] {departure['message']}", highlight=False)
    binding = opt.get("binding", [])
    if binding:
        console.print("[bold]what binds[/]")
        for b in binding:
            console.print(f"  • {b['message']}", highlight=False, soft_wrap=True)
    agreement = opt.get("agreement")
    if agreement:
        cost = agreement["cost"]
        worst = max((abs(k["difference_points"]) for k in agreement["kpis"]
                     if k["difference_points"] is not None), default=0.0)
        head = "agrees with" if agreement["agree"] else "differs from"
        console.print(f"the optimiser {head} simulate at these sizes: shares within "
                      f"{worst:.2f} points, cost {_money(cost['optimiser'])} against "
                      f"{_money(cost['simulate'])} {cur} "
                      f"({100 * cost['relative_difference']:+.2f} %)", highlight=False)
        for reason in agreement.get("reasons", []):
            console.print(f"  • {reason}", highlight=False, soft_wrap=True)
    for relax in opt["relaxations_needed"]:
        console.print(Text("infeasible: ", style="red"), Text(str(relax["message"])),
                      highlight=False, soft_wrap=True)


@contextmanager
def _progress(enabled: bool) -> Iterator[tuple[Callable[[str], None], Callable[[Any], None]]]:
    """A step line for the workflow's messages and, under it, the solver's iterations (HiGHS
    callbacks: iteration, objective gap, elapsed) while a solve runs."""
    if not enabled:
        yield (lambda _m: None), (lambda _p: None)
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TimeElapsedColumn(), console=err_console, transient=False) as bar:
        steps = bar.add_task("starting", total=None)
        solver = bar.add_task("", total=None, visible=False)

        def say(message: str) -> None:
            bar.update(steps, description=message)
            bar.update(solver, visible=False)

        def solving(p: Any) -> None:
            bar.update(solver, description=f"  {p.message}", visible=True)

        yield say, solving
        bar.update(steps, description="done", total=1, completed=1)
        bar.update(solver, visible=False)


@optimize_app.command("optimize")
def optimize(scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
             out: Annotated[Path, typer.Option(help="output folder")] = Path("greenlink-opt"),
             ruleset: Annotated[str | None, typer.Option(help="rule-set id or TOML file")] = None,
             threads: Annotated[int, typer.Option(help="HiGHS threads")] = 1,
             quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
    """Size PV, batteries (and wind) and dispatch the year at least cost under the rules."""
    from greenlink.workflows.optimise import optimize_scenario, write_optimization

    with user_errors(), _progress(not quiet) as (say, solving):
        result = optimize_scenario(scenario, progress=say, ruleset=ruleset, threads=threads,
                                   solver_progress=solving)
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
              help="Dask scheduler address; 'local' runs in this process; by default the first "
              "variant runs here and the rest go to a local Dask cluster only where that is "
              "faster")] = None,
          workers: Annotated[int | None, typer.Option(
              help="local cluster workers (given: the rest of the variants run on a local "
              "cluster)")] = None,
          fmt: Annotated[str | None, typer.Option(
              "--format", help="xlsx: also write sweep.xlsx for Excel")] = None,
          quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
    """Optimise every combination of the parameters; write a table and a report."""
    from rich.progress import MofNCompleteColumn

    from greenlink.report.sweep import write_sweep
    from greenlink.scenario.variants import parse_param
    from greenlink.workflows.sweep import run_sweep

    with user_errors():
        xlsx_format(fmt)  # refuse an unknown format before the long run
        params = [parse_param(p) for p in param]
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(), console=err_console,
                      disable=quiet) as bar:
            task = bar.add_task("variants", total=None)
            table = run_sweep(scenario, params, scheduler=scheduler, workers=workers,
                              progress=lambda d, t: bar.update(task, completed=d, total=t),
                              engine_note=lambda m: bar.console.print(m, highlight=False))
        written = write_sweep(table, out, [k for k, _ in params], xlsx=xlsx_format(fmt))
    if not quiet:
        cols = [c for c in ("variant", *(k for k, _ in params), "feasible", "total_cost",
                            "pv_kw_dc", "battery_kwh", "green_share_of_consumption", "error")
                if c in table.columns]
        shown = table[cols].copy()
        for c in shown.columns:
            if c == "green_share_of_consumption":
                shown[c] = shown[c].map(lambda x: f"{100 * x:.2f} %" if x == x else "")
            elif shown[c].dtype.kind == "f":
                shown[c] = shown[c].map(lambda x: f"{x:,.0f}" if x == x else "")
        console.print(shown.to_string(index=False), highlight=False)
        for name, path in written.items():
            console.print(f"wrote {name}: {path}", highlight=False, markup=False)
