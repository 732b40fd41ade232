"""The ``greenlink`` command line: thin Typer commands over :mod:`greenlink.workflows`.

Exit codes: 0 success (and, for ``check``, every rule passed), 1 some rule failed, 2 bad input
or an unexpected error (one line; ``greenlink --debug …`` shows the traceback).
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from greenlink import jsonio
from greenlink.cli.common import (
    LANG_HELP,
    GuardedGroup,
    choose_lang,
    console,
    err_console,
    fail,
    progress_bar,
    say,
    set_debug,
    user_errors,
    warn,
    wrote,
    xlsx_format,
)
from greenlink.errors import GreenlinkError, Problem
from greenlink.i18n import N_
from greenlink.i18n import gettext as _

if TYPE_CHECKING:
    from greenlink.summary import RunSummary
    from greenlink.workflows.run import RunResult

__all__ = ["app", "console", "err_console", "fail", "progress_bar", "user_errors"]

app = typer.Typer(cls=GuardedGroup, add_completion=False, no_args_is_help=True,
                  help=N_("Plan, verify and prove green-power direct connection (绿电直连)."))

# user-facing texts of this module (in the catalogue, translated where printed)
_MSG_INIT = N_("wrote {files} in {folder}; next: greenlink validate {toml}")
_MSG_INIT_NEXT = N_("then: greenlink simulate {toml} --out {out}")
_MSG_INIT_EXISTS = N_("{target}: already exists (choose an empty folder)")
_MSG_UNKNOWN_EXAMPLE = N_("unknown example {name!r}")
_MSG_VALID = N_("{scenario}: {users} users, {pv} PV plants, {wind} wind plants, "
                "{batteries} batteries, {products} products")
_MSG_READ_AS = "  {file}: {read_as}"
_MSG_DEBUG_HELP = ("show the full traceback of an unexpected error (also GREENLINK_DEBUG=1); "
                   "without it such an error is one line and exit code 2")


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help=_MSG_DEBUG_HELP)] = False,
          lang: Annotated[str | None, typer.Option("--lang", help=LANG_HELP)] = None
          ) -> None:
    """Plan, verify and prove green-power direct connection (绿电直连)."""
    set_debug(debug)
    choose_lang(lang)


def _mount_subcommands() -> None:
    from greenlink.cli.cbam_cmd import cbam_app
    from greenlink.cli.evidence_cmd import evidence_app, keys_app
    from greenlink.cli.finance_cmd import finance
    from greenlink.cli.footprint_cmd import footprint
    from greenlink.cli.ingest_cmd import ingest
    from greenlink.cli.optimize_cmd import optimize, sweep
    from greenlink.cli.portfolio_cmd import portfolio_app
    from greenlink.cli.regimes_cmd import regimes_app
    from greenlink.cli.registry_cmd import registry_app
    from greenlink.cli.risk_cmd import risk
    from greenlink.cli.rules_cmd import rules_app
    from greenlink.cli.serve_cmd import serve, users_app
    from greenlink.cli.settle_cmd import contracts_app, settle

    app.command("serve", help=N_("Start the REST API and web dashboard."))(serve)
    app.add_typer(users_app, name="users", help=N_("Service accounts: create users, demo users."))

    app.add_typer(evidence_app, name="evidence",
                  help=N_("Signed evidence packs: build, verify offline."))
    app.add_typer(keys_app, name="keys", help=N_("Signing keys: generate, show, rotate; "
                  "keys you trust for verify: trust, untrust, trusted."))
    app.command("optimize", help=N_("Size PV, battery (and wind) at least cost under the rules "
                "and targets; dispatch every interval (HiGHS)."))(optimize)
    app.command("sweep", help=N_("Run many optimisation variants on Dask; trade-off table and "
                "Pareto front."))(sweep)
    app.command("finance", help=N_("Lifetime cash flows: NPV, IRR, payback, LCOE, LCOS, tax, "
                "debt and DSCR over the project life."))(finance)
    app.command("risk", help=N_("Compliance risk from many weather years: distributions, the "
                "probability of failing each rule, the margin needed at P90."))(risk)
    app.add_typer(portfolio_app, name="portfolio",
                  help=N_("Many parks on Dask: simulate, check, finance, risk; one results table."))
    app.command("ingest", help=N_("Ingest meter files into the park's store."))(ingest)
    app.add_typer(registry_app, name="registry",
                  help=N_("Granular certificates: issue, transfer, claim, verify."))

    app.command("settle")(settle)
    app.add_typer(contracts_app, name="contracts", help=N_("Contracts: list, what-ifs."))

    app.add_typer(rules_app, name="rules", help=N_("List, show and compare policy rule sets."))
    app.add_typer(cbam_app, name="cbam", help=N_("EU CBAM: goods, embedded emissions, liability, "
                  "exposure, Scope 2, PACT, the Commission's template."))
    app.add_typer(regimes_app, name="regimes", help=N_("List, show and compare footprint regimes "
                  "(CBAM, EU Battery Regulation, GHG Protocol Scope 2 hourly, PACT)."))
    app.command("footprint", help=N_("Product footprints per declared unit under a regime's "
                "electricity rule (e.g. the Battery Regulation per kWh)."))(footprint)


def example_dir(name: str = "jiangsu") -> Path:
    """A bundled example park: ``jiangsu`` (the full example) or ``minimal`` (the starter)."""
    folders = {"jiangsu": "jiangsu_park", "minimal": "minimal"}
    if name not in folders:
        raise GreenlinkError(Problem(_(_MSG_UNKNOWN_EXAMPLE).format(name=name),
                                     location="--example",
                                     expected=_("one of: {choices}").format(
                                         choices=", ".join(folders))))
    return Path(str(resources.files("greenlink") / "examples" / folders[name]))


def _parse_sets(values: list[str] | None) -> dict[str, float | str | bool]:
    out: dict[str, float | str | bool] = {}
    for item in values or []:
        if "=" not in item:
            raise GreenlinkError(_("--set {item!r}: expected RULE=VALUE, e.g. "
                                   "--set self_use_share_of_generation=0.7").format(item=item))
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
    table = Table(title=Text(summary.scenario.name), show_header=True)
    table.add_column(_("KPI"))
    table.add_column(_("value"), justify="right")
    totals = summary.totals_kwh
    table.add_row(_("generation (available)"), f"{totals.generation_kwh / 1e6:,.2f} GWh")
    table.add_row(_("load"), f"{totals.load_kwh / 1e6:,.2f} GWh")
    table.add_row(_("green share of consumption"), _share(shares.green_share_of_consumption))
    table.add_row(_("hourly-matched share (CFE)"), _share(shares.hourly_matched_share))
    table.add_row(_("annual-matched share"), _share(shares.annual_matched_share))
    table.add_row(_("self-use share of generation"),
                  _share(shares.self_use_share_of_generation))
    table.add_row(_("export share of generation"), _share(shares.export_share_of_generation))
    park_yield = summary.specific_yield_kwh_per_kwp.get("park")
    if park_yield is not None:
        table.add_row(_("PV specific yield"), f"{park_yield:,.0f} kWh/kWp")
    policy = summary.policy
    if policy is not None:
        table.add_row(Text(_("policy {ruleset}").format(ruleset=policy.ruleset.id)),
                      Text(_("all rules pass"), style="green") if policy.all_passed
                      else Text(_("some rules fail"), style="red"))
    console.print(table)


def _simulate_to(scenario: Path, out: Path, quiet: bool, xlsx: bool = False) -> RunResult:
    from greenlink.workflows.run import run_scenario, write_outputs

    with progress_bar(8, enabled=not quiet) as step:
        result = run_scenario(scenario, progress=step)
        written = write_outputs(result, out, progress=step, xlsx=xlsx)
    warn(result.inputs.warnings)
    if not quiet:
        _print_summary(result.summary)
        for name, path in written.items():
            say(_("wrote {name}: {path}").format(name=name, path=path))
    return result


@app.command()
def demo(out: Annotated[Path, typer.Option(help=N_("output folder"))] = Path("greenlink-demo"),
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
        say(pack.message)
        say(pack.statement)
        cbam = result.summary.cbam
        for f in cbam.footprints if cbam is not None else []:
            console.print(_("{name} (CN {cn}): not a CBAM good, CBAM cost EUR {cost:,.0f}; "
                            "{regime} [{status}]: {total:,.1f} {unit} ({boundary}; grid only "
                            "{grid:,.1f}, green share counted {share:.0%})").format(
                name=f.name, cn=f.cn_code, cost=f.cbam_exposure_eur, regime=f.regime_title,
                status=f.regime_status, total=f.total or 0, unit=f.unit, boundary=f.boundary,
                grid=f.electricity_grid_only or 0, share=f.green_share_counted or 0),
                          highlight=False, soft_wrap=True, markup=False)
        say(_("verify with: {command}").format(
            command=f"greenlink evidence verify {path} --key {pack.public_key}"))
    if not pack.ok:
        raise typer.Exit(code=1)


@app.command()
def simulate(scenario: Annotated[Path, typer.Argument(help=N_("scenario TOML file"))],
             out: Annotated[Path, typer.Option(help=N_("output folder"))] = Path("greenlink-out"),
             fmt: Annotated[str | None, typer.Option(
                 "--format", help=N_("xlsx: also flows.xlsx and summary.xlsx for Excel (units in "
                 "the second header row; the report links them)"))] = None,
             quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
    """Simulate a scenario year: flows.parquet/csv, summary.json and report.html in OUT."""
    with user_errors():
        _simulate_to(scenario, out, quiet, xlsx=xlsx_format(fmt))


@app.command()
def report(folder: Annotated[Path, typer.Argument(help=N_("folder of a simulate run"))]) -> None:
    """Re-render report.html from a run's flows.parquet and summary.json."""
    from greenlink.workflows.run import rerender_report

    with user_errors():
        path = rerender_report(folder)
    say(wrote(path))


@app.command()
def validate(scenario: Annotated[Path, typer.Argument(help=N_("scenario TOML file"))],
             series: Annotated[bool, typer.Option(help=N_("also read every file the scenario "
                                                  "names (series, weather, batches, …)"))] = True
             ) -> None:
    """Check a scenario file and every file it names; list every problem at once."""
    from greenlink.workflows.validate import validate_scenario

    with user_errors():
        report = validate_scenario(scenario, series=series)
    sc = report.loaded.scenario
    console.print(Text(_("ok"), style="green"), Text(_(_MSG_VALID).format(
        scenario=scenario, users=len(sc.users), pv=len(sc.pv), wind=len(sc.wind),
        batteries=len(sc.batteries), products=len(sc.products))), soft_wrap=True)
    for f in report.files:
        if f.read_as:
            say(_MSG_READ_AS.format(file=f.name, read_as=f.read_as))
    warn(report.warnings)


@app.command()
def check(scenario: Annotated[Path, typer.Argument(help=N_("scenario TOML file"))],
          ruleset: Annotated[str | None, typer.Option(help=N_("rule-set id or TOML file"))] = None,
          set_: Annotated[list[str] | None, typer.Option(
              "--set", help=N_("what-if: RULE=VALUE overrides a threshold (repeatable)"))] = None,
          as_json: Annotated[bool, typer.Option("--json", help=N_("print JSON"))] = False) -> None:
    """Simulate and check the policy rules: exit 0 all pass, 1 some fail, 2 bad input."""
    from greenlink.workflows.run import run_scenario

    with user_errors():
        result = run_scenario(scenario, ruleset=ruleset, overrides=_parse_sets(set_))
    warn(result.inputs.warnings)
    policy = result.policy
    if as_json:
        typer.echo(jsonio.dumps(policy.to_dict()))
    else:
        from greenlink.report.policy import policy_notes, policy_table

        console.print(policy_table(policy))
        for note in policy_notes(policy):
            console.print(f"  {note}", style="dim", highlight=False, markup=False)
    raise typer.Exit(code=0 if policy.all_passed else 1)


@app.command()
def init(folder: Annotated[Path, typer.Argument(help=N_("folder to create"))],
         example: Annotated[str, typer.Option(
             help=N_("minimal: one factory, rooftop PV and a battery (validates and simulates as "
                  "written); jiangsu: the full example park with meters, contracts and CBAM "
                  "batches and shipments"))] = "minimal") -> None:
    """Write a commented starter scenario and the files it names into FOLDER."""
    with user_errors():
        source = example_dir(example)
        target = folder / "park.toml"
        names = sorted(p.relative_to(source).as_posix() for p in source.rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts)
        there = [folder / n for n in names if (folder / n).exists()]
        if there:  # never overwrite a user's files
            raise GreenlinkError([Problem(_(_MSG_INIT_EXISTS).format(target=p)) for p in there])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, folder, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shown = names if len(names) <= 4 else [
        *names[:3], _("… ({n} files)").format(n=len(names))]
    say(_(_MSG_INIT).format(files=", ".join(shown), folder=folder, toml=target))
    say(_(_MSG_INIT_NEXT).format(toml=target, out=folder / "out"))


@app.command()
def schema(out: Annotated[Path | None, typer.Option(help=N_("write to this file"))] = None,
           markdown: Annotated[bool, typer.Option(help=N_("field reference in Markdown"))] = False,
           summary: Annotated[bool, typer.Option(
               "--summary", help=N_("the JSON Schema of summary.json instead"))] = False) -> None:
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
        say(wrote(out))
    else:
        typer.echo(text, nl=False)


_mount_subcommands()
