"""``greenlink ingest FILE... --scenario S``: read, validate and store meter files.

``ingest_app`` has this one command, so ``ingest_app`` runs it without a sub-command name; mount
it in the main app as a plain command: ``app.command("ingest")(ingest_cmd.ingest)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from greenlink.cli.common import console, default_store, say, user_errors
from greenlink.errors import InputError, Problem
from greenlink.i18n import N_
from greenlink.i18n import gettext as _
from greenlink.scenario.base import percent_as_fraction_message
from greenlink.workflows.meters import ColumnMapping

# user-facing texts of this module (in the catalogue, translated where printed)
_MSG_LAYOUT = N_("--layout must be auto, long or wide")
_MSG_DECIMAL = N_("--decimal must be '.' or ','")

ingest_app = typer.Typer(add_completion=False, help=N_("Ingest meter files into the park's store."))


@ingest_app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help=N_("CSV (UTF-8, GBK or GB18030), xlsx or "
                                                "Parquet meter files"))],
    scenario: Annotated[Path, typer.Option("--scenario", "-s", help=N_("scenario TOML"))],
    store: Annotated[Path | None, typer.Option(help=N_("DuckDB store (default "
                                               "greenlink-store/<scenario>/meters.duckdb)"))
                     ] = None,
    layout: Annotated[str, typer.Option(help=N_("auto | long | wide"))] = "auto",
    timezone: Annotated[str | None, typer.Option(help=N_("zone of naive time stamps (default: "
                                                 "the park's)"))] = None,
    time_column: Annotated[str, typer.Option(help=N_("name of the time column"))] = "timestamp",
    meter_column: Annotated[str, typer.Option(help=N_("long layout: meter id column"))
                            ] = "meter_id",
    value_column: Annotated[str, typer.Option(help=N_("long layout: value column"))] = "value",
    unit_column: Annotated[str, typer.Option(help=N_("long layout: optional unit column"))
                           ] = "unit",
    fill: Annotated[bool, typer.Option("--fill", help=N_("fill short gaps linearly (flagged)"))
                    ] = False,
    tolerance: Annotated[float | None, typer.Option(help=N_("balance closure tolerance, fraction "
                                                    "(default 0.02)"))] = None,
    report: Annotated[Path | None, typer.Option(help=N_("write the validation report (.json, or "
                                                "issues as .csv)"))] = None,
    sheet: Annotated[str | None, typer.Option(help=N_("xlsx files: the worksheet (default: the "
                                              "first)"))] = None,
    decimal: Annotated[str, typer.Option(help=N_("decimal mark of the files: '.' or ','"))] = ".",
) -> None:
    """Read, validate and store meter files; print the validation summary per meter."""
    from greenlink.scenario.load import load_scenario
    from greenlink.workflows.meters import ingest as ingest_files

    with user_errors():
        if layout not in ("auto", "long", "wide"):
            raise typer.BadParameter(_(_MSG_LAYOUT))
        if decimal not in (".", ","):
            raise typer.BadParameter(_(_MSG_DECIMAL))
        percent = percent_as_fraction_message(tolerance) if tolerance is not None else None
        if percent is not None and tolerance is not None:
            raise InputError(Problem(percent, location="--tolerance",
                                     expected=f"--tolerance {tolerance / 100:g}"))
        loaded = load_scenario(scenario)
        result = ingest_files(
            loaded.scenario, files, store or default_store(scenario),
            columns=ColumnMapping(time_column, meter_column, value_column, unit_column),
            layout=layout,  # type: ignore[arg-type]
            timezone=timezone, fill=fill, balance_tolerance=tolerance, sheet=sheet,
            decimal=decimal)
        for name, read_as, r in zip(result.names, result.read_as, result.files, strict=True):
            state = ("already stored — nothing changed" if r.already_stored else
                     f"{r.inserted} new, {r.superseded} superseded, {r.unchanged} unchanged")
            say(f"{name} ({read_as}): {state}")
        table = Table("meter", *result.per_meter.columns, title="validation per meter")
        for meter, row in result.per_meter.iterrows():
            table.add_row(Text(str(meter)), *(str(int(v)) for v in row))
        console.print(table)
        if report is not None:
            result.write(report)
            say(_("report: {report}").format(report=report))
