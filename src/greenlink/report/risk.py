"""``risk_report.html``: compliance risk over many weather years, one self-contained page
(inline CSS and SVG): the probability of failing each rule, distributions with their P50/P90
levels, and a histogram and ECDF of each park quantity with the rule thresholds."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.report.numbers import format_number
from greenlink.report.plots import _new_figure, _style_axes, figure_to_svg
from greenlink.summary import RiskMetric, RiskSummary

_LABELS = {
    "ghi_kwh_m2": ("Annual GHI", "kWh/m²", 1.0),
    flows.GENERATION_KWH: ("Generation", "GWh", 1e-6),
    "green_share_of_consumption": ("Green share of consumption", "%", 100.0),
    "hourly_matched_share": ("Hourly-matched share", "%", 100.0),
    "self_use_share_of_generation": ("Self-use share of generation", "%", 100.0),
    "export_share_of_generation": ("Export share of generation", "%", 100.0),
    "curtailment_share_of_generation": ("Curtailment share of generation", "%", 100.0),
    "net_cost": ("Net energy cost", "M", 1e-6),
}
_CSS = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#212121}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ddd;padding:4px 8px;"
        "font-size:13px}th{background:#f5f5f5}.fail{color:#c62828;font-weight:600}"
        ".ok{color:#2e7d32}svg.plot{max-width:100%;height:auto}")


def metric_svg(name: str, values: np.ndarray, metric: RiskMetric,
               thresholds: list[float]) -> str:
    """Histogram and ECDF of one quantity, P50/P90 and rule thresholds marked."""
    label, unit, scale = _LABELS.get(name, (name, "", 1.0))
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
                       label=f"rule {format_number(t * scale)}")
        ax.set_xlabel(f"{label} ({unit})", fontsize=8)
        _style_axes(ax)
    hist.set_ylabel("years", fontsize=8)
    ecdf.set_ylabel("share of years ≤ x", fontsize=8)
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
               (f"needs +{r.margin_needed_at_p90 * (100 if share else 1):.2f}"
                f"{' points' if share else ''}" if r.margin_needed_at_p90 > 0 else "holds"))
            + f"</td><td>{r.years_checked}</td></tr>")
    metric_rows = "".join(
        f"<tr><td>{html.escape(_LABELS.get(m.name, (m.name,))[0])}</td>"
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
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Compliance risk"
        f"</title><style>{_CSS}</style></head><body><h1>Compliance risk over {s.years} weather "
        f"years</h1><p>{html.escape(s.source)}. Years where every rule passes: {all_pass}"
        + (f"; {s.years_failed_to_run} years could not be simulated" if s.years_failed_to_run
           else "")
        + ".</p><p>Pxx is the level at least as good as the year's in xx % of years: P90 is the "
        "1-in-10 bad year (the 10th percentile of a share whose low values are bad, the 90th "
        "of one whose high values are bad).</p>"
        "<h2>Rules</h2><table><thead><tr><th>rule</th><th>scope</th><th>requirement</th>"
        "<th>P(fail in a year)</th><th>P50</th><th>P90</th><th>margin at P90</th>"
        f"<th>years checked</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "<h2>Distributions</h2><table><thead><tr><th>quantity</th><th>P10</th><th>P50</th>"
        "<th>P90</th><th>P99</th><th>mean</th><th>std</th></tr></thead>"
        f"<tbody>{metric_rows}</tbody></table><h2>Histograms and ECDFs</h2>{plots}"
        "</body></html>\n")


def write_risk_report(path: Path, s: RiskSummary, years: pd.DataFrame) -> Path:
    tmp = path.with_name("." + path.name + ".tmp")
    tmp.write_text(risk_html(s, years), encoding="utf-8")
    tmp.replace(path)
    return path
