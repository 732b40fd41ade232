"""``greenlink ingest FILE... --scenario S``: read, validate and store meter files.

``ingest_app`` has this one command, so ``ingest_app`` runs it without a sub-command name; mount
it in the main app as a plain command: ``app.command("ingest")(ingest_cmd.ingest)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from greenlink.cli.common import console, default_store, user_errors
from greenlink.metering.readfile import ColumnMapping

ingest_app = typer.Typer(add_completion=False, help="Ingest meter files into the park's store.")


@ingest_app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="CSV or Parquet meter files")],
    scenario: Annotated[Path, typer.Option("--scenario", "-s", help="scenario TOML")],
    store: Annotated[Path | None, typer.Option(help="DuckDB store (default "
                                               "greenlink-store/<scenario>/meters.duckdb)")
                     ] = None,
    layout: Annotated[str, typer.Option(help="auto | long | wide")] = "auto",
    timezone: Annotated[str | None, typer.Option(help="zone of naive time stamps (default: "
                                                 "the park's)")] = None,
    time_column: Annotated[str, typer.Option(help="name of the time column")] = "timestamp",
    meter_column: Annotated[str, typer.Option(help="long layout: meter id column")
                            ] = "meter_id",
    value_column: Annotated[str, typer.Option(help="long layout: value column")] = "value",
    unit_column: Annotated[str, typer.Option(help="long layout: optional unit column")
                           ] = "unit",
    fill: Annotated[bool, typer.Option("--fill", help="fill short gaps linearly (flagged)")
                    ] = False,
    tolerance: Annotated[float | None, typer.Option(help="balance closure tolerance, fraction "
                                                    "(default 0.02)")] = None,
    report: Annotated[Path | None, typer.Option(help="write the validation report (.json, or "
                                                "issues as .csv)")] = None,
) -> None:
    """Read, validate and store meter files; print the validation summary per meter."""
    from greenlink.metering.ingest import ingest_files
    from greenlink.metering.validate import ValidationParams
    from greenlink.scenario.load import load_scenario

    with user_errors():
        if layout not in ("auto", "long", "wide"):
            raise typer.BadParameter("--layout must be auto, long or wide")
        loaded = load_scenario(scenario)
        result = ingest_files(
            loaded.scenario, files, store or default_store(scenario),
            mapping=ColumnMapping(time_column, meter_column, value_column, unit_column),
            layout=layout,  # type: ignore[arg-type]
            timezone=timezone, fill=fill,
            params=ValidationParams.defaults(balance_relative_tolerance=tolerance))
        for name, r in zip(result.names, result.files, strict=True):
            state = ("already stored — nothing changed" if r.already_stored else
                     f"{r.inserted} new, {r.superseded} superseded, {r.unchanged} unchanged")
            console.print(f"{name}: {state}")
        table = Table("meter", *result.per_meter.columns, title="validation per meter")
        for meter, row in result.per_meter.iterrows():
            table.add_row(str(meter), *(str(int(v)) for v in row))
        console.print(table)
        if report is not None:
            result.write(report)
            console.print(f"report: {report}")
