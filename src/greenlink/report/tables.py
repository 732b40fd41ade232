"""The tables of report.html: cells formatted by what their key holds (verdicts, shares as %,
margins in percentage points, codes that never wrap), records rendered generically with
details folded into one cell, and the policy, product and user tables."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from greenlink import flows, i18n
from greenlink.i18n import N_
from greenlink.i18n import gettext as _
from greenlink.report.numbers import (
    MISSING,
    format_number,
    format_year,
    is_number,
    is_year_key,
)

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
