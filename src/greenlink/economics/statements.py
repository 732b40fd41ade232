"""Renderers of a :class:`~greenlink.economics.settlement.Settlement`: JSON, HTML and PDF.

One statement per tenant (all its lines), one per contract (the lines under that contract,
across tenants), one per PPA with a buyer outside the park (the buyer's statement: energy,
attributes, price, FX rate and source, amounts in both currencies, reconciliation), plus the
green supply agreements' view. JSON keeps every amount as a decimal string
(exact); HTML is one self-contained file (inline CSS, no network); PDF is drawn with matplotlib's
PDF backend (text only, no network; Latin in matplotlib's DejaVu fonts, Chinese in the CJK font
greenlink ships, both embedded as subsets). Titles, labels and column names are in the current
language (:mod:`greenlink.i18n`: en or zh-CN); JSON keys never change.
:func:`write_settlement` writes everything into a folder atomically.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import date
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import jinja2

from greenlink import flows, i18n, jsonio
from greenlink.economics.buyers import BuyerPeriod
from greenlink.economics.fx import FxRate
from greenlink.economics.settlement import (
    BuyerStatement,
    Line,
    Settlement,
    Statement,
    totals_by_currency,
)
from greenlink.i18n import N_
from greenlink.i18n import gettext as _

FORMATS = ("json", "html", "pdf")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _line_dict(line: Line) -> dict[str, Any]:
    return {k: _plain(v) for k, v in asdict(line).items()}


def _fx_dict(rate: FxRate) -> dict[str, Any]:
    return {"currency": rate.currency, "cny_per_unit": str(rate.rate), "rule": rate.rule,
            "wanted": rate.wanted.isoformat(),
            "fixing_dates": [d.isoformat() for d in rate.fixing_dates],
            "stated_source": rate.stated_source, "series": rate.series,
            "unverified": rate.unverified, "sources": list(rate.sources),
            "text": rate.describe()}


def _fees(settlement: Settlement) -> dict[str, Any]:
    return {"source": Path(settlement.fee_source).name,
            "as_of": (settlement.fees_as_of.isoformat() if settlement.fees_as_of is not None
                      else None),
            "rule": ("every fee judged at one date for the whole month"
                     if settlement.fees_as_of is not None else
                     "each fee from its effective date, by day (a monthly charge pro rata)")}


def _money_map(values: dict[str, Decimal]) -> dict[str, str]:
    return {k: str(v) for k, v in values.items()}


def statement_dict(settlement: Settlement, statement: Statement) -> dict[str, Any]:
    """A tenant statement as JSON-ready data (amounts as decimal strings)."""
    return {
        "kind": "tenant_statement", "scenario": settlement.scenario_name,
        "month": statement.month, "tenant": statement.tenant,
        "tenant_name": statement.tenant_name, "currency": statement.currency,
        "meters_kwh": _plain(statement.meters), "energy_lines_kwh": str(statement.energy_kwh),
        "lines": [_line_dict(ln) for ln in statement.lines], "total": str(statement.total),
        "totals_by_currency": _money_map(statement.totals_by_currency),
        "contracts": statement.contract_ids(),
        "contract_totals_kwh": [_plain(c) for c in statement.contracts],
        "attributes_transferred_kwh": str(statement.attributes_transferred_kwh),
        "fx": [_fx_dict(r) for r in settlement.fx_rates],
        "rounding_rule": settlement.rounding_rule,
        "fees": _fees(settlement),
        "notes": list(settlement.notes) + list(statement.notes),
    }


def contract_dict(settlement: Settlement, contract_id: str) -> dict[str, Any]:
    """One contract's lines across tenants, with its totals (per currency and in the
    settlement currency)."""
    rows = settlement.contract_lines(contract_id)
    energy = sum((ln.quantity for _tenant, ln in rows if ln.energy), Decimal("0.000"))
    return {
        "kind": "contract_statement", "scenario": settlement.scenario_name,
        "month": settlement.month, "contract_id": contract_id, "currency": settlement.currency,
        "lines": [{"tenant": t, **_line_dict(ln)} for t, ln in rows],
        "energy_kwh": str(energy),
        "total": str(sum((ln.amount_local for _tenant, ln in rows), Decimal("0.00"))),
        "totals_by_currency": _money_map(totals_by_currency(ln for _tenant, ln in rows)),
        "rounding_rule": settlement.rounding_rule,
    }


def buyer_statement_dict(settlement: Settlement, b: BuyerStatement) -> dict[str, Any]:
    """An overseas buyer's statement of one PPA and month (amounts from the buyer's view:
    positive, the buyer pays)."""
    a = b.attributes
    return {
        "kind": "buyer_statement", "scenario": settlement.scenario_name, "month": b.month,
        "contract_id": b.contract_id, "contract_name": b.contract_name,
        "buyer": {"id": b.buyer_id, "name": b.buyer_name, "country": b.buyer_country},
        "seller": b.seller, "delivered_to": b.tenant, "structure": b.structure,
        "currency": b.currency, "settlement_currency": b.local_currency,
        "fx": _fx_dict(b.fx) if b.fx is not None else None,
        "energy_kwh": _plain(b.volume),
        "attributes": {
            "energy_kwh": str(a.energy_kwh), "granular_certificates_wh": a.certificates_wh,
            "gec": a.gec, "gec_remainder_kwh": str(a.gec_remainder_kwh), "per": a.per,
            "shipments": [_plain(x) for x in a.shipments],
            "unassigned_kwh": str(a.unassigned_kwh), "seller_device": a.seller_device,
            "registry_account": a.registry_account, "gec_holder": a.gec_holder,
            "footprint_claim": a.claim},
        "lines": [_line_dict(ln) for ln in b.lines],
        "totals_by_currency": _money_map(b.totals_by_currency),
        "total_settlement_currency": str(b.total_local),
        "reconciliation": {"reconciled": b.reconciled, "with_tenant_statement": list(b.checks),
                           "with_registry": list(b.registry)},
        "rounding_rule": settlement.rounding_rule,
        "notes": list(b.notes) + [n for n in settlement.notes if "exchange rate" in n],
    }


def buyers_dict(settlement: Settlement) -> dict[str, Any]:
    return {"kind": "overseas_buyers", "scenario": settlement.scenario_name,
            "month": settlement.month, "kwh_per_certificate": 1000,
            "periods": [_plain(b) for b in settlement.buyers]}


def settlement_dict(settlement: Settlement) -> dict[str, Any]:
    """Summary of the whole month (park totals, every tenant's total)."""
    return {
        "kind": "settlement", "scenario": settlement.scenario_name, "month": settlement.month,
        "currency": settlement.currency, "intervals": settlement.intervals,
        "interval_minutes": settlement.interval_minutes, "park": _plain(settlement.park),
        "tenants": [{"tenant": s.tenant, flows.USER_LOAD_KWH: str(s.meters.load_kwh),
                     flows.USER_GREEN_KWH: str(s.meters.green_kwh),
                     flows.USER_GRID_KWH: str(s.meters.grid_kwh),
                     "total": str(s.total)} for s in settlement.statements],
        "rounding_rule": settlement.rounding_rule, "fee_source": Path(settlement.fee_source).name,
        "fees": _fees(settlement), "fx": [_fx_dict(r) for r in settlement.fx_rates],
        "buyer_statements": [{"contract_id": b.contract_id, "buyer": b.buyer_id,
                              "currency": b.currency,
                              "totals_by_currency": _money_map(b.totals_by_currency),
                              "total_settlement_currency": str(b.total_local),
                              "reconciled": b.reconciled} for b in settlement.buyer_statements],
        "notes": list(settlement.notes),
    }


# --------------------------------------------------------------------------- HTML

def _environment(undefined: type[jinja2.Undefined] = jinja2.Undefined) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=True,
                             undefined=undefined, extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True)
    return env


_TEMPLATES = Path(__file__).with_name("templates")
_HTML = _environment(jinja2.StrictUndefined).get_template("statement.html.j2")
_BUYERS_HTML = _environment().get_template("buyers.html.j2")

_HEADERS = ["tenant", "item", "contract", "period", "quantity", "unit", "unit price", "amount",
            "FX", "payer → payee"]
_NUMERIC = {"quantity", "unit price", "amount", "FX"}
#: Column names as shown (the keys above stay English: they name the columns in code)
_LABELS = {"tenant": N_("tenant"), "item": N_("item"), "contract": N_("contract"),
           "period": N_("period"), "quantity": N_("quantity"), "unit": N_("unit"),
           "unit price": N_("unit price"), "amount": N_("amount"), "FX": N_("FX"),
           "payer → payee": N_("payer → payee"), "payer -> payee": N_("payer -> payee"),
           "agreement": N_("agreement"), "buyer": N_("buyer"), "seller": N_("seller"),
           "shipment": N_("shipment"), "SKU": "SKU", "t": "t", "kWh asked": N_("kWh asked"),
           "kWh assigned": N_("kWh assigned"), "certificates": N_("certificates")}


def column_label(key: str) -> str:
    """A column's name in the current language (``amount CNY`` → ``金额 CNY``)."""
    if key.startswith("amount ") and key not in _LABELS:
        return _("amount {currency}").format(currency=key.split(" ", 1)[1])
    return _(_LABELS[key]) if key in _LABELS else key


def _headers(local: str, with_tenant: bool) -> list[str]:
    heads = [h for h in _HEADERS if with_tenant or h != "tenant"]
    return [*heads, f"amount {local}"]


def _labels(local: str) -> dict[str, str]:
    return {h: column_label(h) for h in [*_HEADERS, f"amount {local}"]}


def _rows(pairs: list[tuple[str, Line]], local: str) -> list[dict[str, str]]:
    return [{"tenant": t, "item": ln.description, "contract": ln.contract_id or "",
             "period": ln.period, "quantity": f"{ln.quantity:,}", "unit": ln.unit,
             "unit price": str(ln.unit_price), "amount": f"{ln.amount:,} {ln.currency}",
             "FX": str(ln.fx_rate) if ln.fx_rate is not None else "",
             "payer → payee": f"{ln.payer} → {ln.payee}" if ln.payer else "",
             f"amount {local}": f"{ln.amount_local:,}"} for t, ln in pairs]


def _subtotals(lines: list[Line], local: str) -> list[tuple[str, str]]:
    by = totals_by_currency(lines)
    if set(by) <= {local}:
        return []
    return [(_("Sum of the amounts in {currency}").format(currency=c), f"{v:,} {c}")
            for c, v in by.items()]


def statement_html(settlement: Settlement, statement: Statement) -> str:
    local = settlement.currency
    return i18n.embed_cjk_font(_HTML.render(
        html_lang=i18n.html_lang(), labels=_labels(local),
        title=_("Statement {month} — {tenant}").format(month=statement.month,
                                                       tenant=statement.tenant_name),
        subtitle=_("{scenario}; tenant {tenant}; {n} intervals of {minutes} min").format(
            scenario=settlement.scenario_name, tenant=statement.tenant,
            n=settlement.intervals, minutes=settlement.interval_minutes),
        intro=[f"FX: {r.describe()}" for r in settlement.fx_rates],
        meters=statement.meters, energy_kwh=statement.energy_kwh,
        headers=_headers(local, False), contracts=list(statement.contracts), attributes=[],
        numeric=_NUMERIC | {f"amount {local}"},
        rows=_rows([(statement.tenant, ln) for ln in statement.lines], local),
        subtotals=_subtotals(list(statement.lines), local),
        currency=local, total=f"{statement.total:,}", checks=[],
        notes=[*settlement.notes, *statement.notes], rounding=settlement.rounding_rule,
        signatures=[]))


def contract_html(settlement: Settlement, contract_id: str) -> str:
    rows = settlement.contract_lines(contract_id)
    local = settlement.currency
    return i18n.embed_cjk_font(_HTML.render(
        html_lang=i18n.html_lang(), labels=_labels(local),
        title=_("Contract statement {month} — {contract}").format(month=settlement.month,
                                                                  contract=contract_id),
        subtitle=settlement.scenario_name, intro=[], meters=None, energy_kwh="",
        headers=_headers(local, True), contracts=[], attributes=[],
        numeric=_NUMERIC | {f"amount {local}"}, rows=_rows(rows, local),
        subtotals=_subtotals([ln for _tenant, ln in rows], local), currency=local,
        total=f"{sum((ln.amount_local for _tenant, ln in rows), Decimal('0.00')):,}", checks=[],
        notes=[], rounding=settlement.rounding_rule, signatures=[]))


def _attribute_rows(b: BuyerStatement) -> list[tuple[str, str]]:
    a = b.attributes
    rows = [(_("energy delivered"), f"{a.energy_kwh:,} kWh"),
            (_("granular certificates"),
             _("{wh} Wh (1 certificate = 1 Wh; hourly, device {device})").format(
                 wh=f"{a.certificates_wh:,}", device=a.seller_device)),
            (_("China green certificates (GEC)"),
             _("{gec} (1 GEC = 1 MWh; {rest} kWh below a whole MWh)").format(
                 gec=f"{a.gec:,}", rest=f"{a.gec_remainder_kwh:,}")),
            (_("footprint claim"), a.claim),
            (_("registry account / GEC holder"),
             f"{a.registry_account or '—'} / {a.gec_holder or '—'}"),
            (_("attributes per"), a.per)]
    for x in a.shipments:
        rows.append((_("shipment {id}").format(id=x.shipment_id),
                     _("{sku} {t} t: asked {asked} kWh, assigned {assigned} kWh ({gec} GEC)")
                     .format(sku=x.sku, t=x.quantity_t, asked=f"{x.requested_kwh:,}",
                             assigned=f"{x.assigned_kwh:,}", gec=x.certificates)))
    if a.per == "shipment":
        rows.append((_("not assigned to a shipment"),
                     _("{kwh} kWh (the buyer's, held for later shipments)").format(
                         kwh=f"{a.unassigned_kwh:,}")))
    return rows


def _buyer_parties(settlement: Settlement, b: BuyerStatement) -> str:
    return _("{scenario}; buyer {buyer} ({country}); seller {seller}; energy delivered to "
             "{tenant}; structure {structure}; priced in {currency}").format(
        scenario=settlement.scenario_name, buyer=b.buyer_id, country=b.buyer_country,
        seller=b.seller, tenant=b.tenant, structure=b.structure, currency=b.currency)


def _buyer_fx(b: BuyerStatement) -> str:
    if b.fx is not None:
        return b.fx.describe()
    return _("no conversion: the contract is in {currency}").format(currency=b.local_currency)


def buyer_statement_html(settlement: Settlement, b: BuyerStatement) -> str:
    local = b.local_currency
    fx = _buyer_fx(b)
    return i18n.embed_cjk_font(_HTML.render(
        html_lang=i18n.html_lang(), labels=_labels(local),
        title=_("Buyer statement {month} — {contract} — {buyer}").format(
            month=b.month, contract=b.contract_id, buyer=b.buyer_name),
        subtitle=_buyer_parties(settlement, b),
        intro=[f"FX: {fx}", _(_BUYER_VIEW)],
        meters=None, energy_kwh="", headers=_headers(local, False), contracts=[b.volume],
        attributes=_attribute_rows(b), numeric=_NUMERIC | {f"amount {local}"},
        rows=_rows([(b.buyer_id, ln) for ln in b.lines], local),
        subtotals=_subtotals(list(b.lines), local), currency=local,
        total=f"{b.total_local:,}", checks=[*b.checks, *b.registry], notes=list(b.notes),
        rounding=settlement.rounding_rule, signatures=_signatories(b)))


def _signatories(b: BuyerStatement) -> list[str]:
    """Who signs a buyer statement: the buyer, the seller and the tenant that took the energy."""
    return [_("{name} (buyer)").format(name=b.buyer_name),
            _("{name} (seller)").format(name=b.seller),
            _("{name} (delivery tenant)").format(name=b.tenant)]


_BUYER_VIEW = N_("Amounts from the buyer's view: positive, the buyer pays; negative, the buyer "
                 "receives.")


def buyers_html(settlement: Settlement) -> str:
    return i18n.embed_cjk_font(_BUYERS_HTML.render(
        html_lang=i18n.html_lang(),
        title=_("Overseas buyers — green energy assigned, {month}").format(
            month=settlement.month), periods=list(settlement.buyers)))


# --------------------------------------------------------------------------- PDF

_PDF_NUMERIC = {"quantity", "unit price", "amount", "t", "kWh asked", "kWh assigned",
                "certificates", "FX", "amount CNY", "amount EUR", "amount USD"}
# what the two embedded fonts draw: Latin, punctuation and symbols, and CJK (GB 2312 hanzi,
# CJK and full-width punctuation); anything else is written as "?"
_NOT_DRAWN = re.compile(r"[^\u0000-\u024f\u2000-\u22ff·²³€\u3000-\u303f\u4e00-\u9fff"
                        r"\uff00-\uffef]")


def _pdf_text(text: str) -> str:
    return _NOT_DRAWN.sub("?", text)


def _pad(text: str, width: int, right: bool) -> str:
    """Pad to ``width`` monospace columns (a CJK character takes two)."""
    fill = " " * max(width - i18n.display_width(text), 0)
    return fill + text if right else text + fill


def _write_pdf(path: Path, title: str, header_lines: list[str], table: list[list[str]],
               footer_lines: list[str]) -> None:
    """Text pages (A4, landscape when the table is wider than a portrait page holds) with
    matplotlib's PDF backend; long tables continue on new pages."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    numeric = {i for i, h in enumerate(table[0])
               if h in _PDF_NUMERIC or h.startswith("amount ")} if table else set()
    if table:
        table = [[column_label(h) for h in table[0]], *table[1:]]
    widths = [max(i18n.display_width(r[i]) for r in table)
              for i in range(len(table[0]))] if table else []
    body = ["  ".join(_pad(c, w, i in numeric)
                      for i, (c, w) in enumerate(zip(r, widths, strict=True))) for r in table]
    wrapped = [w for line in (*header_lines, "", *footer_lines) for w in
               (textwrap.wrap(line, 150) or [""])]
    n_head = len([w for line in header_lines for w in (textwrap.wrap(line, 150) or [""])])
    text_lines = [*wrapped[:n_head], "", *body, *wrapped[n_head:]]
    longest = max((i18n.display_width(t) for t in text_lines), default=0)
    size = (8.27, 11.69) if longest <= 160 else (11.69, 8.27)
    # a monospace character is 0.6 em wide: shrink the font so the longest line fits 90 %
    fontsize = min(5.6, size[0] * 72 * 0.9 / (0.6 * max(longest, 1)))
    per_page = 60
    with rc_context(i18n.pdf_font_rc()), PdfPages(
            path, metadata={"Title": _pdf_text(title), "Creator": "greenlink"}) as pdf:
        for start in range(0, max(len(text_lines), 1), per_page):
            fig = Figure(figsize=size)
            fig.text(0.05, 0.965, _pdf_text(title), fontsize=12, weight="bold", va="top",
                     family=i18n.SANS_FAMILY)
            chunk = text_lines[start:start + per_page]
            fig.text(0.05, 0.935, _pdf_text("\n".join(chunk)), fontsize=fontsize, va="top",
                     family=i18n.MONO_FAMILY, linespacing=1.35)
            pdf.savefig(fig)


def _table(pairs: list[tuple[str, Line]], total: Decimal, with_tenant: bool,
           local: str) -> list[list[str]]:
    head = ["tenant"] if with_tenant else []
    rows = [[*head, "item", "period", "quantity", "unit", "unit price", "amount", "FX",
             "payer -> payee", f"amount {local}"]]
    for t, ln in pairs:
        rows.append([*([t] if with_tenant else []), ln.description[:120], ln.period,
                     f"{ln.quantity:,}", ln.unit, str(ln.unit_price),
                     f"{ln.amount:,} {ln.currency}",
                     str(ln.fx_rate) if ln.fx_rate is not None else "",
                     f"{ln.payer} -> {ln.payee}" if ln.payer else "", f"{ln.amount_local:,}"])
    for label, value in _subtotals([ln for _tenant, ln in pairs], local):
        rows.append([*([""] if with_tenant else []), label, "", "", "", "", value, "", "", ""])
    rows.append([*([""] if with_tenant else []), _("TOTAL"), "", "", "", "", "", "", "",
                 f"{total:,}"])
    return rows


def statement_pdf(settlement: Settlement, statement: Statement, path: Path) -> None:
    m = statement.meters
    _write_pdf(path, _("Statement {month} - {tenant}").format(month=statement.month,
                                                              tenant=statement.tenant_name),
               [settlement.scenario_name,
                _("tenant {tenant}, currency {currency}").format(tenant=statement.tenant,
                                                                 currency=statement.currency),
                _("metered: consumption {load} kWh = green {green} + grid {grid}; energy on "
                  "lines {lines} kWh").format(load=f"{m.load_kwh:,}", green=f"{m.green_kwh:,}",
                                              grid=f"{m.grid_kwh:,}",
                                              lines=f"{statement.energy_kwh:,}"),
                *[f"FX: {r.describe()}" for r in settlement.fx_rates]],
               _table([(statement.tenant, ln) for ln in statement.lines], statement.total,
                      with_tenant=False, local=settlement.currency),
               [*settlement.notes, *statement.notes, _rounding(settlement)])


def _rounding(settlement: Settlement) -> str:
    return _("Rounding: {rule}").format(rule=settlement.rounding_rule)


def contract_pdf(settlement: Settlement, contract_id: str, path: Path) -> None:
    rows = settlement.contract_lines(contract_id)
    total = sum((ln.amount_local for _tenant, ln in rows), Decimal("0.00"))
    _write_pdf(path, _("Contract statement {month} - {contract}").format(
                   month=settlement.month, contract=contract_id),
               [settlement.scenario_name, _("settlement currency {currency}").format(
                   currency=settlement.currency)],
               _table(rows, total, with_tenant=True, local=settlement.currency),
               [_rounding(settlement)])


def buyer_statement_pdf(settlement: Settlement, b: BuyerStatement, path: Path) -> None:
    v = b.volume
    header = [_buyer_parties(settlement, b) + f" — {b.buyer_name}",
              f"FX: {_buyer_fx(b)}",
              _("energy: contracted {contracted} kWh = delivered {delivered} + seller shortfall "
                "{shortfall} + buyer under-take {undertake} + above cap {above}").format(
                  contracted=f"{v.contracted_kwh:,}", delivered=f"{v.delivered_kwh:,}",
                  shortfall=f"{v.shortfall_kwh:,}", undertake=f"{v.undertake_kwh:,}",
                  above=f"{v.above_cap_kwh:,}"),
              *[f"{k}: {val}" for k, val in _attribute_rows(b)],
              _(_BUYER_VIEW)]
    _write_pdf(path, _("Buyer statement {month} - {contract}").format(month=b.month,
                                                                      contract=b.contract_id),
               header,
               _table([(b.buyer_id, ln) for ln in b.lines], b.total_local, with_tenant=False,
                      local=b.local_currency),
               [*b.checks, *b.registry, *b.notes, _rounding(settlement), "",
                *[_("Signed for {who}: ______________________ date: __________").format(who=who)
                  for who in _signatories(b)]])


def buyers_pdf(settlement: Settlement, path: Path) -> None:
    table = [["agreement", "buyer", "seller", "shipment", "SKU", "t", "kWh asked",
              "kWh assigned", "certificates"]]  # keys: column_label translates them
    header = []
    for b in settlement.buyers:
        header.append(_buyer_line(b))
        for s in b.shipments:
            table.append([b.agreement_id, b.buyer_id, b.seller, s.shipment_id, s.sku,
                          str(s.quantity_t), f"{s.requested_kwh:,}", f"{s.assigned_kwh:,}",
                          str(s.certificates)])
    _write_pdf(path, _("Overseas buyers - green energy assigned, {month}").format(
        month=settlement.month), header,
               table if len(table) > 1 else [], [])


def _buyer_line(b: BuyerPeriod) -> str:
    return _("{buyer} ({country}), agreement {agreement}: matched {matched} kWh, available "
             "{available}, assigned {assigned} ({certificates} certificates), unassigned "
             "{unassigned}").format(
        buyer=b.buyer_name, country=b.buyer_country, agreement=b.agreement_id,
        matched=f"{b.matched_green_kwh:,}", available=f"{b.available_kwh:,}",
        assigned=f"{b.assigned_kwh:,}", certificates=b.certificates,
        unassigned=f"{b.unassigned_kwh:,}")


# --------------------------------------------------------------------------- files

def _contract_ids(settlement: Settlement) -> list[str]:
    return sorted({c for s in settlement.statements for c in s.contract_ids()})


def write_settlement(settlement: Settlement, out_dir: str | Path,
                     formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write every statement of the month into ``out_dir/<month>/`` (atomic as a folder).

    Layout: ``settlement.json``; ``tenants/<tenant>.{json,html,pdf}``;
    ``contracts/<contract>.{json,html,pdf}``; ``buyers.{json,html,pdf}`` (green supply
    agreements); ``buyers/<contract>.{json,html,pdf}`` (one statement per PPA with a buyer
    outside the park). The month's folder is assembled in a temporary folder and moved into
    place only when complete.
    """
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown formats {sorted(unknown)}; use {FORMATS}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".settle-", dir=out))
    try:
        (tmp / "tenants").mkdir()
        (tmp / "contracts").mkdir()

        def dump(path: Path, data: dict[str, Any]) -> None:
            path.write_text(jsonio.dumps(data), encoding="utf-8")

        dump(tmp / "settlement.json", settlement_dict(settlement))
        def write(base: Path, data: Callable[[], dict[str, Any]], html: Callable[[], str],
                  pdf: Callable[[Path], None]) -> None:
            """One statement in each format asked for: ``base``.json/.html/.pdf."""
            if "json" in formats:
                dump(base.with_suffix(".json"), data())
            if "html" in formats:
                base.with_suffix(".html").write_text(html(), encoding="utf-8")
            if "pdf" in formats:
                pdf(base.with_suffix(".pdf"))

        for st in settlement.statements:
            write(tmp / "tenants" / st.tenant, partial(statement_dict, settlement, st),
                  partial(statement_html, settlement, st), partial(statement_pdf, settlement, st))
        for cid in _contract_ids(settlement):
            write(tmp / "contracts" / cid, partial(contract_dict, settlement, cid),
                  partial(contract_html, settlement, cid), partial(contract_pdf, settlement, cid))
        if settlement.buyer_statements:
            (tmp / "buyers").mkdir()
        for b in settlement.buyer_statements:
            write(tmp / "buyers" / b.contract_id, partial(buyer_statement_dict, settlement, b),
                  partial(buyer_statement_html, settlement, b),
                  partial(buyer_statement_pdf, settlement, b))
        if "json" in formats:
            dump(tmp / "buyers.json", buyers_dict(settlement))
        if "html" in formats:
            (tmp / "buyers.html").write_text(buyers_html(settlement), encoding="utf-8")
        if "pdf" in formats:
            buyers_pdf(settlement, tmp / "buyers.pdf")
        target = out / settlement.month
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=".settle-old-", dir=out))
            os.replace(target, old / "month")
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
        return sorted(p for p in target.rglob("*") if p.is_file())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
