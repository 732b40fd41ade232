"""The ``greenlink`` command line: thin Typer commands over :mod:`greenlink.workflows`.

Exit codes: 0 success (and, for ``check``, every rule passed), 1 some rule failed, 2 bad input.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from greenlink import jsonio
from greenlink.cli.common import console, err_console, fail, progress_bar, user_errors
from greenlink.errors import GreenlinkError

if TYPE_CHECKING:
    from greenlink.summary import RunSummary
    from greenlink.workflows.run import RunResult

__all__ = ["app", "console", "err_console", "fail", "progress_bar", "user_errors"]

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Plan, verify and prove green-power direct connection (绿电直连).")


def _mount_subcommands() -> None:
    from greenlink.cli.cbam_cmd import cbam_app
    from greenlink.cli.evidence_cmd import evidence_app, keys_app
    from greenlink.cli.finance_cmd import finance
    from greenlink.cli.ingest_cmd import ingest
    from greenlink.cli.optimize_cmd import optimize, sweep
    from greenlink.cli.portfolio_cmd import portfolio_app
    from greenlink.cli.registry_cmd import registry_app
    from greenlink.cli.risk_cmd import risk
    from greenlink.cli.rules_cmd import rules_app
    from greenlink.cli.serve_cmd import serve, users_app
    from greenlink.cli.settle_cmd import contracts_app, settle

    app.command("serve", help="Start the REST API and web dashboard.")(serve)
    app.add_typer(users_app, name="users", help="Service accounts: create users, demo users.")

    app.add_typer(evidence_app, name="evidence",
                  help="Signed evidence packs: build, verify offline.")
    app.add_typer(keys_app, name="keys", help="Signing keys: generate, show, rotate; "
                  "keys you trust for verify: trust, untrust, trusted.")
    app.command("optimize", help="Size PV, battery (and wind) at least cost under the rules "
                "and targets; dispatch every interval (HiGHS).")(optimize)
    app.command("sweep", help="Run many optimisation variants on Dask; trade-off table and "
                "Pareto front.")(sweep)
    app.command("finance", help="Lifetime cash flows: NPV, IRR, payback, LCOE, LCOS, tax, "
                "debt and DSCR over the project life.")(finance)
    app.command("risk", help="Compliance risk from many weather years: distributions, the "
                "probability of failing each rule, the margin needed at P90.")(risk)
    app.add_typer(portfolio_app, name="portfolio",
                  help="Many parks on Dask: simulate, check, finance, risk; one results table.")
    app.command("ingest", help="Ingest meter files into the park's store.")(ingest)
    app.add_typer(registry_app, name="registry",
                  help="Granular certificates: issue, transfer, claim, verify.")

    app.command("settle")(settle)
    app.add_typer(contracts_app, name="contracts", help="Contracts: list, what-ifs.")

    app.add_typer(rules_app, name="rules", help="List, show and compare policy rule sets.")
    app.add_typer(cbam_app, name="cbam", help="EU CBAM: goods, embedded emissions, liability, "
                  "exposure, Scope 2, PACT, the Commission's template.")


def example_dir() -> Path:
    """The bundled example park (Jiangsu)."""
    return Path(str(resources.files("greenlink") / "examples" / "jiangsu_park"))


def _parse_sets(values: list[str] | None) -> dict[str, float | str | bool]:
    out: dict[str, float | str | bool] = {}
    for item in values or []:
        if "=" not in item:
            raise GreenlinkError(f"--set {item!r}: expected RULE=VALUE, e.g. "
                                 "--set self_use_share_of_generation=0.7")
        key, raw = item.split("=", 1)
        value: float | str | bool
        if raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        else:
            try:
                value = float(raw)
            except ValueError:
                value = raw
        out[key.strip()] = value
    return out


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _print_summary(summary: RunSummary) -> None:
    shares = summary.shares
    table = Table(title=summary.scenario.name, show_header=True)
    table.add_column("KPI")
    table.add_column("value", justify="right")
    totals = summary.totals_kwh
    table.add_row("generation (available)", f"{totals.generation_kwh / 1e6:,.2f} GWh")
    table.add_row("load", f"{totals.load_kwh / 1e6:,.2f} GWh")
    table.add_row("green share of consumption", _share(shares.green_share_of_consumption))
    table.add_row("hourly-matched share (CFE)", _share(shares.hourly_matched_share))
    table.add_row("annual-matched share", _share(shares.annual_matched_share))
    table.add_row("self-use share of generation", _share(shares.self_use_share_of_generation))
    table.add_row("export share of generation", _share(shares.export_share_of_generation))
    park_yield = summary.specific_yield_kwh_per_kwp.get("park")
    if park_yield is not None:
        table.add_row("PV specific yield", f"{park_yield:,.0f} kWh/kWp")
    policy = summary.policy
    if policy is not None:
        table.add_row(f"policy {policy.ruleset.id}",
                      "[green]all rules pass[/]" if policy.all_passed
                      else "[red]some rules fail[/]")
    console.print(table)


def _simulate_to(scenario: Path, out: Path, quiet: bool) -> RunResult:
    from greenlink.workflows.run import run_scenario, write_outputs

    with progress_bar(8, enabled=not quiet) as say:
        result = run_scenario(scenario, progress=say)
        written = write_outputs(result, out, progress=say)
    if not quiet:
        _print_summary(result.summary)
        for name, path in written.items():
            console.print(f"wrote {name}: {path}", highlight=False)
    return result


@app.command()
def demo(out: Annotated[Path, typer.Option(help="output folder")] = Path("greenlink-demo"),
         quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
    """Simulate the bundled Jiangsu example park, write flows, summary and report, and build and
    verify a signed evidence pack for one cement shipment."""
    from greenlink.scenario.load import load_scenario
    from greenlink.workflows.demo import build_demo_shipment_pack

    with user_errors():
        result = _simulate_to(example_dir() / "park.toml", out, quiet)
        loaded = load_scenario(example_dir() / "park.toml")
        path, pack = build_demo_shipment_pack(loaded, result.flows, out / "evidence")
    if not quiet:
        console.print(pack.message, highlight=False, soft_wrap=True)
        console.print(pack.statement, highlight=False, soft_wrap=True)
        console.print(f"verify with: greenlink evidence verify {path} --key {pack.public_key}",
                      highlight=False, soft_wrap=True)
    if not pack.ok:
        raise typer.Exit(code=1)


@app.command()
def simulate(scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
             out: Annotated[Path, typer.Option(help="output folder")] = Path("greenlink-out"),
             quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
    """Simulate a scenario year: flows.parquet/csv, summary.json and report.html in OUT."""
    with user_errors():
        _simulate_to(scenario, out, quiet)


@app.command()
def report(folder: Annotated[Path, typer.Argument(help="folder of a simulate run")]) -> None:
    """Re-render report.html from a run's flows.parquet and summary.json."""
    from greenlink.workflows.run import rerender_report

    with user_errors():
        path = rerender_report(folder)
    console.print(f"wrote {path}")


@app.command()
def validate(scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
             series: Annotated[bool, typer.Option(help="also read every time series")] = True
             ) -> None:
    """Check a scenario file (and its series); list every problem at once."""
    from greenlink.inputs import build_inputs
    from greenlink.scenario.load import load_scenario

    with user_errors():
        loaded = load_scenario(scenario)
        if series:
            build_inputs(loaded)
    sc = loaded.scenario
    console.print(f"[green]ok[/] {scenario}: {len(sc.users)} users, {len(sc.pv)} PV plants, "
                  f"{len(sc.wind)} wind plants, {len(sc.batteries)} batteries, "
                  f"{len(sc.products)} products")


@app.command()
def check(scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
          ruleset: Annotated[str | None, typer.Option(help="rule-set id or TOML file")] = None,
          set_: Annotated[list[str] | None, typer.Option(
              "--set", help="what-if: RULE=VALUE overrides a threshold (repeatable)")] = None,
          as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Simulate and check the policy rules: exit 0 all pass, 1 some fail, 2 bad input."""
    from greenlink.workflows.run import run_scenario

    with user_errors():
        result = run_scenario(scenario, ruleset=ruleset, overrides=_parse_sets(set_))
    policy = result.policy
    if as_json:
        typer.echo(jsonio.dumps(policy.to_dict()))
    else:
        from greenlink.policy.render import policy_notes, policy_table

        console.print(policy_table(policy))
        for note in policy_notes(policy):
            console.print(f"  {note}", style="dim", highlight=False)
    raise typer.Exit(code=0 if policy.all_passed else 1)


@app.command()
def init(folder: Annotated[Path, typer.Argument(help="folder to create")]) -> None:
    """Write a commented starter scenario (a copy of the example park) into FOLDER."""
    with user_errors():
        target = folder / "park.toml"
        if target.exists():
            raise GreenlinkError(f"{target}: already exists (choose an empty folder)")
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(example_dir() / "park.toml", target)
        shutil.copytree(example_dir() / "series", folder / "series", dirs_exist_ok=True)
    console.print(f"wrote {target} and {folder / 'series'}; edit them, then run "
                  f"[bold]greenlink validate {target}[/]")


@app.command()
def schema(out: Annotated[Path | None, typer.Option(help="write to this file")] = None,
           markdown: Annotated[bool, typer.Option(help="field reference in Markdown")] = False,
           summary: Annotated[bool, typer.Option(
               "--summary", help="the JSON Schema of summary.json instead")] = False) -> None:
    """Print (or write) the JSON Schema of the scenario file (or its Markdown reference), or of
    a run's summary.json."""
    from greenlink.scenario.schema import scenario_json_schema, scenario_reference_markdown
    from greenlink.summary import summary_json_schema

    if summary:
        text = jsonio.dumps(summary_json_schema()) + "\n"
    elif markdown:
        text = scenario_reference_markdown()
    else:
        text = jsonio.dumps(scenario_json_schema()) + "\n"
    if out:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")
    else:
        typer.echo(text, nl=False)


_mount_subcommands()
