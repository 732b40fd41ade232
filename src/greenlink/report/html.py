"""One self-contained HTML report (inline CSS and SVG, no network) from flows and summary.

``render_report`` turns the flows table and the ``summary.json`` content (see
``docs/formats.md``) into HTML text; ``write_report`` writes it to a file. Tables of policy
results and products are rendered generically from their records, with special formatting for
the known keys (pass/fail verdicts, shares as %, margins in percentage points).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, cast

import jinja2
import pandas as pd
from markupsafe import Markup, escape

from greenlink import flows, i18n
from greenlink.i18n import N_
from greenlink.i18n import gettext as _
from greenlink.report.numbers import (
    MISSING,
    format_fixed,
    format_number,
    format_year,
    is_number,
    is_year_key,
)
from greenlink.report.plots import report_plots

TEMPLATE_DIR = Path(__file__).with_name("templates")
TEMPLATE_NAME = "report.html.j2"

_OPERATORS = {">=": "≥", "<=": "≤", "==": "=", "!=": "≠", ">": ">", "<": "<"}
_HEADERS = {
    "sku": N_("SKU"), "cn_code": N_("CN code"), "rule_id": N_("Rule"), "kpi": N_("KPI"),
    "operator": N_("Op."), "passed": N_("Verdict"),
    "rests_on_assumption": N_("Rests on assumption"), "user_id": N_("User"),
    "is_cbam_good": N_("CBAM good?"), "cbam_counts_indirect": N_("Indirect counted?"),
    "id": N_("ID"), "title": N_("Title"), "value": N_("Value"), "threshold": N_("Threshold"),
    "margin": N_("Margin"), "scope": N_("Scope"), "period": N_("Period"), "name": N_("Name"),
    "kind": N_("Kind"),
}
#: Column labels made from record keys (``header_label``) that the report shows most; a label
#: not in the catalogue stays in English.
_GENERATED_LABELS = (
    N_("Load kWh"), N_("Green kWh"), N_("Grid kWh"), N_("Green share of consumption"),
    N_("Annual matched share"), N_("Hourly matched share"), N_("Details"), N_("Product"),
    N_("Electricity kWh per t"), N_("Electricity MWh per year"), N_("Green share annual"),
    N_("Green share hourly"), N_("Indirect emissions grid t"),
    N_("Indirect emissions direct line t"), N_("Generation kWh"), N_("Import kWh"),
    N_("Export kWh"), N_("Curtailed kWh"), N_("Self use kWh"), N_("Battery charge kWh"),
    N_("Battery discharge kWh"), N_("Battery losses kWh"), N_("Pv"), N_("Wind"),
    N_("Battery"), N_("Regime"), N_("Status"), N_("Footprint"), N_("Unit"), N_("Grid only"),
    N_("Green share counted"), N_("CBAM cost EUR"), N_("Boundary"), N_("Readings"),
    N_("Year"), N_("Tonnes"), N_("Rank"), N_("Process"), N_("Sector"), N_("Saving EUR"),
    N_("Wind kW"), N_("Battery kWh"), N_("Battery kW"), N_("Green to load kWh"),
    N_("Green direct kWh"), N_("Battery charge green kWh"), N_("Battery discharge green kWh"),
    N_("Import over limit kWh"), N_("Battery loss kWh"), N_("Intervals over import limit"),
    N_("Confidence"), N_("Clause (zh)"), N_("Clause (en)"), N_("Reason"), N_("Annex II?"),
    N_("Activity t"), N_("Electricity MWh"), N_("Green MWh claimed"), N_("EF route"),
    N_("Missing evidence"), N_("Certificates grid"), N_("Certificates DC"),
    N_("Cost grid EUR"), N_("Cost DC EUR"), N_("Cost default EUR"), N_("Tonnes per year"),
    N_("Warnings"),
)
_WORDS = {
    "kwh": "kWh", "mwh": "MWh", "kw": "kW", "kwp": "kWp", "dc": "DC", "ac": "AC", "pv": "PV",
    "tco2": "tCO₂", "tco2e": "tCO₂e", "kgco2": "kgCO₂", "kgco2e": "kgCO₂e", "co2": "CO₂",
    "co2e": "CO₂e", "cbam": "CBAM", "cn": "CN", "id": "ID", "sku": "SKU", "kpi": "KPI",
    "pct": "%", "see": "SEE", "ef": "EF", "eur": "EUR", "cny": "CNY", "ii": "II", "gwh": "GWh",
}
_POLICY_ORDER = ("rule_id", "title", "scope", "user_id", "period", "kpi", "operator",
                 "threshold", "value", "margin", "passed", "rests_on_assumption")
_PRODUCT_ORDER = ("sku", "name", "product", "cn_code", "is_cbam_good", "cbam_good",
                  "cbam_counts_indirect", "indirect_counted", "electricity_kwh_per_t",
                  "electricity_mwh_per_year", "green_share_annual", "green_share_hourly",
                  "green_share_of_consumption", "indirect_emissions_grid_t",
                  "indirect_emissions_direct_line_t")
_USER_ORDER = ("name", "id", "kind", flows.USER_LOAD_KWH, flows.USER_GREEN_KWH, flows.USER_GRID_KWH,
               "green_share_of_consumption", "annual_matched_share", "hourly_matched_share")
_DETAILS = N_("Details")
_KPI_COST_DETAIL = N_("grid electricity at the tariff; energy only, no capex or fees (see Cost)")
_KPI_COST_NONE = N_("grid electricity bought")
_RELATIVE_KEYS = ("threshold", "value", "margin")
_CODE_KEYS = ("sku", "cn_code", "rule_id", "id", "user_id")
_LONG_CODE = 20  # characters: longer identifiers may wrap
_SHORT_WORD = 12  # characters: shorter one-word cells never wrap


@dataclass(frozen=True)
class Cell:
    """One formatted table cell: display text, CSS class ('' for none) and, for the details
    column, ``(label, text)`` pairs shown in a collapsible list."""

    text: str
    css: str = ""
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Table:
    """A table ready for the template: header labels, rows of cells, optional row classes."""

    headers: list[str]
    rows: list[list[Cell]]
    row_css: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Kpi:
    """One headline figure: label, formatted value and a short explanation."""

    label: str
    value: str
    detail: str = ""
    unit: str = ""


# --------------------------------------------------------------------------------------------
# formatting


def format_share(value: object, signed: bool = False) -> str:
    """Format a fraction (0..1) as a percentage with one decimal, e.g. ``0.724 -> '72.4 %'``."""
    if not is_number(value):
        return MISSING
    sign = "+" if signed else ""
    return f"{float(cast(float, value)) * 100:{sign}.1f} %"


def format_points(value: object) -> str:
    """Format a difference of fractions in percentage points, e.g. ``0.05 -> '+5.0 pp'``."""
    if not is_number(value):
        return MISSING
    return f"{float(cast(float, value)) * 100:+.1f} pp"


def format_value(value: object) -> str:
    """Format any JSON value (number, bool, text, list, mapping) as short display text."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {format_year(v) if is_year_key(str(k)) else format_value(v)}"
                         for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value)
    return str(value)


def header_label(key: str, boolean: bool = False) -> str:
    """Readable column header for a record key (``cbam_good`` -> ``CBAM good?``)."""
    if key in _HEADERS:
        label = _HEADERS[key]
    else:
        words = [_WORDS.get(w.lower(), w) for w in key.replace(".", " ").split("_") if w]
        label = " ".join(words)
        label = label[:1].upper() + label[1:]
    label = _(label)
    return f"{label}?" if boolean and not label.endswith("?") else label


def is_share_key(key: str) -> bool:
    """True when a key names a fraction that is shown as a percentage."""
    return "share" in key.lower() or key.lower().endswith("_fraction")


def is_share_record(record: Mapping[str, Any]) -> bool:
    """True when a policy record's ``kpi`` (or ``unit``) says its values are fractions."""
    kpi = str(record.get("kpi", "")).lower()
    unit = str(record.get("unit", "")).lower()
    return "share" in kpi or "fraction" in kpi or unit in ("fraction", "share", "1")


def format_cell(key: str, value: Any, record: Mapping[str, Any]) -> Cell:
    """Format one value of a record for display, with a CSS class for special keys.

    Parameters
    ----------
    key : str
        Record key (column).
    value : object
        The value.
    record : mapping
        The whole record, for context (``kpi`` decides whether threshold/value/margin are
        shares).

    Returns
    -------
    Cell
        Text and CSS class: ``pass``/``fail`` for verdicts, ``assumption`` for verdicts resting
        on an assumption, ``num`` for numbers, ``code`` for identifiers (never wrapped),
        ``na`` for missing values.
    """
    if key == "passed":
        if value is None:
            status = str(record.get("status") or "not checked").replace("_", " ")
            return Cell(_(status), "na")
        return Cell(_("pass"), "pass") if bool(value) else Cell(_("fail"), "fail")
    if key == "rests_on_assumption":
        if not value:
            return Cell(_("no"))
        return Cell(_("yes") if value is True else format_value(value), "assumption")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Cell(MISSING, "na")
    if is_year_key(key) and is_number(value):
        return Cell(format_year(value), "year")
    if key in _CODE_KEYS and isinstance(value, str):
        # a long identifier may break after its underscores (<wbr>: copies as written)
        return Cell(value, "ident" if len(value) > _LONG_CODE else "code")
    if key == "kpi" and isinstance(value, str):
        return Cell(value, "ident")
    if key == "operator" and isinstance(value, str):
        return Cell(_OPERATORS.get(value.strip(), value))
    if is_number(value):
        if key in _RELATIVE_KEYS and is_share_record(record):
            text = format_points(value) if key == "margin" else format_share(value)
            return Cell(text, "num")
        if is_share_key(key):
            return Cell(format_share(value), "num")
        if key == "margin":
            sign = "+" if float(value) > 0 else ""
            return Cell(sign + format_number(value), "num")
        return Cell(format_number(value), "num")
    if isinstance(value, bool):
        return Cell(_("yes") if value else _("no"), "yes" if value else "no")
    text = format_value(value)
    # a short single word never breaks; longer text may, anywhere, rather than widen the page
    return Cell(text, "word" if len(text) <= _SHORT_WORD and not any(
        c.isspace() for c in text) else "")


# --------------------------------------------------------------------------------------------
# tables


def column_keys(records: Iterable[Mapping[str, Any]], preferred: Sequence[str] = ()) -> list[str]:
    """Union of the records' keys: ``preferred`` ones first (where present), then the rest in
    order of first appearance."""
    seen: dict[str, None] = {}
    for record in records:
        for key in record:
            seen.setdefault(str(key), None)
    first = [k for k in preferred if k in seen]
    return first + [k for k in seen if k not in first]


def records_table(records: Sequence[Mapping[str, Any]], preferred: Sequence[str] = (),
                  main_only: bool = False) -> Table:
    """Render a list of records as a :class:`Table` with one column per key.

    Parameters
    ----------
    records : sequence of mapping
        Records (e.g. ``summary["policy"]["results"]``), keys may differ between records.
    preferred : sequence of str
        Keys shown first, in this order, when present.
    main_only : bool
        When true and at least two ``preferred`` keys are present, only those get a column of
        their own; every other key goes into a last, collapsible "Details" column. Keys whose
        values are mappings or long texts always go there.

    Returns
    -------
    Table
        Headers, formatted cells, and a row class ``failed`` / ``assumption`` where applicable.
    """
    keys = column_keys(records, preferred)
    present = [k for k in preferred if k in keys]
    columns = [k for k in keys if not _is_detail_key(k, records)]
    if main_only and len(present) >= 2:
        columns = [k for k in columns if k in present]
    if "passed" in columns and "status" in columns:
        columns.remove("status")  # the verdict cell shows the status when there is no verdict
    hidden = [k for k in keys if k not in columns and not (k == "status" and "passed" in keys)]
    boolean = {k: all(isinstance(r.get(k), bool) for r in records if r.get(k) is not None)
               and any(r.get(k) is not None for r in records) for k in columns}
    headers = [header_label(k, boolean[k] and k not in ("passed", "rests_on_assumption"))
               for k in columns]
    rows = [[format_cell(k, r.get(k), r) for k in columns] for r in records]
    if hidden:
        headers.append(_(_DETAILS))
        for row, record in zip(rows, records, strict=True):
            row.append(details_cell(record, hidden))
    return Table(headers, rows, [_row_class(r) for r in records])


def _is_detail_key(key: str, records: Sequence[Mapping[str, Any]]) -> bool:
    """True when a key's values are mappings, lists of mappings or long texts."""
    for record in records:
        value = record.get(key)
        if isinstance(value, Mapping) or (isinstance(value, str) and len(value) > 60):
            return True
        if isinstance(value, list | tuple) and any(isinstance(v, Mapping) for v in value):
            return True
    return False


def details_cell(record: Mapping[str, Any], keys: Sequence[str]) -> Cell:
    """The collapsible "Details" cell of a record: one ``(label, text)`` pair per non-empty key.

    The summary line is the record's ``reason`` (or ``cbam_note``) when it has one.
    """
    pairs = []
    for key in keys:
        value = record.get(key)
        if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
            continue
        if isinstance(value, Mapping):
            for sub, item in value.items():
                if item not in (None, ""):
                    pairs.append((f"{header_label(key)} ({sub})", format_value(item)))
            continue
        pairs.append((header_label(key), format_cell(key, value, record).text))
    summary = next((str(record[k]) for k in ("reason", "cbam_note") if record.get(k)), "")
    if len(summary) > 60:
        summary = summary[:57].rstrip() + "…"
    return Cell(summary or (f"{len(pairs)} more" if pairs else MISSING), "details",
                tuple(pairs))


def _row_class(record: Mapping[str, Any]) -> str:
    classes = []
    if record.get("passed") is False:
        classes.append("failed")
    if record.get("rests_on_assumption"):
        classes.append("assumption")
    return " ".join(classes)


def policy_table(policy: Mapping[str, Any]) -> Table:
    """Table of ``summary["policy"]["results"]`` (rule, KPI, threshold, value, margin, verdict;
    clause, source, reason and other keys in the details column)."""
    results = [localized_rule(r) for r in policy.get("results") or []]
    return records_table(results, _POLICY_ORDER, main_only=True)


#: statuses of a verdict without pass or fail, for the catalogue
_STATUSES = (N_("not checked"), N_("not applicable"), N_("no data"))


def localized_rule(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """A policy result as the current language shows it: in zh-CN the rule's title is the
    notice's own Chinese clause text (``clause.zh``) where the rule set has one."""
    clause = record.get("clause")
    if i18n.current_lang() == "zh-CN" and isinstance(clause, Mapping) and clause.get("zh"):
        return {**record, "title": clause["zh"]}
    return record


def product_table(products: Sequence[Mapping[str, Any]]) -> Table:
    """Table of ``summary["products"]`` (SKU, CN code, CBAM flags, electricity, green shares,
    indirect emissions grid vs direct line; every other key in the details column)."""
    return records_table(list(products), _PRODUCT_ORDER, main_only=True)


def ruleset_label(policy: Mapping[str, Any]) -> str:
    """Display name of the rule set: its title, document number and version, or the plain text.
    """
    ruleset = policy.get("ruleset")
    if not isinstance(ruleset, Mapping):
        return "" if ruleset is None else str(ruleset)
    name = str(ruleset.get("title") or ruleset.get("id") or "")
    extra = [str(ruleset[k]) for k in ("document_number", "version") if ruleset.get(k)]
    return f"{name} ({', '.join(extra)})" if extra and name else name or ", ".join(extra)


def user_table(users: Sequence[Mapping[str, Any]]) -> Table:
    """Table of ``summary["users"]`` (name, kind, energy, the three green shares)."""
    return records_table(list(users), _USER_ORDER)


def assumption_notes(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per policy result whose verdict rests on an assumption."""
    notes = []
    for result in results:
        flag = result.get("rests_on_assumption")
        if not flag:
            continue
        rule = str(result.get("rule_id") or result.get("title") or "rule")
        notes.append(rule if flag is True else f"{rule}: {format_value(flag)}")
    return notes


def key_value_rows(mapping: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """``(label, formatted value)`` pairs of a flat mapping (e.g. ``totals_kwh``)."""
    return [(header_label(str(k)), format_cell(str(k), v, {}).text)
            for k, v in (mapping or {}).items()]


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
