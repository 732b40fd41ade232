"""``greenlink settle`` (monthly statements) and ``greenlink contracts whatif``.

Mount: ``app.command("settle")(settle)`` and ``app.add_typer(contracts_app, name="contracts")``.
``settle_app`` holds ``settle`` alone, for tests and for mounting as a group if preferred.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from greenlink import jsonio
from greenlink.cli.common import user_errors
from greenlink.i18n import N_
from greenlink.i18n import gettext as _

settle_app = typer.Typer(add_completion=False, help=N_("Monthly settlement and statements."))
contracts_app = typer.Typer(add_completion=False, no_args_is_help=True,
                            help=N_("Contracts: compare structures on a year (what-ifs)."))
_console = Console(width=160, markup=False)  # user names print as they are


@settle_app.command("settle")
def settle(
    scenario: Annotated[Path, typer.Argument(help=N_("scenario TOML file with [[contracts]]"))],
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    flows: Annotated[Path | None, typer.Option(
        help=N_("flows table (Parquet/CSV): simulated, or metered and allocated; default: "
             "simulate the scenario"))] = None,
    out: Annotated[Path, typer.Option(help=N_("output folder"))] = Path("greenlink-settlement"),
    fees: Annotated[Path | None, typer.Option(help=N_("fee schedule TOML (default: shipped "
                                              "data of the scenario's province)"))] = None,
    fees_as_of: Annotated[str | None, typer.Option(
        help=N_("judge fee effective dates at this date (YYYY-MM-DD); default the month's "
             "first day"))] = None,
    fmt: Annotated[str, typer.Option("--format", help=N_("comma-separated: json,html,pdf,xlsx "
                                     "(xlsx: settlement.xlsx for Excel)"))] = "json,html,pdf",
    fx: Annotated[Path | None, typer.Option(
        help=N_("exchange-rate CSV (date,currency,cny_per_unit[,status,source]) replacing the "
             "shipped PBOC/CFETS central parity series"))] = None,
    registry: Annotated[str | None, typer.Option(
        help=N_("certificate registry database (URL or SQLite path) to reconcile the buyer "
             "statements with its transfers"))] = None,
) -> None:
    """Settle one month: a statement per tenant and contract, one per overseas buyer's PPA
    (JSON, HTML, PDF) and the green supply agreements' view, reconciled to the kWh with the
    meters and to the cent; contracts in another currency converted at the stated FX rate."""
    from greenlink.workflows.settle import settle_to_files

    with user_errors():
        run = settle_to_files(scenario, month, out, flows, fees, fees_as_of,
                              [f.strip() for f in fmt.split(",") if f.strip()],
                              fx_path=fx, registry_url=registry)
    s = run.settlement
    table = Table(title=f"Settlement {s.month} ({s.currency})")
    for col in ("tenant", "consumption kWh", "green kWh", "grid kWh", "total"):
        table.add_column(col, justify="left" if col == "tenant" else "right")
    for st in s.statements:
        m = st.meters
        table.add_row(st.tenant, f"{m.load_kwh:,}", f"{m.green_kwh:,}", f"{m.grid_kwh:,}",
                      f"{st.total:,}")
    _console.print(table)
    if s.buyer_statements:
        buyers = Table(title=f"Buyers outside the park {s.month}")
        for col in ("contract", "buyer", "structure", "delivered kWh", "GEC", "amount",
                    f"total {s.currency}", "reconciled"):
            buyers.add_column(col, justify="left" if col in ("contract", "buyer", "structure")
                              else "right")
        for b in s.buyer_statements:
            amounts = "; ".join(f"{v:,} {c}" for c, v in b.totals_by_currency.items())
            buyers.add_row(b.contract_id, b.buyer_id, b.structure,
                           f"{b.volume.delivered_kwh:,}", str(b.attributes.gec), amounts,
                           f"{b.total_local:,}", "yes" if b.reconciled else "NO")
        _console.print(buyers)
    for rate in s.fx_rates:
        _console.print(f"FX: {rate.describe()}", markup=False)
    for note in s.notes:
        _console.print(_("note: {note}").format(note=note), markup=False)
    _console.print(_("{n} files in {folder}").format(n=len(run.files), folder=out / s.month),
                   markup=False)


@contracts_app.command("whatif")
def whatif(
    scenario: Annotated[Path, typer.Argument(help=N_("scenario TOML file"))],
    variant: Annotated[list[Path] | None, typer.Option(
        help=N_("TOML file of [[contracts]] to compare (repeatable); the scenario's own contracts "
             "and 'no contracts' are always included"))] = None,
    flows: Annotated[Path | None, typer.Option(help=N_("flows table; default: simulate"))] = None,
    battery: Annotated[bool, typer.Option(help=N_("also simulate without the battery to value "
                                          "it"))] = True,
    fees_as_of: Annotated[str | None, typer.Option(help=N_("YYYY-MM-DD for every month"))] = None,
    as_json: Annotated[bool, typer.Option("--json", help=N_("print JSON records"))] = False,
) -> None:
    """Compare contract structures over the year: cost per tenant, shortfall risk, battery value."""
    from greenlink.workflows.settle import run_whatif

    with user_errors():
        table = run_whatif(scenario, variant or [], flows, battery, fees_as_of)
    if as_json:
        typer.echo(jsonio.dumps(jsonio.records(table)))
        return
    out = Table(title="Contract structures over the year")
    cols = [c for c in ("variant", "tenant", "cost", "cost_per_kwh", "shortfall_kwh",
                        "shortfall_share", "months_with_shortfall", "battery_value")
            if c in table.columns]
    for c in cols:
        out.add_column(c, justify="left" if c in ("variant", "tenant") else "right")
    for rec in table.to_dict(orient="records"):
        out.add_row(*[_fmt(rec[c], c) for c in cols])
    _console.print(out)


def _fmt(value: object, column: str) -> str:
    if isinstance(value, float):
        if column in ("cost_per_kwh",):
            return f"{value:.4f}"
        if column == "shortfall_share":
            return f"{value:.1%}"
        return f"{value:,.2f}"
    return str(value)


@contracts_app.command("list")
def list_contracts(
    scenario: Annotated[Path, typer.Argument(help=N_("scenario TOML file"))],
) -> None:
    """List the scenario's contracts: PPAs, battery services, green supply agreements."""
    from greenlink.workflows.settle import contract_rows

    with user_errors():
        rows = contract_rows(scenario)
    table = Table(title="Contracts")
    for col in ("id", "type", "seller", "buyer", "volume", "price", "term"):
        table.add_column(col)
    for row in rows:
        table.add_row(*[row[c] for c in ("id", "type", "seller", "buyer", "volume", "price",
                                         "term")])
    _console.print(table)
