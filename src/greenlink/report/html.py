"""One self-contained HTML report (inline CSS and SVG, no network) from flows and summary.

``render_report`` turns the flows table and the ``summary.json`` content (see
``docs/formats.md``) into HTML text; ``write_report`` writes it to a file. Tables of policy
results and products are rendered generically from their records, with special formatting for
the known keys (pass/fail verdicts, shares as %, margins in percentage points).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, cast

import jinja2
import pandas as pd
from markupsafe import Markup, escape

from greenlink import i18n
from greenlink.i18n import N_
from greenlink.i18n import gettext as _
from greenlink.report.numbers import (
    MISSING,
    format_fixed,
    format_number,
    is_number,
)
from greenlink.report.plots import report_plots
from greenlink.report.tables import (
    assumption_notes,
    format_share,
    format_value,
    key_value_rows,
    policy_table,
    product_table,
    records_table,
    ruleset_label,
    user_table,
)

TEMPLATE_DIR = Path(__file__).with_name("templates")
TEMPLATE_NAME = "report.html.j2"


_KPI_COST_DETAIL = N_("grid electricity at the tariff; energy only, no capex or fees (see Cost)")
_KPI_COST_NONE = N_("grid electricity bought")


@dataclass(frozen=True)
class Kpi:
    """One headline figure: label, formatted value and a short explanation."""

    label: str
    value: str
    detail: str = ""
    unit: str = ""


# --------------------------------------------------------------------------------------------
# page context


def headline_kpis(summary: Mapping[str, Any]) -> list[Kpi]:
    """The six headline figures of the report.

    Parameters
    ----------
    summary : mapping
        ``summary.json`` content.

    Returns
    -------
    list of Kpi
        Green share, hourly-matched share, self-use share, export share, specific yield and
        import cost (``–`` where the summary lacks them).
    """
    shares = summary.get("shares") or {}
    cost = summary.get("cost") or {}
    currency = cost.get("currency") or (summary.get("scenario") or {}).get("currency") or ""
    yield_ = (summary.get("specific_yield_kwh_per_kwp") or {}).get("park")
    import_cost = cost.get("import_cost")
    return [
        Kpi(_("Green share"), format_share(shares.get("green_share_of_consumption")),
            _("of consumption, physically delivered")),
        Kpi(_("Hourly-matched share"), format_share(shares.get("hourly_matched_share")),
            _("of consumption, matched hour by hour")),
        Kpi(_("Self-use share"), format_share(shares.get("self_use_share_of_generation")),
            _("of generation used in the park")),
        Kpi(_("Export share"), format_share(shares.get("export_share_of_generation")),
            _("of generation fed into the grid")),
        Kpi(_("Specific yield"), format_number(yield_) if is_number(yield_) else MISSING,
            _("park PV, per kWp DC"), "kWh/kWp" if is_number(yield_) else ""),
        Kpi(_("Import cost"), format_number(import_cost) if is_number(import_cost) else MISSING,
            _cost_detail(cost, currency), currency if is_number(import_cost) else ""),
    ]


def _cost_detail(cost: Mapping[str, Any], currency: str) -> str:
    if not is_number(cost.get("import_cost")):
        return _(_KPI_COST_NONE)
    return _(_KPI_COST_DETAIL)


def cost_figures(cost: Mapping[str, Any]) -> dict[str, str] | None:
    """The energy cost of the year, formatted, for the report's Cost table: grid purchases,
    demand charge, export revenue, the net energy cost, the grid-only cost and the difference
    (all at the scenario tariff; no capex, O&M or direct-line fees)."""
    if not is_number(cost.get("import_cost")):
        return None
    values = {k: float(cost.get(k) or 0.0) for k in ("import_cost", "demand_charge",
                                                     "export_revenue", "net_cost",
                                                     "grid_only_cost")}
    out = {k: format_fixed(v) for k, v in values.items()}
    out["export_revenue"] = format_fixed(-values["export_revenue"])
    out["saving"] = format_fixed(values["grid_only_cost"] - values["net_cost"])
    out["currency"] = str(cost.get("currency") or "")
    return out


def finance_pointers(finance: Mapping[str, Any] | None) -> dict[str, str] | None:
    """Capex and direct-line fees of the finance section, formatted, for the Cost note."""
    if not finance:
        return None
    return {"initial_capex": format_fixed(finance.get("initial_capex")),
            "year1_fees": format_fixed(finance.get("year1_fees")),
            "npv_project": format_fixed(finance.get("npv_project")),
            "currency": str(finance.get("currency") or "")}


def extra_sections(summary: Mapping[str, Any]) -> list[Markup]:
    """The optimisation and finance sections (when the summary has them), inside the page
    before its footer, so that ``greenlink report`` re-renders them too."""
    out = []
    if summary.get("optimization"):
        from greenlink.report.optimization import optimization_html

        out.append(Markup(optimization_html(dict(summary["optimization"]),
                                            with_finance=bool(summary.get("finance")))))
    if summary.get("finance"):
        from greenlink.report.finance import finance_section_html

        out.append(Markup(finance_section_html(summary["finance"])))
    return out


def installed_version() -> str:
    """Version of the installed greenlink package (``unknown`` when not installed)."""
    try:
        return metadata.version("greenlink")
    except metadata.PackageNotFoundError:
        return "unknown"


def default_title(summary: Mapping[str, Any]) -> str:
    """Report title from the scenario name and year."""
    scenario = summary.get("scenario") or {}
    name = scenario.get("name") or _("Scenario")
    year = scenario.get("year")
    return _("{name} — green power report").format(name=name) + (f" {year}" if year else "")


def report_context(table: pd.DataFrame, summary: Mapping[str, Any],
                   title: str | None = None, files: Sequence[str] = ()) -> dict[str, Any]:
    """Everything the template needs, as plain values (SVG marked safe, all else escaped).

    Parameters
    ----------
    table : pandas.DataFrame
        Flows table (``interval_start`` as tz-aware column or index).
    summary : mapping
        ``summary.json`` content.
    title : str, optional
        Page title; default from the scenario name and year.
    files : names of the data files beside the report (flows.xlsx …), linked from it

    Returns
    -------
    dict
        Template context.
    """
    policy = summary.get("policy") or {}
    weather = summary.get("weather") or {}
    results = list(policy.get("results") or [])
    plots = {k: Markup(v) for k, v in report_plots(table, summary).items()}
    return {
        "html_lang": i18n.html_lang(),
        "title": title or default_title(summary),
        "scenario": summary.get("scenario") or {},
        "weather": weather,
        "capacity": key_value_rows(summary.get("capacity")),
        "kpis": headline_kpis(summary),
        "plots": plots,
        "users": user_table(summary.get("users") or []),
        "policy": policy,
        "ruleset": ruleset_label(policy),
        "policy_table": policy_table(policy),
        "assumptions": assumption_notes(results),
        "products": product_table(summary.get("products") or []),
        "cbam": cbam_tables(summary.get("cbam") or {}),
        "footprints": footprint_table(summary.get("cbam") or {})
        if (summary.get("cbam") or {}).get("footprints") else None,
        "cbam_years": _cbam_years() if summary.get("cbam") else "",
        "totals": key_value_rows(summary.get("totals_kwh")),
        "cost": cost_figures(summary.get("cost") or {}),
        "finance": finance_pointers(summary.get("finance")),
        "optimized": bool(summary.get("optimization")),
        "sections": extra_sections(summary),
        "grid": key_value_rows(summary.get("grid")),
        "balance_error": summary.get("energy_balance_max_abs_error_kwh"),
        "time_shift": _minutes(weather.get("time_shift_minutes")),
        "version": installed_version(),
        "result_version": summary.get("greenlink_version"),
        "files": [f for f in files if f != "report.html"],
        "warnings": list(summary.get("warnings") or []),
    }


def _minutes(value: object) -> str | None:
    """A time shift in whole minutes with its sign (``+30``), None when not stated."""
    if not is_number(value):
        return None
    return f"{round(float(cast(float, value))):+d}"


def _cbam_years() -> str:
    """The CBAM phase-in years for the text, e.g. ``2026–2034`` (data/cbam/phase_in.csv)."""
    from greenlink.carbon.cbam_data import phase_in_span

    return phase_in_span()


def _reading_value(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def footprint_table(cbam: Mapping[str, Any]) -> Any:
    """Products that are not CBAM goods, their footprint per declared unit under the regime that
    covers them (e.g. the EU Battery Regulation per kWh) beside their CBAM cost (none)."""
    rows = []
    for f in cbam.get("footprints") or []:
        rows.append({
            "sku": f.get("sku"), "cn_code": f.get("cn_code"), "regime": f.get("regime_title"),
            "status": f.get("regime_status"), "footprint": f.get("total"),
            "unit": f.get("unit"), "grid_only": f.get("electricity_grid_only"),
            "green_share_counted": f.get("green_share_counted"),
            "cbam_cost_eur": f.get("cbam_exposure_eur"), "boundary": f.get("boundary"),
            "readings": "; ".join(f"{r.get('rule')} = {_reading_value(r.get('value'))}"
                                  for r in f.get("readings") or []
                                  if r.get("confidence") == "unverified")})
    return records_table(rows, ("sku", "cn_code", "regime", "status", "footprint", "unit",
                                "grid_only", "green_share_counted", "cbam_cost_eur",
                                "boundary", "readings"))


def cbam_tables(cbam: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per CBAM installation: the SEE table (route, evidence), liability per year, top SKUs."""
    out = []
    for inst in cbam.get("installations") or []:
        out.append({
            "id": inst.get("id"), "user": inst.get("user"),
            "processes": records_table(inst.get("processes") or [], (
                "process", "cn_code", "sector", "annex_ii", "activity_t", "electricity_mwh",
                "green_mwh_claimed", "ef_route", "ef_t_per_mwh", "see_direct_t_per_t",
                "see_indirect_t_per_t", "see_indirect_grid_t_per_t", "cbam_saving_t_per_t",
                "footprint_saving_t_per_t", "missing_evidence"), main_only=True),
            "liability": records_table(inst.get("liability_per_year") or [], (
                "year", "tonnes", "certificates_grid", "certificates_dc", "cost_grid_eur",
                "cost_dc_eur", "saving_eur", "cost_default_eur")),
            "exposure": records_table(inst.get("exposure_by_sku") or [], (
                "rank", "sku", "tonnes_per_year", "cost_grid_eur", "cost_dc_eur", "saving_eur"),
                main_only=True),
            "assumptions": list(inst.get("assumptions") or []),
        })
    return out


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True,
                             extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True)
    env.filters["share"] = format_share
    env.filters["number"] = format_number
    env.filters["value"] = format_value
    env.filters["breakable"] = breakable
    return env


def breakable(text: str) -> Markup:
    """``text`` escaped, with a line-break opportunity (``<wbr>``) after each underscore."""
    return Markup("_<wbr>").join(escape(part) for part in str(text).split("_"))


def render_report(table: pd.DataFrame, summary: Mapping[str, Any],
                  title: str | None = None, files: Sequence[str] = (),
                  lang: str | None = None) -> str:
    """Render the self-contained HTML report.

    Parameters
    ----------
    table : pandas.DataFrame
        Flows table as documented in ``docs/formats.md`` (``interval_start`` tz-aware, as a
        column or as the index).
    summary : mapping
        ``summary.json`` content.
    title : str, optional
        Page title; default from the scenario name and year.

    Returns
    -------
    str
        A complete HTML document with inline CSS and inline SVG figures; it references no
        network resource. ``lang``: ``en`` or ``zh-CN`` (default: the current language,
        :func:`greenlink.i18n.current_lang`).
    """
    with i18n.use_lang(i18n.current_lang(lang)):
        template = _environment().get_template(TEMPLATE_NAME)
        return i18n.embed_cjk_font(
            template.render(**report_context(table, summary, title, files)))


def write_report(path: str | Path, table: pd.DataFrame, summary: Mapping[str, Any],
                 title: str | None = None, files: Sequence[str] = (),
                 lang: str | None = None) -> Path:
    """Render the report (see :func:`render_report`) and write it as UTF-8 to ``path``.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_report(table, summary, title, files, lang), encoding="utf-8")
    return target
