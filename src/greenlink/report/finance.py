"""The finance outputs: a "Lifetime finance" section for report.html (headline figures, yearly
cash-flow table, plots) and ``finance.xlsx`` (summary, yearly cash flow, terms)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greenlink.i18n import N_
from greenlink.i18n import gettext as _
from greenlink.report.numbers import format_fixed
from greenlink.report.plots import _new_figure, _style_axes, figure_to_svg
from greenlink.summary import FinanceSummary


def _fmt_money(value: float | None, currency: str) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    return f"{format_fixed(value)} {currency}"


def _fmt_rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.2%}"


def _fmt_years(value: float | None) -> str:
    if value is None:
        return _("never within the project life")
    return _("{n} years").format(n=f"{value:.1f}")


def _fmt_price(value: float | None, currency: str) -> str:
    return "–" if value is None else f"{value:.4f} {currency}/kWh"


def headline_rows(s: FinanceSummary) -> list[tuple[str, str]]:
    """(label, text) of the headline figures."""
    c = s.currency
    rows = [
        (_("initial capex"), _fmt_money(s.initial_capex, c)),
        (_("project NPV at {rate} (nominal)").format(rate=f"{s.discount_rate_nominal:.2%}"),
         _fmt_money(s.npv_project, c)),
        (_("project IRR (after tax)"), _fmt_rate(s.irr_project)),
        (_("equity NPV"), _fmt_money(s.npv_equity, c)),
        (_("equity IRR"), _fmt_rate(s.irr_equity)),
        (_("payback"), _fmt_years(s.payback_years)),
        (_("discounted payback"), _fmt_years(s.discounted_payback_years)),
        (_("LCOE of green supply (nominal / real)"),
         f"{_fmt_price(s.lcoe_green_supply_nominal_per_kwh, c)} / "
         f"{_fmt_price(s.lcoe_green_supply_real_per_kwh, c)}"),
        (_("LCOE of the generators (nominal)"),
         _fmt_price(s.lcoe_generation_nominal_per_kwh, c)),
        (_("LCOS of the battery (nominal / real)"),
         f"{_fmt_price(s.lcos_nominal_per_kwh, c)} / {_fmt_price(s.lcos_real_per_kwh, c)}"),
        (_("year-1 savings on grid purchases"), _fmt_money(s.year1_savings, c)),
        (_("year-1 export revenue"), _fmt_money(s.year1_export_revenue, c)),
        (_("year-1 direct-line fees ({source})").format(source=s.fees_source),
         _fmt_money(s.year1_fees, c)),
    ]
    if s.debt_amount > 0:
        rows += [(_("debt"), _fmt_money(s.debt_amount, c)),
                 (_("minimum / mean DSCR"), f"{s.min_dscr or 0:.2f} / {s.mean_dscr or 0:.2f}")]
    return rows


def cash_flow_svg(yearly: pd.DataFrame, currency: str) -> str:
    """Bars of the yearly project cash flow and the cumulative line."""
    fig = _new_figure(7.5, 3.0)
    ax = fig.add_subplot()
    years = yearly["year"].to_numpy()
    cash = yearly["cash_flow_project"].to_numpy() / 1e6
    ax.bar(years, cash, color=np.where(cash >= 0, "#2e7d32", "#c62828"), width=0.8,
           label=_("project cash flow (after tax)"))
    ax.plot(years, np.cumsum(cash), color="#1565c0", marker="o", markersize=2.5,
            label=_("cumulative"))
    if "cash_flow_equity" in yearly and np.any(yearly["debt_service"].to_numpy() > 0):
        ax.plot(years, yearly["cash_flow_equity"].to_numpy() / 1e6, color="#6a1b9a",
                linestyle="--", label=_("equity cash flow"))
    ax.axhline(0, color="#424242", linewidth=0.6)
    ax.set_xlabel(_("year"), fontsize=8)
    ax.set_ylabel(_("million {currency}").format(currency=currency), fontsize=8)
    ax.legend(fontsize=7, frameon=False)
    _style_axes(ax)
    return figure_to_svg(fig, "finance-cash")


def _table_html(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(_(_COLUMNS.get(str(c), str(c).replace('_', ' '))))}</th>"
                   for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            if column == "year" and isinstance(value, int | float) and np.isfinite(value):
                text = str(int(value))  # the project year 0…N, never "1,0" style
            elif isinstance(value, float):
                text = format_fixed(value)
            else:
                text = html.escape(str(value))
            cells.append(f"<td class='num'>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<div class='table-wrap'><table class='money'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


_WHAT_IT_CONTAINS = N_(
    "What these figures contain: capex (with battery augmentation or replacement), O&M, the "
    "direct-line fees of the fee schedule (per-kWh fees and the T&D capacity charge), tax and "
    "debt, against the grid purchases avoided and the export revenue, year by year over the "
    "project life. The Cost table of the energy flows counts one year's energy at the tariff "
    "only.")
#: Headers of the yearly cash-flow table (the xlsx keeps the column names).
_COLUMNS = {"year": N_("year"), "revenue": N_("revenue"), "opex": N_("opex"),
            "ebitda": N_("EBITDA"), "capex": N_("capex"), "tax_project": N_("tax (project)"),
            "cash_flow_project": N_("cash flow (project)"),
            "cumulative_project": N_("cumulative (project)"),
            "debt_service": N_("debt service"), "cash_flow_equity": N_("cash flow (equity)")}

_SHOWN = ("year", "revenue", "opex", "ebitda", "capex", "tax_project", "cash_flow_project",
          "cumulative_project", "debt_service", "cash_flow_equity")


def finance_html(s: FinanceSummary, yearly: pd.DataFrame) -> str:
    """HTML of the finance section (escaped; no scripts)."""
    rows = "".join(f"<tr><th>{html.escape(a)}</th><td class='num'>{html.escape(b)}</td></tr>"
                   for a, b in headline_rows(s))
    shown = yearly[[c for c in _SHOWN if c in yearly.columns]].copy()
    dscr = yearly["dscr"].to_numpy() if "dscr" in yearly else None
    parts = [
        "<section id='finance'><h2>" + html.escape(_("Lifetime finance")) + "</h2>",
        "<p>" + html.escape(_(
            "{years} years, money in {currency} (nominal), inflation {inflation}, real discount "
            "rate {rate}; {sizes}. Each year is re-dispatched with degraded PV and the battery's "
            "usable capacity; savings are the grid purchases avoided at the tariff. Terms and "
            "their sources: data/finance/SOURCES.md.").format(
            years=s.project_life_years, currency=s.currency, inflation=f"{s.inflation:.1%}",
            rate=f"{s.real_discount_rate:.1%}",
            sizes=_("sizes chosen by the optimiser") if s.sized_by_optimiser
            else _("the scenario's sizes"))) + "</p>",
        "<p class='muted'>" + html.escape(_(_WHAT_IT_CONTAINS)) + "</p>",
        f"<table class='kv'><tbody>{rows}</tbody></table>",
        f"<figure>{cash_flow_svg(yearly, s.currency)}</figure>",
        "<h3>" + html.escape(_("Yearly cash flow")) + "</h3>", _table_html(shown),
    ]
    if dscr is not None and np.isfinite(dscr).any():
        values = ", ".join(f"{v:.2f}" for v in dscr if np.isfinite(v))
        parts.append("<p>" + html.escape(_("DSCR by year: {values}").format(values=values))
                     + "</p>")
    if s.notes:
        parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in s.notes) + "</ul>")
    parts.append("</section>")
    return "".join(parts)


def finance_section_html(finance: Mapping[str, Any] | FinanceSummary) -> str:
    """The finance section from ``summary.json``'s ``finance`` (what the report template places
    inside the page, so ``greenlink report`` keeps it)."""
    s = finance if isinstance(finance, FinanceSummary) else FinanceSummary.model_validate(finance)
    yearly = pd.DataFrame([dict(r) for r in s.yearly]).apply(pd.to_numeric, errors="coerce")
    return finance_html(s, yearly)


def insert_section(report_path: Path, section: str) -> None:
    """Insert ``section`` before ``</body>`` of an existing report (atomic replace)."""
    text = report_path.read_text(encoding="utf-8")
    pos = text.rfind("</body>")
    new = text[:pos] + section + text[pos:] if pos >= 0 else text + section
    tmp = report_path.with_name("." + report_path.name + ".tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(report_path)


def append_finance_section(report_path: Path, s: FinanceSummary, yearly: pd.DataFrame) -> None:
    insert_section(report_path, finance_html(s, yearly))


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = value


def write_finance_xlsx(path: Path, s: FinanceSummary, yearly: pd.DataFrame) -> Path:
    """``finance.xlsx``: sheets ``summary`` (headline figures), ``cash_flow`` (one row per
    year, every line) and ``terms`` (every term used)."""
    terms: dict[str, Any] = {}
    _flatten("", s.terms, terms)
    headline = {k: v for k, v in s.model_dump(mode="json").items()
                if k not in ("terms", "yearly", "notes")}
    tmp = path.with_name("." + path.name + ".tmp")
    with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
        pd.DataFrame({"item": list(headline), "value": list(headline.values())}).to_excel(
            xl, sheet_name="summary", index=False)
        yearly.to_excel(xl, sheet_name="cash_flow", index=False)
        pd.DataFrame({"term": list(terms), "value": [str(v) for v in terms.values()]}).to_excel(
            xl, sheet_name="terms", index=False)
        if s.notes:
            pd.DataFrame({"note": list(s.notes)}).to_excel(xl, sheet_name="notes", index=False)
        for sheet in xl.book.worksheets:
            sheet.column_dimensions["A"].width = 34
            if sheet.title == "cash_flow":
                for row in sheet.iter_rows(min_row=2):
                    for cell in row[1:]:
                        cell.number_format = "#,##0.00"
    tmp.replace(path)
    return path
