"""The finance outputs: a "Lifetime finance" section for report.html (headline figures, yearly
cash-flow table, plots) and ``finance.xlsx`` (summary, yearly cash flow, terms)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greenlink.report.plots import _new_figure, _style_axes, figure_to_svg
from greenlink.summary import FinanceSummary


def _fmt_money(value: float | None, currency: str) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value / 1e6:,.2f} M{currency}" if abs(value) >= 1e5 else f"{value:,.0f} {currency}"


def _fmt_rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.2%}"


def _fmt_years(value: float | None) -> str:
    return "never within the project life" if value is None else f"{value:.1f} years"


def _fmt_price(value: float | None, currency: str) -> str:
    return "–" if value is None else f"{value:.4f} {currency}/kWh"


def headline_rows(s: FinanceSummary) -> list[tuple[str, str]]:
    """(label, text) of the headline figures."""
    c = s.currency
    rows = [
        ("initial capex", _fmt_money(s.initial_capex, c)),
        (f"project NPV at {s.discount_rate_nominal:.2%} (nominal)", _fmt_money(s.npv_project, c)),
        ("project IRR (after tax)", _fmt_rate(s.irr_project)),
        ("equity NPV", _fmt_money(s.npv_equity, c)),
        ("equity IRR", _fmt_rate(s.irr_equity)),
        ("payback", _fmt_years(s.payback_years)),
        ("discounted payback", _fmt_years(s.discounted_payback_years)),
        ("LCOE of green supply (nominal / real)",
         f"{_fmt_price(s.lcoe_green_supply_nominal_per_kwh, c)} / "
         f"{_fmt_price(s.lcoe_green_supply_real_per_kwh, c)}"),
        ("LCOE of the generators (nominal)", _fmt_price(s.lcoe_generation_nominal_per_kwh, c)),
        ("LCOS of the battery (nominal / real)",
         f"{_fmt_price(s.lcos_nominal_per_kwh, c)} / {_fmt_price(s.lcos_real_per_kwh, c)}"),
        ("year-1 savings on grid purchases", _fmt_money(s.year1_savings, c)),
        ("year-1 export revenue", _fmt_money(s.year1_export_revenue, c)),
        (f"year-1 direct-line fees ({s.fees_source})", _fmt_money(s.year1_fees, c)),
    ]
    if s.debt_amount > 0:
        rows += [("debt", _fmt_money(s.debt_amount, c)),
                 ("minimum / mean DSCR", f"{s.min_dscr or 0:.2f} / {s.mean_dscr or 0:.2f}")]
    return rows


def cash_flow_svg(yearly: pd.DataFrame, currency: str) -> str:
    """Bars of the yearly project cash flow and the cumulative line."""
    fig = _new_figure(7.5, 3.0)
    ax = fig.add_subplot()
    years = yearly["year"].to_numpy()
    cash = yearly["cash_flow_project"].to_numpy() / 1e6
    ax.bar(years, cash, color=np.where(cash >= 0, "#2e7d32", "#c62828"), width=0.8,
           label="project cash flow (after tax)")
    ax.plot(years, np.cumsum(cash), color="#1565c0", marker="o", markersize=2.5,
            label="cumulative")
    if "cash_flow_equity" in yearly and np.any(yearly["debt_service"].to_numpy() > 0):
        ax.plot(years, yearly["cash_flow_equity"].to_numpy() / 1e6, color="#6a1b9a",
                linestyle="--", label="equity cash flow")
    ax.axhline(0, color="#424242", linewidth=0.6)
    ax.set_xlabel("year", fontsize=8)
    ax.set_ylabel(f"M{currency}", fontsize=8)
    ax.legend(fontsize=7, frameon=False)
    _style_axes(ax)
    return figure_to_svg(fig, "finance-cash")


def _table_html(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c).replace('_', ' '))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            if isinstance(value, float):
                text = "–" if not np.isfinite(value) else f"{value:,.0f}"
            else:
                text = html.escape(str(value))
            cells.append(f"<td style='text-align:right'>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


_SHOWN = ("year", "revenue", "opex", "ebitda", "capex", "tax_project", "cash_flow_project",
          "cumulative_project", "debt_service", "cash_flow_equity")


def finance_html(s: FinanceSummary, yearly: pd.DataFrame) -> str:
    """HTML of the finance section (escaped; no scripts)."""
    rows = "".join(f"<tr><td>{html.escape(a)}</td><td style='text-align:right'>"
                   f"{html.escape(b)}</td></tr>" for a, b in headline_rows(s))
    shown = yearly[[c for c in _SHOWN if c in yearly.columns]].copy()
    dscr = yearly["dscr"].to_numpy() if "dscr" in yearly else None
    parts = [
        "<section id='finance'><h2>Lifetime finance</h2>",
        f"<p>{s.project_life_years} years, money in {html.escape(s.currency)} (nominal), "
        f"inflation {s.inflation:.1%}, real discount rate {s.real_discount_rate:.1%}; "
        + ("sizes chosen by the optimiser" if s.sized_by_optimiser else "the scenario's sizes")
        + ". Each year is re-dispatched with degraded PV and the battery's usable capacity; "
        "savings are the grid purchases avoided at the tariff. Terms and their sources: "
        "data/finance/SOURCES.md.</p>",
        f"<table><tbody>{rows}</tbody></table>",
        cash_flow_svg(yearly, s.currency),
        "<h3>Yearly cash flow</h3>", _table_html(shown),
    ]
    if dscr is not None and np.isfinite(dscr).any():
        parts.append(f"<p>DSCR by year: {', '.join(f'{v:.2f}' for v in dscr if np.isfinite(v))}"
                     "</p>")
    if s.notes:
        parts.append("<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in s.notes) + "</ul>")
    parts.append("</section>")
    return "".join(parts)


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
