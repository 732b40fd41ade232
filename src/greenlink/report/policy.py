"""Rich rendering of a policy report for the terminal (printing lives here, not in the engine)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from greenlink.policy.evaluate import PolicyReport


def _fmt(value: object, kpi: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.1%}" if "share" in kpi else f"{value:g}"
    return str(value)


def policy_table(report: PolicyReport) -> Table:
    """One row per rule verdict: value, threshold, margin, pass/fail, and assumption marks."""
    table = Table(title=Text(f"{report.ruleset_id} — {report.ruleset_title} "
                             f"(checked at {report.check_date})"))
    for name in ("rule", "scope", "period", "value", "", "threshold", "margin", "verdict"):
        table.add_column(name, justify="right" if name in ("value", "threshold", "margin")
                         else "left", overflow="fold", ratio=3 if name == "rule" else None)
    verdicts = {"pass": Text("pass", style="green"), "fail": Text("FAIL", style="bold red"),
                "not_applicable": Text("n/a", style="dim"),
                "no_data": Text("no data", style="yellow")}
    for r in report.results:
        mark = " *" if r.rests_on_assumption else ""
        table.add_row(Text(r.rule_id + mark), Text(r.scope), Text(r.period),
                      Text(_fmt(r.value, r.kpi)), Text(r.operator), Text(_fmt(r.threshold, r.kpi)),
                      "" if r.margin is None else (f"{r.margin * 100:+.1f} pp" if "share" in r.kpi
                                                   else f"{r.margin:+g}"),
                      verdicts.get(r.status, Text(r.status)))
    table.caption = Text("* rests on an assumption (uncertain text, see the rule set's sources); "
                     + ("all rules pass" if report.all_passed else
                        f"{len(report.failed)} verdict(s) fail"))
    return table


def policy_notes(report: PolicyReport) -> list[str]:
    """Why verdicts were not applicable or lacked data (one line each)."""
    return [f"{r.rule_id} ({r.scope}, {r.period}): {r.status.replace('_', ' ')} — {r.reason}"
            for r in report.results if r.status in ("not_applicable", "no_data") and r.reason]
