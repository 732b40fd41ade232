"""``greenlink finance``: lifetime cash flows of a park (docs/finance.md).

Exit codes: 0 done, 2 bad input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from greenlink.cli.common import console, progress_bar, user_errors
from greenlink.i18n import N_
from greenlink.i18n import gettext as _


def finance(scenario: Annotated[Path, typer.Argument(help=N_("scenario TOML file"))],
            out: Annotated[Path, typer.Option(
                help=N_("output folder"))] = Path("greenlink-finance"),
            terms: Annotated[Path | None, typer.Option(
                help=N_("finance terms TOML (tables of data/finance/defaults.toml; keys left out "
                "keep their defaults)"))] = None,
            optimize: Annotated[bool, typer.Option(
                "--optimize", help=N_("size the plants with the optimiser first, then finance "
                "the optimum"))] = False,
            ruleset: Annotated[str | None, typer.Option(
                help=N_("rule-set id or TOML file"))] = None,
            quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
    """Yearly cash flow over the project life: NPV, IRR, payback, LCOE, LCOS, debt and DSCR;
    finance.json, finance.xlsx and a finance section in report.html."""
    from greenlink.report.finance import headline_rows
    from greenlink.workflows.finance import run_finance, write_finance

    with user_errors(), progress_bar(10, enabled=not quiet) as say:
        case = run_finance(scenario, terms_file=terms, optimise=optimize, progress=say,
                           ruleset=ruleset)
        written = write_finance(case, out, progress=say)
    if quiet:
        return
    table = Table(title="lifetime finance", show_header=True)
    table.add_column(_("figure"))
    table.add_column(_("value"), justify="right")
    for label, text in headline_rows(case.summary()):
        table.add_row(label, text)
    console.print(table)
    for note in case.result.notes:
        console.print(f"  {note}", style="dim", highlight=False)
    for name, path in written.items():
        console.print(_("wrote {name}: {path}").format(name=name, path=path), highlight=False)
