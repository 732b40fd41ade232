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
from greenlink.i18n import N_
from greenlink.i18n import gettext as _

console = Console(markup=False)  # user text prints as it is (no Rich markup)
optimize_app = typer.Typer(add_completion=False, no_args_is_help=True,
                           help=N_("Optimal sizing and dispatch (HiGHS), and sweeps on Dask."))


def _money(x: float) -> str:
    return f"{x:,.0f}"


def _print_result(opt: dict[str, Any]) -> None:
    cur = opt["currency"]
    table = Table(title="optimal sizes and costs", show_header=True)
    table.add_column(_("item"))
    table.add_column(_("value"), justify="right")
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
            console.print(Text(_("not realizable:"), style="yellow"),
                          Text(_("the dispatch {message}").format(message=msg)), highlight=False)
        worth = method.get("worth_of_departures")
        if worth is not None:
            console.print(_("a realizable dispatch at these sizes costs {money} {currency} "
                            "more").format(money=_money(worth), currency=cur), highlight=False)
    elif method.get("gap") is not None:
        console.print(_("realizable dispatch; within {gap:.2f} % of the least cost (lower bound "
                        "{bound} {currency})").format(gap=100 * method["gap"],
                                                      bound=_money(method["lower_bound"]),
                                                      currency=cur), highlight=False)
    else:
        console.print(_("realizable dispatch; exact at these generation sizes"), highlight=False)
    departure = method.get("allocation_departure")
    if departure:
        console.print(Text(_("note:"), style="yellow"), Text(str(departure["message"])),
                      highlight=False)
    binding = opt.get("binding", [])
    if binding:
        console.print(_("[bold]what binds[/]"))
        for b in binding:
            console.print(f"  • {b['message']}", highlight=False, soft_wrap=True)
    agreement = opt.get("agreement")
    if agreement:
        cost = agreement["cost"]
        worst = max((abs(k["difference_points"]) for k in agreement["kpis"]
                     if k["difference_points"] is not None), default=0.0)
        head = (_("the optimiser agrees with simulate at these sizes: shares within {worst:.2f} "
                  "points, cost {optimiser} against {simulate} {currency} ({relative:+.2f} %)")
                if agreement["agree"] else
                _("the optimiser differs from simulate at these sizes: shares within {worst:.2f} "
                  "points, cost {optimiser} against {simulate} {currency} ({relative:+.2f} %)"))
        console.print(head.format(worst=worst, optimiser=_money(cost["optimiser"]),
                                  simulate=_money(cost["simulate"]), currency=cur,
                                  relative=100 * cost["relative_difference"]), highlight=False)
        for reason in agreement.get("reasons", []):
            console.print(f"  • {reason}", highlight=False, soft_wrap=True)
    for relax in opt["relaxations_needed"]:
        console.print(Text(_("infeasible: "), style="red"), Text(str(relax["message"])),
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
def optimize(scenario: Annotated[Path, typer.Argument(help=N_("scenario TOML file"))],
             out: Annotated[Path, typer.Option(help=N_("output folder"))] = Path("greenlink-opt"),
             ruleset: Annotated[str | None, typer.Option(
                 help=N_("rule-set id or TOML file"))] = None,
             threads: Annotated[int, typer.Option(help=N_("HiGHS threads"))] = 1,
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
def sweep(scenario: Annotated[Path, typer.Argument(help=N_("scenario TOML file"))],
          param: Annotated[list[str], typer.Option(
              "--param", help=N_("PATH=V1,V2,... (repeatable), e.g. battery.cost=300,400 or "
              "grid.export_limit_kw=0,5000"))],
          out: Annotated[Path, typer.Option(help=N_("output folder"))] = Path("greenlink-sweep"),
          scheduler: Annotated[str | None, typer.Option(
              help=N_("Dask scheduler address; 'local' runs in this process; by default the first "
              "variant runs here and the rest go to a local Dask cluster only where that is "
              "faster"))] = None,
          workers: Annotated[int | None, typer.Option(
              help=N_("local cluster workers (given: the rest of the variants run on a local "
              "cluster)"))] = None,
          fmt: Annotated[str | None, typer.Option(
              "--format", help=N_("xlsx: also write sweep.xlsx for Excel"))] = None,
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
