"""The "Optimisation" section of report.html: sizes, what binds, costs, how the optimum was found
and how it compares with ``simulate`` (escaped HTML, the report's own styles, no scripts)."""

from __future__ import annotations

import html
from typing import Any

from greenlink.report.numbers import format_fixed, format_number


def _num(x: Any, digits: int = 0) -> str:
    """A number in plain notation with thousands separators (never 1e+07)."""
    return format_fixed(x, digits)


# user-facing texts of the section (one place, for translation later)
_COST_LABELS = {
    "pv_annuity_and_om": "PV: capex (annuity) and O&M",
    "wind_annuity_and_om": "wind: capex (annuity) and O&M",
    "battery_energy_annuity": "battery energy: capex (annuity)",
    "battery_power_annuity_and_om": "battery power: capex (annuity) and O&M",
    "battery_variable_om": "battery: variable O&M",
    "import_energy_cost": "grid purchases (energy at the tariff)",
    "carbon_cost": "carbon cost",
    "fee_system_operation": "direct-line fee: system operation",
    "fee_cross_subsidy": "direct-line fee: policy cross-subsidy",
    "fee_re_fund": "direct-line fee: renewable energy fund",
    "fee_other_funds": "direct-line fee: other government funds",
    "td_capacity_charge": "T&D capacity charge",
    "export_revenue": "export revenue",
    "demand_charge": "demand charge",
    "penalties_for_missed_rules": "penalties for missed rules",
    "total": "total",
}
_COST_HEADING = "Cost of the modelled period: capex, O&M, energy and fees"
_COST_NOTE = ("The total contains the capex of the chosen sizes as an annuity over their "
              "lifetimes (discount rate {rate}), their O&M, the grid purchases at the tariff, "
              "the direct-line fees and charges ({fees}) and the demand charge, less the export "
              "revenue. The Cost table of the energy flows above counts the energy at the tariff "
              "only.")
_COST_NOTE_FINANCE = " The lifetime finance section below carries the same costs year by year."


def _cost_label(key: str) -> str:
    if key in _COST_LABELS:
        return _COST_LABELS[key]
    if key.startswith("fee_"):
        return "direct-line fee: " + key.removeprefix("fee_").replace("_", " ")
    return key.replace("_", " ")


def _threshold(value: Any) -> str:
    """A rule's threshold as written, in plain notation (``0.3``, ``220``, ``1,500,000``)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return format_number(value)


def _kv(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{html.escape(a)}</th><td class='num'>{html.escape(b)}</td></tr>"
                   for a, b in rows)
    return f"<table class='kv'>{body}</table>"


def _table(head: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    num = " class='num'"
    body = "".join("<tr>" + "".join(
        f"<td{num if i in numeric else ''}>{html.escape(c)}</td>"
        for i, c in enumerate(r)) + "</tr>" for r in rows)
    return (f"<div class='table-wrap'><table><thead><tr>{th}</tr></thead><tbody>{body}"
            "</tbody></table></div>")


def _sizes(opt: dict[str, Any]) -> list[tuple[str, str]]:
    sizes = opt["sizes"]
    rows = [(f"PV {k}", f"{_num(v)} kWp") for k, v in sizes["pv_kw_dc"].items()]
    rows += [(f"wind {k}", f"{_num(v)} kW") for k, v in sizes["wind_kw"].items()]
    batteries = sizes.get("batteries") or {}
    for bid, b in batteries.items():
        name = f"battery {bid}" if len(batteries) > 1 else "battery"
        rows.append((name, f"{_num(b['energy_kwh'])} kWh / {_num(b['power_kw'])} kW"))
    if not batteries:
        rows.append(("battery", "none"))
    return rows


def optimization_html(opt: dict[str, Any], with_finance: bool = False) -> str:
    """HTML of the optimisation results (``with_finance``: the page also has the lifetime
    finance section, which the cost note points to)."""
    cur = opt.get("currency", "")
    method = opt.get("method", {})
    status = "all rules and targets met" if opt["feasible"] else "INFEASIBLE as posed"
    parts = ["<section id='optimization'><h2>Optimisation (HiGHS)</h2>",
             f"<p>Status: {html.escape(str(opt['status']))}; {status}.</p>"]
    gap = method.get("gap")
    if method.get("dispatch") == "relaxed":
        dep = method.get("departures", {})
        msgs = dep.get("messages", [])
        text = "the plain LP (relaxed dispatch)"
        if msgs:
            worth = method.get("worth_of_departures")
            extra = f" A realizable dispatch at these sizes costs {_num(worth)} {cur} more." \
                if worth is not None else ""
            parts.append("<div class='note'><b>This dispatch cannot happen as computed.</b> It "
                         + "; ".join(html.escape(m) for m in msgs) + "." + html.escape(extra)
                         + "</div>")
        parts.append(f"<p class='muted'>Method: {html.escape(text)}.</p>")
    else:
        found = "exact at these generation sizes" if gap is None else \
            f"within {100 * gap:.2f} % of the least cost (lower bound " \
            f"{_num(method.get('lower_bound'))} {cur})"
        parts.append("<p class='muted'>Method: realizable dispatch (green serves the loads "
                     "first; batteries charge only from green left over unless grid charging "
                     "is allowed; never import and export together), " + html.escape(found)
                     + ".</p>")
    departure = method.get("allocation_departure")
    if departure:
        parts.append(f"<div class='note'>{html.escape(departure['message'])}</div>")
    rate = (opt.get("cost_parameters") or {}).get("discount_rate")
    fees = (opt.get("direct_line_fees") or {}).get("source") or "none"
    parts += ["<div class='grid2'><div><h3>Sizes</h3>", _kv(_sizes(opt)), "</div><div>",
              f"<h3>{html.escape(_COST_HEADING)}</h3>",
              _kv([(_cost_label(k), f"{_num(v)} {cur}")
                   for k, v in opt["cost_breakdown"].items()
                   if v is not None and (abs(v) > 0.5 or k == "total")]
                  + [("levelised cost of green supply",
                      f"{_num(opt['lcoe_green_per_kwh'], 4)} {cur}/kWh")]),
              "<p class='muted'>" + html.escape(_COST_NOTE.format(
                  rate="–" if rate is None else f"{format_number(100 * float(rate))} %",
                  fees=fees) + (_COST_NOTE_FINANCE if with_finance else "")) + "</p>",
              "</div></div>"]
    binding = opt.get("binding", [])
    parts.append("<h3>What binds</h3>")
    if binding:
        parts.append("<ul>" + "".join(f"<li>{html.escape(b['message'])}</li>" for b in binding)
                     + "</ul>")
    else:
        parts.append("<p class='muted'>No size sits at a bound and no rule or target binds.</p>")
    req_rows = [[f"{r['id']}", r["scope"], r["period"],
                 f"{r['operator']} {_threshold(r['threshold'])}",
                 ("binds" if r["binding"] else "met") if r["met"] else
                 f"missed by {r['relax_by_points']:.2f} points",
                 _num(r["shadow_price_per_point"]) if r["binding"] else ""]
                for r in opt["requirements"]]
    if req_rows:
        parts += ["<h3>Rules and targets</h3>",
                  _table(["requirement", "scope", "period", "threshold", "state",
                          f"saving per point ({cur})"], req_rows, {5})]
    if opt["relaxations_needed"]:
        parts.append("<h3>What must relax</h3><ul>" + "".join(
            f"<li>{html.escape(r['message'])}</li>" for r in opt["relaxations_needed"])
            + "</ul>")
    agreement = opt.get("agreement")
    if agreement:
        verdict = "agree" if agreement["agree"] else "differ"
        cost = agreement["cost"]
        parts.append(f"<h3>Optimiser and simulate at these sizes: they {verdict}</h3>")
        rows = [[k["scope"], k["kpi"].replace("_", " "),
                 _num(100 * k["optimiser"], 2) if k["optimiser"] is not None else "–",
                 _num(100 * k["simulate"], 2) if k["simulate"] is not None else "–",
                 _num(k["difference_points"], 2)] for k in agreement["kpis"]]
        rows.append(["park", f"cost ({cur})", _num(cost["optimiser"]), _num(cost["simulate"]),
                     f"{100 * cost['relative_difference']:+.2f} %"])
        parts.append(_table(["scope", "share (%)", "optimiser", "simulate",
                             "difference (points)"], rows, {2, 3, 4}))
        if agreement["reasons"]:
            parts.append("<p>Why they differ:</p><ul>" + "".join(
                f"<li>{html.escape(r)}</li>" for r in agreement["reasons"]) + "</ul>")
    monthly = opt.get("monthly_costs") or []
    if monthly:
        rows = [[m["month"], _num(m["import_energy_cost"]),
                 _num(sum(v for k, v in m.items() if k.startswith("fee_"))),
                 _num(m["td_capacity_charge"]), _num(m.get("demand_charge", 0.0)),
                 _num(m["export_revenue"]), _num(m["total"])] for m in monthly]
        parts += ["<h3>Operating cost by month</h3>",
                  _table(["month", "import", "direct-line fees", "T&D capacity", "demand charge",
                          "export", "total"], rows, {1, 2, 3, 4, 5, 6})]
    stages = method.get("stages", [])
    if stages:
        rows = [[s["name"], _num(s["columns"]), _num(s["rows"]), _num(s["solve_seconds"], 1),
                 _num(s["objective"])] for s in stages]
        parts += ["<h3>Solves</h3>",
                  _table(["solve", "columns", "rows", "seconds", f"objective ({cur})"], rows,
                         {1, 2, 3, 4})]
    parts.append("</section>")
    return "".join(parts)
