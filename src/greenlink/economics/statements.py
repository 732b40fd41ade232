"""Renderers of a :class:`~greenlink.economics.settlement.Settlement`: JSON, HTML and PDF.

One statement per tenant (all its lines) and one per contract (the lines under that contract,
across tenants), plus the overseas buyers' view. JSON keeps every amount as a decimal string
(exact); HTML is one self-contained file (inline CSS, no network); PDF is drawn with matplotlib's
PDF backend (text only, no network, no fonts beyond matplotlib's own).
:func:`write_settlement` writes everything into a folder atomically.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import textwrap
from dataclasses import asdict, is_dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2

from greenlink import flows, jsonio
from greenlink.economics.buyers import BuyerPeriod
from greenlink.economics.settlement import Line, Settlement, Statement

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


def statement_dict(settlement: Settlement, statement: Statement) -> dict[str, Any]:
    """A tenant statement as JSON-ready data (amounts as decimal strings)."""
    return {
        "kind": "tenant_statement", "scenario": settlement.scenario_name,
        "month": statement.month, "tenant": statement.tenant,
        "tenant_name": statement.tenant_name, "currency": statement.currency,
        "meters_kwh": _plain(statement.meters), "energy_lines_kwh": str(statement.energy_kwh),
        "lines": [_line_dict(ln) for ln in statement.lines], "total": str(statement.total),
        "contracts": statement.contract_ids(),
        "contract_totals_kwh": [_plain(c) for c in statement.contracts],
        "rounding_rule": settlement.rounding_rule,
        "fees": {"source": Path(settlement.fee_source).name,
                 "as_of": settlement.fees_as_of.isoformat()},
        "notes": list(settlement.notes) + list(statement.notes),
    }


def contract_dict(settlement: Settlement, contract_id: str) -> dict[str, Any]:
    """One contract's lines across tenants, with its totals."""
    rows = settlement.contract_lines(contract_id)
    energy = sum((ln.quantity for _, ln in rows if ln.energy), Decimal("0.000"))
    return {
        "kind": "contract_statement", "scenario": settlement.scenario_name,
        "month": settlement.month, "contract_id": contract_id, "currency": settlement.currency,
        "lines": [{"tenant": t, **_line_dict(ln)} for t, ln in rows],
        "energy_kwh": str(energy),
        "total": str(sum((ln.amount for _, ln in rows), Decimal("0.00"))),
        "rounding_rule": settlement.rounding_rule,
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
        "fees_as_of": settlement.fees_as_of.isoformat(), "notes": list(settlement.notes),
    }


# --------------------------------------------------------------------------- HTML

_HTML = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string("""\
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:70em}
table{border-collapse:collapse;margin:1em 0;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;font-size:.9em}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:bold;border-top:2px solid #222}
.note{color:#555;font-size:.85em}
</style></head><body>
<h1>{{ title }}</h1>
<p>{{ subtitle }}</p>
{% if meters %}<h2>Metered energy</h2>
<table><tr><th>consumption kWh</th><th>green kWh</th><th>grid kWh</th><th>energy on lines kWh</th>
</tr><tr><td class="n">{{ meters.load_kwh }}</td><td class="n">{{ meters.green_kwh }}</td>
<td class="n">{{ meters.grid_kwh }}</td><td class="n">{{ energy_kwh }}</td></tr></table>{% endif %}
{% if contracts %}<h2>Contracts (kWh)</h2>
<table><tr><th>contract</th><th>kind</th><th class="n">contracted</th><th class="n">delivered</th>
<th class="n">shortfall</th><th class="n">surplus taken</th></tr>
{% for c in contracts %}<tr><td>{{ c.contract_id }}</td><td>{{ c.kind }}</td>
<td class="n">{{ c.contracted_kwh }}</td><td class="n">{{ c.delivered_kwh }}</td>
<td class="n">{{ c.shortfall_kwh }}</td><td class="n">{{ c.surplus_kwh }}</td></tr>{% endfor %}
</table>{% endif %}
<h2>Lines</h2>
<table><tr>{% for h in headers %}<th{% if h in numeric %} class="n"{% endif %}>{{ h }}</th>
{% endfor %}</tr>
{% for row in rows %}<tr>{% for h in headers %}<td{% if h in numeric %} class="n"{% endif %}>
{{ row[h] }}</td>{% endfor %}</tr>{% endfor %}
<tr class="total"><td colspan="{{ headers|length - 1 }}">Total ({{ currency }})</td>
<td class="n">{{ total }}</td></tr></table>
{% for n in notes %}<p class="note">{{ n }}</p>{% endfor %}
<p class="note">Rounding: {{ rounding }}</p>
</body></html>
""")

_BUYERS_HTML = jinja2.Environment(autoescape=True).from_string("""\
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.3em .6em}
td.n{text-align:right}</style></head><body><h1>{{ title }}</h1>
{% for b in periods %}<h2>{{ b.buyer_name }} ({{ b.buyer_country }}) — agreement
{{ b.agreement_id }}</h2><p>Seller {{ b.seller }}, {{ b.month }}: matched green
{{ b.matched_green_kwh }} kWh, available to this agreement {{ b.available_kwh }} kWh,
assigned {{ b.assigned_kwh }} kWh
({{ b.certificates }} certificates of 1 MWh), unassigned {{ b.unassigned_kwh }} kWh.</p>
<table><tr><th>shipment</th><th>SKU</th><th>t</th><th>electricity kWh</th><th>green assigned kWh
</th><th>green share</th><th>certificates</th></tr>
{% for s in b.shipments %}<tr><td>{{ s.shipment_id }}</td><td>{{ s.sku }}</td>
<td class="n">{{ s.quantity_t }}</td><td class="n">{{ s.requested_kwh }}</td>
<td class="n">{{ s.assigned_kwh }}</td><td class="n">{{ s.green_share }}</td>
<td class="n">{{ s.certificates }}</td></tr>{% endfor %}</table>{% endfor %}
{% if not periods %}<p>No green supply agreement is active in this month.</p>{% endif %}
</body></html>
""")

_HEADERS = ["tenant", "item", "contract", "period", "quantity", "unit", "unit price", "amount"]
_NUMERIC = {"quantity", "unit price", "amount"}


def _rows(pairs: list[tuple[str, Line]]) -> list[dict[str, str]]:
    return [{"tenant": t, "item": ln.description, "contract": ln.contract_id or "",
             "period": ln.period, "quantity": f"{ln.quantity:,}", "unit": ln.unit,
             "unit price": str(ln.unit_price), "amount": f"{ln.amount:,}"} for t, ln in pairs]


def statement_html(settlement: Settlement, statement: Statement) -> str:
    headers = [h for h in _HEADERS if h != "tenant"]
    return _HTML.render(
        title=f"Statement {statement.month} — {statement.tenant_name}",
        subtitle=f"{settlement.scenario_name}; tenant {statement.tenant}; "
                 f"{settlement.intervals} intervals of {settlement.interval_minutes} min",
        meters=statement.meters, energy_kwh=statement.energy_kwh, headers=headers,
        contracts=list(statement.contracts),
        numeric=_NUMERIC, rows=_rows([(statement.tenant, ln) for ln in statement.lines]),
        currency=statement.currency, total=f"{statement.total:,}",
        notes=list(settlement.notes), rounding=settlement.rounding_rule)


def contract_html(settlement: Settlement, contract_id: str) -> str:
    rows = settlement.contract_lines(contract_id)
    return _HTML.render(
        title=f"Contract statement {settlement.month} — {contract_id}",
        subtitle=settlement.scenario_name, meters=None, energy_kwh="", headers=_HEADERS,
        contracts=[],
        numeric=_NUMERIC, rows=_rows(rows), currency=settlement.currency,
        total=f"{sum((ln.amount for _, ln in rows), Decimal('0.00')):,}", notes=[],
        rounding=settlement.rounding_rule)


def buyers_html(settlement: Settlement) -> str:
    return _BUYERS_HTML.render(title=f"Overseas buyers — green energy assigned, "
                               f"{settlement.month}", periods=list(settlement.buyers))


# --------------------------------------------------------------------------- PDF

_PDF_NUMERIC = {"quantity", "unit price", "amount", "t", "kWh asked", "kWh assigned",
                "certificates"}
_NON_LATIN = re.compile(r"[^\u0000-\u024f\u2000-\u22ff·²³€]")


def _pdf_text(text: str) -> str:
    return _NON_LATIN.sub("?", text)


def _write_pdf(path: Path, title: str, header_lines: list[str], table: list[list[str]],
               footer_lines: list[str]) -> None:
    """Text pages (A4 portrait) with matplotlib's PDF backend; long tables continue on new pages."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))] if table else []
    numeric = {i for i, h in enumerate(table[0]) if h in _PDF_NUMERIC} if table else set()
    body = ["  ".join(c.rjust(w) if i in numeric else c.ljust(w)
                      for i, (c, w) in enumerate(zip(r, widths, strict=True))) for r in table]
    wrapped = [w for line in (*header_lines, "", *footer_lines) for w in
               (textwrap.wrap(line, 150) or [""])]
    n_head = len([w for line in header_lines for w in (textwrap.wrap(line, 150) or [""])])
    text_lines = [*wrapped[:n_head], "", *body, *wrapped[n_head:]]
    per_page = 60
    with PdfPages(path, metadata={"Title": _pdf_text(title), "Creator": "greenlink"}) as pdf:
        for start in range(0, max(len(text_lines), 1), per_page):
            fig = Figure(figsize=(8.27, 11.69))
            fig.text(0.05, 0.965, _pdf_text(title), fontsize=12, weight="bold", va="top")
            chunk = text_lines[start:start + per_page]
            fig.text(0.05, 0.935, _pdf_text("\n".join(chunk)), fontsize=5.6, va="top",
                     family="monospace", linespacing=1.35)
            pdf.savefig(fig)


def _table(pairs: list[tuple[str, Line]], total: Decimal, with_tenant: bool) -> list[list[str]]:
    head = ["tenant"] if with_tenant else []
    rows = [[*head, "item", "period", "quantity", "unit", "unit price", "amount"]]
    for t, ln in pairs:
        rows.append([*([t] if with_tenant else []), ln.description[:80], ln.period,
                     f"{ln.quantity:,}", ln.unit, str(ln.unit_price), f"{ln.amount:,}"])
    rows.append([*([""] if with_tenant else []), "TOTAL", "", "", "", "", f"{total:,}"])
    return rows


def statement_pdf(settlement: Settlement, statement: Statement, path: Path) -> None:
    m = statement.meters
    _write_pdf(path, f"Statement {statement.month} - {statement.tenant_name}",
               [settlement.scenario_name, f"tenant {statement.tenant}, currency "
                f"{statement.currency}", f"metered: consumption {m.load_kwh:,} kWh = green "
                f"{m.green_kwh:,} + grid {m.grid_kwh:,}; energy on lines "
                f"{statement.energy_kwh:,} kWh"],
               _table([(statement.tenant, ln) for ln in statement.lines], statement.total,
                      with_tenant=False),
               [*settlement.notes, f"Rounding: {settlement.rounding_rule}"])


def contract_pdf(settlement: Settlement, contract_id: str, path: Path) -> None:
    rows = settlement.contract_lines(contract_id)
    total = sum((ln.amount for _, ln in rows), Decimal("0.00"))
    _write_pdf(path, f"Contract statement {settlement.month} - {contract_id}",
               [settlement.scenario_name, f"currency {settlement.currency}"],
               _table(rows, total, with_tenant=True), [f"Rounding: {settlement.rounding_rule}"])


def buyers_pdf(settlement: Settlement, path: Path) -> None:
    table = [["agreement", "buyer", "seller", "shipment", "SKU", "t", "kWh asked",
              "kWh assigned", "certificates"]]
    header = []
    for b in settlement.buyers:
        header.append(_buyer_line(b))
        for s in b.shipments:
            table.append([b.agreement_id, b.buyer_id, b.seller, s.shipment_id, s.sku,
                          str(s.quantity_t), f"{s.requested_kwh:,}", f"{s.assigned_kwh:,}",
                          str(s.certificates)])
    _write_pdf(path, f"Overseas buyers - green energy assigned, {settlement.month}", header,
               table if len(table) > 1 else [], [])


def _buyer_line(b: BuyerPeriod) -> str:
    return (f"{b.buyer_name} ({b.buyer_country}), agreement {b.agreement_id}: matched "
            f"{b.matched_green_kwh:,} kWh, available {b.available_kwh:,}, assigned "
            f"{b.assigned_kwh:,} ({b.certificates} certificates), unassigned "
            f"{b.unassigned_kwh:,}")


# --------------------------------------------------------------------------- files

def _contract_ids(settlement: Settlement) -> list[str]:
    return sorted({c for s in settlement.statements for c in s.contract_ids()})


def write_settlement(settlement: Settlement, out_dir: str | Path,
                     formats: tuple[str, ...] = FORMATS) -> list[Path]:
    """Write every statement of the month into ``out_dir/<month>/`` (atomic as a folder).

    Layout: ``settlement.json``; ``tenants/<tenant>.{json,html,pdf}``;
    ``contracts/<contract>.{json,html,pdf}``; ``buyers.{json,html,pdf}``. The month's folder is
    assembled in a temporary folder and moved into place only when complete.
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
        for st in settlement.statements:
            base = tmp / "tenants" / st.tenant
            if "json" in formats:
                dump(base.with_suffix(".json"), statement_dict(settlement, st))
            if "html" in formats:
                base.with_suffix(".html").write_text(statement_html(settlement, st),
                                                     encoding="utf-8")
            if "pdf" in formats:
                statement_pdf(settlement, st, base.with_suffix(".pdf"))
        for cid in _contract_ids(settlement):
            base = tmp / "contracts" / cid
            if "json" in formats:
                dump(base.with_suffix(".json"), contract_dict(settlement, cid))
            if "html" in formats:
                base.with_suffix(".html").write_text(contract_html(settlement, cid),
                                                     encoding="utf-8")
            if "pdf" in formats:
                contract_pdf(settlement, cid, base.with_suffix(".pdf"))
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
