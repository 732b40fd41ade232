"""Rich rendering of a policy report for the terminal (printing lives here, not in the engine)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from greenlink import i18n
from greenlink.i18n import N_
from greenlink.i18n import gettext as _
from greenlink.policy.evaluate import PolicyReport

_COLUMNS = (N_("rule"), N_("scope"), N_("period"), N_("value"), "", N_("threshold"),
            N_("margin"), N_("verdict"))


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
    table = Table(title=Text(_("{id} — {title} (checked at {date})").format(
        id=report.ruleset_id, title=report.ruleset_title, date=report.check_date)))
    for name in _COLUMNS:
        table.add_column(_(name) if name else "",
                         justify="right" if name in ("value", "threshold", "margin")
                         else "left", overflow="fold", ratio=3 if name == "rule" else None)
    verdicts = {"pass": Text(_("pass"), style="green"), "fail": Text(_("FAIL"), style="bold red"),
                "not_applicable": Text(_("n/a"), style="dim"),
                "no_data": Text(_("no data"), style="yellow")}
    chinese = i18n.current_lang() == "zh-CN"
    for r in report.results:
        mark = " *" if r.rests_on_assumption else ""
        # in zh-CN the rule shows the notice's own clause text under its id
        rule = r.rule_id + mark + (f"\n{r.clause_zh}" if chinese and r.clause_zh else "")
        table.add_row(Text(rule), Text(r.scope), Text(r.period),
                      Text(_fmt(r.value, r.kpi)), Text(r.operator), Text(_fmt(r.threshold, r.kpi)),
                      "" if r.margin is None else (f"{r.margin * 100:+.1f} pp" if "share" in r.kpi
                                                   else f"{r.margin:+g}"),
                      verdicts.get(r.status, Text(r.status)))
    table.caption = Text(_("* rests on an assumption (uncertain text, see the rule set's "
                           "sources); ")
                         + (_("all rules pass") if report.all_passed else
                            _("{n} verdict(s) fail").format(n=len(report.failed))))
    return table


def policy_notes(report: PolicyReport) -> list[str]:
    """Why verdicts were not applicable or lacked data (one line each)."""
    return [f"{r.rule_id} ({r.scope}, {r.period}): {r.status.replace('_', ' ')} — {r.reason}"
            for r in report.results if r.status in ("not_applicable", "no_data") and r.reason]
