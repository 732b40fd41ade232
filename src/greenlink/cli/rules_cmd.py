"""``greenlink rules``: list, show and diff policy rule sets (shipped ids or TOML file paths)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from greenlink import jsonio
from greenlink.cli.common import print_diff, shown_value
from greenlink.errors import GreenlinkError
from greenlink.i18n import N_
from greenlink.i18n import gettext as _
from greenlink.workflows.rules import RuleSet, diff, list_rulesets, load_ruleset

rules_app = typer.Typer(help=N_("Policy rule sets: list, show, diff."), no_args_is_help=True)

T = TypeVar("T")


def _console() -> Console:
    return Console(width=160, markup=False)  # names from rule files print as they are


def _guard(action: Callable[[], T]) -> T:
    """Run ``action``; a user error is printed without a traceback and exits with code 2."""
    try:
        return action()
    except GreenlinkError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None


_RULE = N_("rule {name}")
_PARAMETER = N_("parameter {name}")


@rules_app.command("list")
def list_cmd() -> None:
    """List the shipped rule sets."""
    rulesets = _guard(list_rulesets)
    table = Table(title="Shipped rule sets")
    for col in ("id", "document", "status", "in force", "version", "rules", "title"):
        table.add_column(col)
    for rs in rulesets:
        table.add_row(rs.id, rs.document_number, rs.status, shown_value(rs.dates.in_force),
                      rs.version, str(len(rs.rules)), rs.title_en)
    _console().print(table)


def _show_tables(rs: RuleSet) -> list[Table]:
    meta = Table(title=f"{rs.id} (version {rs.version})", show_header=False)
    meta.add_column(_("field"))
    meta.add_column(_("value"))
    meta.add_row("title", rs.title)
    meta.add_row("title (en)", rs.title_en)
    meta.add_row("document", rs.document_number)
    meta.add_row("companions", "; ".join(rs.companion_documents) or "—")
    meta.add_row("issuing bodies", ", ".join(rs.issuing_bodies))
    meta.add_row("status", rs.status)
    meta.add_row("published / in force",
                 f"{shown_value(rs.dates.published)} / {shown_value(rs.dates.in_force)}")
    for src in rs.sources:
        meta.add_row(f"source {src.id}", src.url or src.title)

    params = Table(title="Parameters")
    for col in ("name", "type", "value", "choices", "confidence"):
        params.add_column(col)
    for name, p in rs.parameters.items():
        params.add_row(name, p.type, shown_value(p.value),
                       ", ".join(map(str, p.choices)) if p.choices else "—",
                       shown_value(p.confidence))

    rules = Table(title="Rules")
    for col in ("id", "metric", "op", "threshold", "scope", "period", "confidence", "applies if"):
        rules.add_column(col)
    for r in rs.rules:
        cond = " and ".join(f"{c.parameter} {c.operator} {shown_value(c.value)}"
                            for c in r.applies_if)
        rules.add_row(r.id, r.metric, r.operator, shown_value(r.threshold), r.scope, r.period,
                      r.confidence, cond or "—")
    return [meta, params, rules]


@rules_app.command("show")
def show_cmd(
    ruleset: Annotated[str, typer.Argument(
        help=N_("Shipped rule-set id or path to a TOML file."))],
    as_json: Annotated[bool, typer.Option(
        "--json", help=N_("Print the rule set as JSON."))] = False,
) -> None:
    """Show one rule set: metadata, parameters and rules."""
    rs = _guard(lambda: load_ruleset(ruleset))
    if as_json:
        sys.stdout.write(jsonio.dumps(rs.to_dict()) + "\n")
        return
    console = _console()
    for table in _show_tables(rs):
        console.print(table)


@rules_app.command("diff")
def diff_cmd(
    a: Annotated[str, typer.Argument(help=N_("First rule set (id or TOML path)."))],
    b: Annotated[str, typer.Argument(help=N_("Second rule set (id or TOML path)."))],
    as_json: Annotated[bool, typer.Option("--json", help=N_("Print the diff as JSON."))] = False,
) -> None:
    """Show what differs between two rule sets (rules matched by id)."""
    ra = _guard(lambda: load_ruleset(a))
    rb = _guard(lambda: load_ruleset(b))
    d = diff(ra, rb)
    if as_json:
        sys.stdout.write(jsonio.dumps(d.to_dict()) + "\n")
        return
    print_diff(_console(), d.a_id, d.b_id,
               [(_RULE, d.rules_only_in_a, d.rules_only_in_b),
                (_PARAMETER, d.parameters_only_in_a, d.parameters_only_in_b)], d.changed)
