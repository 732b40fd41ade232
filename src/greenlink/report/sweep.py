"""Sweep outputs: the tidy table (Parquet + CSV) and an HTML report with trade-off plots."""

from __future__ import annotations

import html
import math
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from greenlink import i18n
from greenlink.i18n import N_
from greenlink.i18n import gettext as _
from greenlink.report.plots import figure_to_svg

#: Columns a sweep table shows as shares (percent) and as money.
_SHARES = ("green_share_of_consumption", "hourly_matched_share", "self_use_share_of_generation",
           "export_share_of_generation", "gap")
_MONEY = ("total_cost",)


def _plain(value: object, digits: int = 0) -> str:
    """A number in plain notation with thousands separators (never 1e+07)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float):
        x = float(value)
        if digits == 0 and abs(x) < 100 and x != int(x):
            digits = 2 if abs(x) >= 1 else 4
        return f"{x:,.{digits}f}"
    return str(value)


def variant_label(row: pd.Series, params: list[str]) -> str:
    """``v3`` and, where the sweep has parameters, their values (``v3 battery.cost=400``)."""
    parts = [f"v{int(row['variant'])}"]
    for key in params:
        if key in row and pd.notna(row[key]):
            short = key.removeprefix("optimize.")
            parts.append(f"{short}={_plain(row[key])}")
    return " ".join(parts)


def tradeoff_svg(table: pd.DataFrame, benefit: str, label: str,
                 params: list[str] | None = None) -> str:
    """Scatter of total cost against a green share, each point labelled with its variant, the
    Pareto front joined by a line; axes in plain numbers."""
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    fig = Figure(figsize=(7.0, 4.2), layout="constrained")
    ax = fig.add_subplot()
    ok = table.dropna(subset=["total_cost", benefit])
    front = pareto_front(ok, benefit=benefit) if len(ok) else pd.Series(dtype=bool)
    if len(ok):
        ax.scatter(100 * ok[benefit], ok["total_cost"], s=22, color="#90a4ae",
                   label=_("variant"), zorder=2)
        best = ok[front].sort_values(benefit)
        ax.plot(100 * best[benefit], best["total_cost"], "-o", color="#2e7d32", ms=4,
                label=_("Pareto front"), zorder=3)
        for _i, row in ok.iterrows():
            ax.annotate(variant_label(row, params or []) if len(ok) <= 12 else
                        f"v{int(row['variant'])}", (100 * row[benefit], row["total_cost"]),
                        textcoords="offset points", xytext=(5, 4), fontsize=7, color="#455a64")
        ax.legend(fontsize=8, frameon=False)
    ax.xaxis.set_major_formatter(PercentFormatter(decimals=1))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _p: f"{y:,.0f}"))
    ax.set_xlabel(label, fontsize=9)
    ax.set_ylabel(_("total cost of the modelled period"), fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return figure_to_svg(fig, f"sweep-{benefit.replace('_', '-')}")


def _report_css() -> str:
    """The report's own style sheet (report.html.j2), so the sweep page looks like it."""
    text = (resources.files("greenlink") / "report" / "templates" /
            "report.html.j2").read_text(encoding="utf-8")
    start, end = text.find("<style>"), text.find("</style>")
    return text[start + len("<style>"):end] if start >= 0 and end > start else ""


def _cell(column: str, value: object) -> tuple[str, str]:
    if column in _SHARES and isinstance(value, int | float) and not isinstance(value, bool):
        return (f"{100 * float(value):.2f} %" if math.isfinite(float(value)) else "", "num")
    if column in _MONEY or column.endswith(("_kw", "_kwh", "_kw_dc")):
        return _plain(value), "num"
    if column in ("seconds",):
        return _plain(value, 1), "num"
    if column == "lcoe_green_per_kwh":
        return _plain(value, 4), "num"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _plain(value), "num"
    return _plain(value), ""


def sweep_html(table: pd.DataFrame, params: list[str] | None = None,
               xlsx: bool = False) -> str:
    """The sweep page: trade-off plots with labelled variants and the variants' table."""
    params = params or []
    plots = ""
    if "total_cost" in table.columns:
        plots = "".join(
            f"<figure>{tradeoff_svg(table, col, _(name), params)}<figcaption>"
            f"{html.escape(_(cap))}</figcaption></figure>" for col, name, cap in (
                ("green_share_of_consumption", N_("green share of consumption"),
                 N_("Cost against the green share of consumption; each point is a variant.")),
                ("hourly_matched_share", N_("hourly-matched share"),
                 N_("Cost against the hourly-matched (24/7) share."))))
    shown = [c for c in table.columns if c not in ("binding", "relaxations", "error")
             or table[c].astype(str).str.len().any()]
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in shown)
    body = []
    for _i, row in table.iterrows():
        cells = []
        for c in shown:
            text, css = _cell(c, row[c])
            cls = f" class='{css}'" if css else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    feasible = int(table["feasible"].fillna(False).astype(bool).sum()) \
        if "feasible" in table.columns else 0
    e = html.escape
    data = ("<p>" + e(_("Data:")) + " <a href='sweep.xlsx'>sweep.xlsx</a> · "
            "<a href='sweep.csv'>sweep.csv</a></p>") if xlsx else ""
    page = (
        f"<!DOCTYPE html><html lang='{i18n.html_lang()}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>"
        + e(_("greenlink sweep: {n} variants").format(n=len(table)))
        + f"</title><style>{_report_css()}</style></head><body><header><h1>"
        + e(_("Sweep: {n} variants").format(n=len(table))) + "</h1><p class='subtitle'>"
        + e(_("{feasible} meet every rule and target; parameters: {params}").format(
            feasible=feasible, params=", ".join(params) or _("none")))
        + "</p></header>" + data + "<section><h2>" + e(_("Trade-offs")) + f"</h2>{plots}"
        "<p class='muted'>"
        + e(_("Pareto front: no other variant that meets every rule and target is both "
              "cheaper and greener.")) + "</p></section><section><h2>" + e(_("Variants"))
        + f"</h2><div class='table-wrap'><table><thead><tr>{head}</tr></thead><tbody>"
        f"{''.join(body)}</tbody></table></div></section><footer><p>"
        + e(_("greenlink sweep; costs over the modelled period in the tariff's currency."))
        + "</p></footer></body></html>")
    return i18n.embed_cjk_font(page)


def write_sweep(table: pd.DataFrame, out_dir: str | Path, params: list[str] | None = None,
                xlsx: bool = False) -> dict[str, Path]:
    """Write sweep.parquet, sweep.csv and sweep.html (and, with ``xlsx``, sweep.xlsx: units in
    the second, frozen header row) into ``out_dir`` (all or nothing)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".greenlink-sweep-", dir=out))
    try:
        table = table.copy()
        if "total_cost" in table.columns:
            table["pareto"] = pareto_front(table)
        table.to_parquet(tmp / "sweep.parquet", index=False)
        table.to_csv(tmp / "sweep.csv", index=False, float_format="%.10g")
        (tmp / "sweep.html").write_text(sweep_html(table, params, xlsx), encoding="utf-8")
        names = ["sweep.parquet", "sweep.csv", "sweep.html"]
        if xlsx:
            from greenlink.xlsxfile import Sheet, write_xlsx

            write_xlsx(tmp / "sweep.xlsx", [Sheet("sweep", table, freeze_columns=1)])
            names.append("sweep.xlsx")
        written = {}
        for name in names:
            os.replace(tmp / name, out / name)
            written[name] = out / name
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def pareto_front(table: pd.DataFrame, cost: str = "total_cost",
                 benefit: str = "green_share_of_consumption") -> pd.Series:
    """True for variants no other variant beats on both lower cost and higher benefit."""
    ok = table[[cost, benefit]].notna().all(axis=1)
    if "feasible" in table.columns:
        ok &= table["feasible"].fillna(False).astype(bool)
    c = table[cost].to_numpy(dtype=float)
    b = table[benefit].to_numpy(dtype=float)
    valid = ok.to_numpy()
    flags = []
    for i in range(len(table)):
        dominated = valid & (c <= c[i]) & (b >= b[i]) & ((c < c[i]) | (b > b[i]))
        flags.append(bool(valid[i] and not dominated.any()))
    return pd.Series(flags, index=table.index)
