"""``portfolio.html``: one row per park with its headline figures and a link to its report."""

from __future__ import annotations

import html
import math
import os
from pathlib import Path

import pandas as pd

from greenlink import i18n
from greenlink.i18n import gettext as _

_CSS = ("body{font-family:" + i18n.CSS_FONT_STACK + ";margin:2em;color:#212121}"
        "table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:4px 8px;"
        "font-size:13px}th{background:#f5f5f5}.error{color:#c62828}.fail{color:#c62828;font-weight:600}.ok{color:#2e7d32}")
_SHARES = ("green_share_of_consumption", "hourly_matched_share", "self_use_share_of_generation",
           "export_share_of_generation", "irr_project", "irr_equity",
           "probability_all_rules_pass", "worst_rule_failure_probability")
_SKIP = ("file", "report", "currency")


def _cell(key: str, value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if key in _SHARES and isinstance(value, int | float):
        return f"{value:.1%}"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return html.escape(str(value))


def write_portfolio_html(path: Path, table: pd.DataFrame, out_dir: Path) -> Path:
    columns = [c for c in table.columns if c not in _SKIP]
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in columns)
    rows = []
    for record in table.to_dict("records"):
        cells = []
        for c in columns:
            text = _cell(c, record.get(c))
            if c == "park" and isinstance(record.get("report"), str):
                link = os.path.relpath(str(record["report"]), out_dir).replace(os.sep, "/")
                text = f"<a href='{html.escape(link)}'>{text}</a>"
            css = ""
            if c == "status" and record.get("status") != "ok":
                css = " class='error'"
            elif c == "all_rules_passed":
                css = " class='ok'" if record.get(c) else " class='fail'"
            cells.append(f"<td{css}>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    failed = int((table["status"] != "ok").sum()) if "status" in table else 0
    e = html.escape
    text = (f"<!doctype html><html lang='{i18n.html_lang()}'><head><meta charset='utf-8'>"
            "<title>" + e(_("Portfolio")) + f"</title><style>{_CSS}</style></head><body><h1>"
            + e(_("Portfolio of {n} parks").format(n=len(table))) + "</h1><p>"
            + e(_("{ok} simulated and checked, {failed} failed (see the error column). Click a "
                  "park for its report.").format(ok=len(table) - failed, failed=failed))
            + f"</p><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></body></html>\n")
    text = i18n.embed_cjk_font(text)
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
