"""Human-readable summary of a claim: ``summary.html`` (plot inline as SVG) and ``summary.pdf``.

Both are rendered with matplotlib (PDF backend for the PDF) and carry no creation date, so the
same claim gives the same bytes. They are *for reading*; verification never trusts them — it
recomputes from the raw tables.

``summary.html`` (labels, headings, plot) is in the current language (:mod:`greenlink.i18n`,
en or zh-CN; Chinese in the plot drawn from the CJK font greenlink ships); the verifier accepts
the page regenerated in either language. ``summary.pdf`` stays in English: the verifier reads
its first page's text as plain literal strings, which only the Type 3 Latin fonts give.
"""

from __future__ import annotations

import html
import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

from greenlink import flows, i18n
from greenlink.evidence.claims import MATCHED, SUPPLY
from greenlink.i18n import N_
from greenlink.i18n import gettext as _

_RC: Any = {"svg.hashsalt": "greenlink-evidence", "svg.fonttype": "path", "pdf.fonttype": 3,
       "font.family": "DejaVu Sans"}


def _svg_rc() -> Any:
    """The plot's settings for the HTML page: in zh-CN the CJK font backs DejaVu Sans (the SVG
    draws glyphs as paths, so the page needs no font)."""
    if i18n.current_lang() == "en":
        return _RC
    i18n.register_cjk_font()
    return {**_RC, "font.family": i18n.SANS_FAMILY}


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, imported when a summary is drawn (verification
    reads summaries without it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def daily_table(hours: pd.DataFrame) -> pd.DataFrame:
    """Hourly claim rows summed per calendar day of their index's zone (the scenario's) [kWh]."""
    index = pd.DatetimeIndex(hours.index)
    return hours.groupby(index.tz_localize(None).floor("D")).sum()


def claim_figure(hours: pd.DataFrame, user_id: str) -> Figure:
    """Daily load, green supply and matched energy of the user, and the daily matched share."""
    plt = _pyplot()
    daily = daily_table(hours)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8.27, 5.8), sharex=True)
    x = daily.index
    top.fill_between(x, daily[flows.LOAD_KWH] / 1000, step="mid", color="#cccccc",
                     label=_("load (MWh/day)"))
    top.plot(x, daily[SUPPLY] / 1000, drawstyle="steps-mid", color="#2e7d32", lw=0.8,
             label=_("green supply a_u,h (MWh/day)"))
    top.plot(x, daily[MATCHED] / 1000, drawstyle="steps-mid", color="#1565c0", lw=0.8,
             label=_("hourly-matched (MWh/day)"))
    top.set_ylabel(_("MWh per day"))
    top.set_title(_("{user}: hourly matching, summed per day").format(user=user_id))
    top.legend(loc="upper right", fontsize=7)
    load = daily[flows.LOAD_KWH]
    share = (daily[MATCHED] / load.where(load > 0)) * 100
    bottom.plot(x, share, drawstyle="steps-mid", color="#1565c0", lw=0.8)
    bottom.set_ylim(0, 100)
    bottom.set_ylabel(_("matched share of load (%)"))
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


#: Row labels of the claim table, for the catalogue (translated in the HTML page only)
_ROW_LABELS = (N_("statement"), N_("kind"), N_("period"), N_("data"), N_("scenario"),
               N_("single-line diagram"), N_("contract"), N_("certificates"),
               N_("electricity factor"), N_("indirect SEE"), N_("factor reason"),
               N_("missing D.4.3 evidence"), N_("warning"), N_("method"))


def _claim_lines(doc: Mapping[str, Any], lang: str = "en") -> list[tuple[str, str]]:
    """(label, value) rows of the claim table; labels in ``lang`` (values as claimed)."""
    rows = _claim_rows(doc)
    if lang == "en":
        return rows
    return [(i18n.gettext(k, lang), v) for k, v in rows]


def _claim_rows(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    claimed = doc.get("claimed", {})
    rows = [("statement", str(doc.get("statement", ""))),
            ("kind", str(doc.get("kind", ""))),
            ("period", f"{doc['period']['start']} → {doc['period']['end']} "
                       f"({doc['period']['timezone']}, {doc['period']['interval_minutes']:g} min)"),
            ("data", str(doc.get("flows_source", "")))]
    for key, value in claimed.items():
        rows.append((key, f"{value:,.6f}" if isinstance(value, float) else str(value)))
    rows.append(("scenario", f"{doc['scenario']['file']} sha256 {doc['scenario']['sha256']}"))
    topo = doc.get("topology") or {}
    rows.append(("single-line diagram", f"{topo.get('single_line_diagram', '')} sha256 "
                                        f"{topo.get('single_line_diagram_sha256', '')}"))
    if doc.get("contract"):
        c = doc["contract"]
        rows.append(("contract", f"{c['id']} {c['name']} {c['document']} "
                                 f"sha256 {c['document_sha256']}"))
    if doc.get("certificates"):
        rows.append(("certificates", ", ".join(f"{k}: {v}" for k, v in
                                               sorted(doc["certificates"].items()))))
    ef = doc.get("electricity_factor")
    if ef:
        rows.append(("electricity factor", f"{ef['ef_t_per_mwh']:.4f} t/MWh, route {ef['route']} "
                                           f"({ef['template_code']})"))
        rows.append(("indirect SEE", f"{ef['see_indirect_t_per_t']:.4f} t CO2e/t"))
        rows.append(("factor reason", str(ef["reason"])))
        for gap in ef.get("missing_evidence") or []:
            rows.append(("missing D.4.3 evidence", str(gap)))
        for warning in ef.get("warnings") or []:
            rows.append(("warning", str(warning)))
    for name, digest in (doc.get("data_versions") or {}).items():
        rows.append((f"data {name}", str(digest)))
    rows.append(("method", str(doc.get("method", ""))))
    return rows


def summary_html(doc: Mapping[str, Any], hours: pd.DataFrame) -> bytes:
    """Self-contained HTML page (no network) with the claim table and the plot as inline SVG."""
    plt = _pyplot()
    with plt.rc_context(_svg_rc()):
        fig = claim_figure(hours, str(doc.get("user_id", "")))
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
        plt.close(fig)
    svg = buf.getvalue()
    return html_page(doc, svg[svg.find("<svg"):])


def html_page(doc: Mapping[str, Any], svg: str, lang: str | None = None) -> bytes:
    """The summary page of a claim around its plot ``svg``; the verifier regenerates it."""
    lang = i18n.current_lang(lang)
    rows = "\n".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                     for k, v in _claim_lines(doc, lang))
    kind = html.escape(str(doc.get("kind", "")))
    title = _("greenlink evidence pack", lang)
    heading = _("Evidence pack: {kind}", lang).format(kind=kind)
    check = _("Check it offline: {command}.", lang).format(
        command="<code>greenlink evidence verify PACK --key OPERATOR_PUBLIC_KEY</code>")
    recomputed = _("The numbers below are recomputed from the raw tables of the pack by the "
                   "verifier.", lang)
    page = f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
th{{text-align:left;vertical-align:top;padding-right:1em}}td{{word-break:break-all}}</style>
</head><body>
<h1>{heading}</h1>
<p>{check}
{recomputed}</p>
<table>
{rows}
</table>
{svg}
</body></html>
"""
    return page.encode("utf-8")


def summary_pdf(doc: Mapping[str, Any], hours: pd.DataFrame) -> bytes:
    """Two-page PDF (claim table, plot) without creation date."""
    plt = _pyplot()
    from matplotlib.backends.backend_pdf import PdfPages

    buf = io.BytesIO()
    with plt.rc_context(_RC), PdfPages(buf, metadata={"CreationDate": None,
                                                      "Creator": "greenlink evidence",
                                                      "Producer": "matplotlib"}) as pdf:
        page = plt.figure(figsize=(8.27, 11.69))
        page.text(0.05, 0.96, pdf_title(doc), fontsize=14, weight="bold")
        for y, key, text in pdf_rows(doc):
            page.text(0.05, y, key, fontsize=7, weight="bold")
            page.text(0.30, y, text, fontsize=7)
        pdf.savefig(page)
        plt.close(page)
        with i18n.use_lang("en"):  # the PDF's Type 3 fonts draw Latin only
            fig = claim_figure(hours, str(doc.get("user_id", "")))
        pdf.savefig(fig)
        plt.close(fig)
    return buf.getvalue()


def pdf_title(doc: Mapping[str, Any]) -> str:
    """Title line of the PDF's first page."""
    return f"Evidence pack: {doc.get('kind', '')}"


def pdf_rows(doc: Mapping[str, Any]) -> list[tuple[float, str, str]]:
    """(height, key, text) of every claim row on the PDF's first page: values cut to 95
    characters, rows down to the page's foot; the verifier regenerates them."""
    rows, y = [], 0.96
    for key, value in _claim_lines(doc):
        y -= 0.03
        rows.append((y, key, value if len(value) <= 95 else value[:92] + "..."))
        if y < 0.05:
            break
    return rows
