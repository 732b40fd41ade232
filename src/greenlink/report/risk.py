"""``risk_report.html``: compliance risk over many weather years, one self-contained page
(inline CSS and SVG): the probability of failing each rule, distributions with their P50/P90
levels, and a histogram and ECDF of each park quantity with the rule thresholds."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from greenlink import flows, i18n
from greenlink.i18n import N_
from greenlink.i18n import gettext as _
from greenlink.report.numbers import format_number
from greenlink.report.plots import _new_figure, _style_axes, figure_to_svg
from greenlink.summary import RiskMetric, RiskSummary

_LABELS = {
    "ghi_kwh_m2": (N_("Annual GHI"), "kWh/m²", 1.0),
    flows.GENERATION_KWH: (N_("Generation"), "GWh", 1e-6),
    "green_share_of_consumption": (N_("Green share of consumption"), "%", 100.0),
    "hourly_matched_share": (N_("Hourly-matched share"), "%", 100.0),
    "self_use_share_of_generation": (N_("Self-use share of generation"), "%", 100.0),
    "export_share_of_generation": (N_("Export share of generation"), "%", 100.0),
    "curtailment_share_of_generation": (N_("Curtailment share of generation"), "%", 100.0),
    "net_cost": (N_("Net energy cost"), "M", 1e-6),
}
_CSS = ("body{font-family:" + i18n.CSS_FONT_STACK + ";margin:2em;max-width:1100px;"
        "color:#212121}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ddd;"
        "padding:4px 8px;font-size:13px}th{background:#f5f5f5}.fail{color:#c62828;"
        "font-weight:600}.ok{color:#2e7d32}svg.plot{max-width:100%;height:auto}")


def metric_svg(name: str, values: np.ndarray, metric: RiskMetric,
               thresholds: list[float]) -> str:
    """Histogram and ECDF of one quantity, P50/P90 and rule thresholds marked."""
    label, unit, scale = _LABELS.get(name, (name, "", 1.0))
    label = _(label)
    v = values[np.isfinite(values)] * scale
    fig = _new_figure(7.5, 2.6)
    hist, ecdf = fig.subplots(1, 2)
    hist.hist(v, bins=min(40, max(10, v.size // 10)), color="#90caf9", edgecolor="white")
    x = np.sort(v)
    ecdf.step(x, np.arange(1, x.size + 1) / max(x.size, 1), where="post", color="#1565c0")
    for ax in (hist, ecdf):
        for p, style in (("P50", "-"), ("P90", "--")):
            lv = metric.levels.get(p)
            if lv is not None:
                ax.axvline(lv * scale, color="#424242", linestyle=style, linewidth=0.8,
                           label=f"{p} {lv * scale:,.2f}")
        for t in thresholds:
            ax.axvline(t * scale, color="#c62828", linewidth=1.0,
                       label=_("rule {threshold}").format(threshold=format_number(t * scale)))
        ax.set_xlabel(f"{label} ({unit})", fontsize=8)
        _style_axes(ax)
    hist.set_ylabel(_("years"), fontsize=8)
    ecdf.set_ylabel(_("share of years ≤ x"), fontsize=8)
    ecdf.legend(fontsize=6, frameon=False)
    return figure_to_svg(fig, f"risk-{name.replace('_', '-')}")


def _fmt(value: float | None, name: str) -> str:
    if value is None or not np.isfinite(value):
        return "–"
    _label, unit, scale = _LABELS.get(name, (name, "", 1.0))
    return f"{value * scale:,.2f}" + (" %" if unit == "%" else "")


def risk_html(s: RiskSummary, years: pd.DataFrame) -> str:
    rows = []
    for r in s.rules:
        css = "fail" if r.failure_probability > 0.10 else "ok"
        share = r.kpi.endswith("share") or "share_of" in r.kpi
        fmt = (lambda v: "–" if v is None else f"{v:.1%}") if share else \
            (lambda v: "–" if v is None else format_number(v))
        rows.append(
            f"<tr><td>{html.escape(r.rule_id)}</td><td>{html.escape(r.scope)}</td>"
            f"<td>{html.escape(r.kpi)} {html.escape(r.operator or '')} {fmt(r.threshold)}</td>"
            f"<td class='{css}'>{r.failure_probability:.1%}</td><td>{fmt(r.p50)}</td>"
            f"<td>{fmt(r.p90)}</td><td>"
            + ("–" if r.margin_needed_at_p90 is None else
               ((_("needs +{margin} points") if share else _("needs +{margin}")).format(
                   margin=f"{r.margin_needed_at_p90 * (100 if share else 1):.2f}")
                if r.margin_needed_at_p90 > 0 else _("holds")))
            + f"</td><td>{r.years_checked}</td></tr>")
    metric_rows = "".join(
        f"<tr><td>{html.escape(_(_LABELS.get(m.name, (m.name,))[0]))}</td>"
        + "".join(f"<td>{_fmt(m.levels.get(f'P{p}'), m.name)}</td>" for p in (10, 50, 90, 99))
        + f"<td>{_fmt(m.mean, m.name)}</td><td>{_fmt(m.std, m.name)}</td></tr>"
        for m in s.metrics)
    thresholds: dict[str, list[float]] = {}
    for r in s.rules:
        if r.threshold is not None:
            thresholds.setdefault(r.kpi, []).append(r.threshold)
    plots = "".join(metric_svg(m.name, years[m.name].to_numpy(dtype=float), m,
                               sorted(set(thresholds.get(m.name, []))))
                    for m in s.metrics if m.name in years)
    all_pass = ("–" if s.probability_all_rules_pass is None
                else f"{s.probability_all_rules_pass:.1%}")
    failed = (_("; {n} years could not be simulated").format(n=s.years_failed_to_run)
              if s.years_failed_to_run else "")
    head = "".join(f"<th>{html.escape(_(h))}</th>" for h in _RULE_COLUMNS)
    metric_head = "".join(f"<th>{html.escape(_(h))}</th>" for h in _METRIC_COLUMNS)
    e = html.escape
    page = (
        f"<!doctype html><html lang='{i18n.html_lang()}'><head><meta charset='utf-8'><title>"
        + e(_("Compliance risk")) + f"</title><style>{_CSS}</style></head><body><h1>"
        + e(_("Compliance risk over {n} weather years").format(n=s.years)) + "</h1><p>"
        + e(_("{source}. Years where every rule passes: {share}{failed}.").format(
            source=s.source, share=all_pass, failed=failed)) + "</p><p>"
        + e(_("Pxx is the level at least as good as the year's in xx % of years: P90 is the "
              "1-in-10 bad year (the 10th percentile of a share whose low values are bad, the "
              "90th of one whose high values are bad).")) + "</p>"
        + "<h2>" + e(_("Rules")) + f"</h2><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        + "<h2>" + e(_("Distributions")) + f"</h2><table><thead><tr>{metric_head}</tr></thead>"
        f"<tbody>{metric_rows}</tbody></table>"
        + "<h2>" + e(_("Histograms and ECDFs")) + f"</h2>{plots}</body></html>\n")
    return i18n.embed_cjk_font(page)


_RULE_COLUMNS = (N_("rule"), N_("scope"), N_("requirement"), N_("P(fail in a year)"), "P50",
                 "P90", N_("margin at P90"), N_("years checked"))
_METRIC_COLUMNS = (N_("quantity"), "P10", "P50", "P90", "P99", N_("mean"), N_("std"))


def write_risk_report(path: Path, s: RiskSummary, years: pd.DataFrame) -> Path:
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_text(risk_html(s, years), encoding="utf-8")
    tmp.replace(path)
    return path
