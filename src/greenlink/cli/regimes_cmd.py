"""``greenlink regimes``: list, show and diff footprint regimes (shipped ids or TOML paths)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from greenlink import jsonio
from greenlink.cli.common import print_diff, shown_value, user_errors
from greenlink.i18n import N_
from greenlink.i18n import gettext as _
from greenlink.workflows import footprint as svc

regimes_app = typer.Typer(help=N_("Footprint regimes (CBAM, EU Battery Regulation, GHG Protocol "
                               "Scope 2 hourly, PACT): list, show, diff."),
                          no_args_is_help=True)


def _console() -> Console:
    return Console(width=160, markup=False)  # names from regime files print as they are


_RULE = N_("rule {name}")


@regimes_app.command("list")
def list_cmd(as_json: Annotated[bool, typer.Option("--json", help=N_("print JSON"))] = False
             ) -> None:
    """List the shipped regimes."""
    with user_errors():
        regimes = svc.list_regimes()
    if as_json:
        sys.stdout.write(jsonio.dumps([r.to_dict() for r in regimes]) + "\n")
        return
    table = Table(title="Shipped footprint regimes")
    for col in ("id", "status", "confidence", "per", "scope (CN)", "unsettled rules", "title"):
        table.add_column(col)
    for r in regimes:
        table.add_row(r.id, r.status, r.confidence, r.declared_unit, shown_value(r.cn_prefixes),
                      str(len(r.readings())), r.title)
    _console().print(table)


@regimes_app.command("show")
def show_cmd(
    regime: Annotated[str, typer.Argument(help=N_("shipped regime id or path to a TOML file"))],
    as_json: Annotated[bool, typer.Option("--json", help=N_("print the regime as JSON"))] = False,
) -> None:
    """Show one regime: metadata, sources and its electricity rules."""
    with user_errors():
        r = svc.load_regime(regime)
    if as_json:
        sys.stdout.write(jsonio.dumps(r.to_dict()) + "\n")
        return
    meta = Table(title=f"{r.id} (version {r.version})", show_header=False)
    meta.add_column(_("field"))
    meta.add_column(_("value"), overflow="fold")
    for name in ("title", "document", "status", "confidence", "declared_unit",
                 "declared_unit_note", "cn_prefixes", "scope_note", "note"):
        meta.add_row(name, shown_value(getattr(r, name)))
    for src in r.sources:
        meta.add_row(f"source {src.id}", src.title + (f" — {src.note}" if src.note else ""))
    rules = Table(title="Electricity rules")
    for col in ("rule", "value", "choices", "confidence", "source", "description"):
        rules.add_column(col, overflow="fold")
    for name, p in r.parameters.items():
        rules.add_row(name, shown_value(p.value), shown_value(p.choices), p.confidence, p.source,
                      p.description)
    console = _console()
    console.print(meta)
    console.print(rules)


@regimes_app.command("diff")
def diff_cmd(
    a: Annotated[str, typer.Argument(help=N_("first regime (id or TOML path)"))],
    b: Annotated[str, typer.Argument(help=N_("second regime (id or TOML path)"))],
    as_json: Annotated[bool, typer.Option("--json", help=N_("print the diff as JSON"))] = False,
) -> None:
    """Show what differs between two regimes (metadata, and every rule's value and
    confidence)."""
    with user_errors():
        d = svc.diff_regimes(a, b)
    if as_json:
        sys.stdout.write(jsonio.dumps(d.to_dict()) + "\n")
        return
    print_diff(_console(), d.a_id, d.b_id,
               [(_RULE, d.parameters_only_in_a, d.parameters_only_in_b)], d.changed)
