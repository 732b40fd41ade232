"""The "Optimisation" section of report.html: sizes, what binds, costs, how the optimum was found
and how it compares with ``simulate`` (escaped HTML, the report's own styles, no scripts)."""

from __future__ import annotations

import html
from typing import Any

from greenlink.i18n import N_
from greenlink.i18n import gettext as _
from greenlink.report.numbers import format_fixed, format_number


def _num(x: Any, digits: int = 0) -> str:
    """A number in plain notation with thousands separators (never 1e+07)."""
    return format_fixed(x, digits)


_COST_LABELS = {
    "pv_annuity_and_om": N_("PV: capex (annuity) and O&M"),
    "wind_annuity_and_om": N_("wind: capex (annuity) and O&M"),
    "battery_energy_annuity": N_("battery energy: capex (annuity)"),
    "battery_power_annuity_and_om": N_("battery power: capex (annuity) and O&M"),
    "battery_variable_om": N_("battery: variable O&M"),
    "import_energy_cost": N_("grid purchases (energy at the tariff)"),
    "carbon_cost": N_("carbon cost"),
    "fee_system_operation": N_("direct-line fee: system operation"),
    "fee_cross_subsidy": N_("direct-line fee: policy cross-subsidy"),
    "fee_re_fund": N_("direct-line fee: renewable energy fund"),
    "fee_other_funds": N_("direct-line fee: other government funds"),
    "td_capacity_charge": N_("T&D capacity charge"),
    "export_revenue": N_("export revenue"),
    "demand_charge": N_("demand charge"),
    "penalties_for_missed_rules": N_("penalties for missed rules"),
    "total": N_("total"),
}
_COST_HEADING = N_("Cost of the modelled period: capex, O&M, energy and fees")
_COST_NOTE = N_("The total contains the capex of the chosen sizes as an annuity over their "
                "lifetimes (discount rate {rate}), their O&M, the grid purchases at the tariff, "
                "the direct-line fees and charges ({fees}) and the demand charge, less the "
                "export revenue. The Cost table of the energy flows above counts the energy at "
                "the tariff only.")
_COST_NOTE_FINANCE = N_("The lifetime finance section below carries the same costs year by "
                        "year.")


def _cost_label(key: str) -> str:
    if key in _COST_LABELS:
        return _(_COST_LABELS[key])
    if key.startswith("fee_"):
        return _("direct-line fee: {name}").format(
            name=key.removeprefix("fee_").replace("_", " "))
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
    rows = [(_("PV {id}").format(id=k), f"{_num(v)} kWp") for k, v in sizes["pv_kw_dc"].items()]
    rows += [(_("wind {id}").format(id=k), f"{_num(v)} kW") for k, v in sizes["wind_kw"].items()]
    batteries = sizes.get("batteries") or {}
    for bid, b in batteries.items():
        name = _("battery {id}").format(id=bid) if len(batteries) > 1 else _("battery")
        rows.append((name, f"{_num(b['energy_kwh'])} kWh / {_num(b['power_kw'])} kW"))
    if not batteries:
        rows.append((_("battery"), _("none")))
    return rows


def optimization_html(opt: dict[str, Any], with_finance: bool = False) -> str:
    """HTML of the optimisation results (``with_finance``: the page also has the lifetime
    finance section, which the cost note points to)."""
    cur = opt.get("currency", "")
    method = opt.get("method", {})
    status = _("all rules and targets met") if opt["feasible"] else _("INFEASIBLE as posed")
    parts = ["<section id='optimization'><h2>" + html.escape(_("Optimisation (HiGHS)"))
             + "</h2>", "<p>" + html.escape(_("Status: {status}; {verdict}.").format(
                 status=opt["status"], verdict=status)) + "</p>"]
    gap = method.get("gap")
    if method.get("dispatch") == "relaxed":
        dep = method.get("departures", {})
        msgs = dep.get("messages", [])
        text = _("the plain LP (relaxed dispatch)")
        if msgs:
            worth = method.get("worth_of_departures")
            extra = " " + _("A realizable dispatch at these sizes costs {amount} {currency} "
                            "more.").format(amount=_num(worth), currency=cur) \
                if worth is not None else ""
            parts.append("<div class='note'><b>"
                         + html.escape(_("This dispatch cannot happen as computed."))
                         + "</b> " + html.escape(_("It {reasons}.").format(
                             reasons="; ".join(msgs)) + extra)
                         + "</div>")
        parts.append("<p class='muted'>" + html.escape(_("Method: {method}.").format(
            method=text)) + "</p>")
    else:
        found = _("exact at these generation sizes") if gap is None else _(
            "within {gap} % of the least cost (lower bound {bound} {currency})").format(
            gap=f"{100 * gap:.2f}", bound=_num(method.get("lower_bound")), currency=cur)
        parts.append("<p class='muted'>" + html.escape(_(
            "Method: realizable dispatch (green serves the loads first; batteries charge only "
            "from green left over unless grid charging is allowed; never import and export "
            "together), {found}.").format(found=found)) + "</p>")
    departure = method.get("allocation_departure")
    if departure:
        parts.append(f"<div class='note'>{html.escape(departure['message'])}</div>")
    rate = (opt.get("cost_parameters") or {}).get("discount_rate")
    fees = (opt.get("direct_line_fees") or {}).get("source") or _("none")
    parts += ["<div class='grid2'><div><h3>" + html.escape(_("Sizes")) + "</h3>",
              _kv(_sizes(opt)), "</div><div>",
              f"<h3>{html.escape(_(_COST_HEADING))}</h3>",
              _kv([(_cost_label(k), f"{_num(v)} {cur}")
                   for k, v in opt["cost_breakdown"].items()
                   if v is not None and (abs(v) > 0.5 or k == "total")]
                  + [(_("levelised cost of green supply"),
                      f"{_num(opt['lcoe_green_per_kwh'], 4)} {cur}/kWh")]),
              "<p class='muted'>" + html.escape(_(_COST_NOTE).format(
                  rate="–" if rate is None else f"{format_number(100 * float(rate))} %",
                  fees=fees) + (" " + _(_COST_NOTE_FINANCE) if with_finance else "")) + "</p>",
              "</div></div>"]
    binding = opt.get("binding", [])
    parts.append("<h3>" + html.escape(_("What binds")) + "</h3>")
    if binding:
        parts.append("<ul>" + "".join(f"<li>{html.escape(b['message'])}</li>" for b in binding)
                     + "</ul>")
    else:
        parts.append("<p class='muted'>" + html.escape(
            _("No size sits at a bound and no rule or target binds.")) + "</p>")
    req_rows = [[f"{r['id']}", r["scope"], r["period"],
                 f"{r['operator']} {_threshold(r['threshold'])}",
                 (_("binds") if r["binding"] else _("met")) if r["met"] else
                 _("missed by {points} points").format(points=f"{r['relax_by_points']:.2f}"),
                 _num(r["shadow_price_per_point"]) if r["binding"] else ""]
                for r in opt["requirements"]]
    if req_rows:
        parts += ["<h3>" + html.escape(_("Rules and targets")) + "</h3>",
                  _table([_("requirement"), _("scope"), _("period"), _("threshold"), _("state"),
                          _("saving per point ({currency})").format(currency=cur)],
                         req_rows, {5})]
    if opt["relaxations_needed"]:
        parts.append("<h3>" + html.escape(_("What must relax")) + "</h3><ul>" + "".join(
            f"<li>{html.escape(r['message'])}</li>" for r in opt["relaxations_needed"])
            + "</ul>")
    agreement = opt.get("agreement")
    if agreement:
        heading = _("Optimiser and simulate at these sizes: they agree") if agreement["agree"] \
            else _("Optimiser and simulate at these sizes: they differ")
        cost = agreement["cost"]
        parts.append(f"<h3>{html.escape(heading)}</h3>")
        rows = [[k["scope"], k["kpi"].replace("_", " "),
                 _num(100 * k["optimiser"], 2) if k["optimiser"] is not None else "–",
                 _num(100 * k["simulate"], 2) if k["simulate"] is not None else "–",
                 _num(k["difference_points"], 2)] for k in agreement["kpis"]]
        rows.append(["park", _("cost ({currency})").format(currency=cur), _num(cost["optimiser"]),
                     _num(cost["simulate"]),
                     f"{100 * cost['relative_difference']:+.2f} %"])
        parts.append(_table([_("scope"), _("share (%)"), _("optimiser"), _("simulate"),
                             _("difference (points)")], rows, {2, 3, 4}))
        if agreement["reasons"]:
            parts.append("<p>" + html.escape(_("Why they differ:")) + "</p><ul>" + "".join(
                f"<li>{html.escape(r)}</li>" for r in agreement["reasons"]) + "</ul>")
    monthly = opt.get("monthly_costs") or []
    if monthly:
        rows = [[m["month"], _num(m["import_energy_cost"]),
                 _num(sum(v for k, v in m.items() if k.startswith("fee_"))),
                 _num(m["td_capacity_charge"]), _num(m.get("demand_charge", 0.0)),
                 _num(m["export_revenue"]), _num(m["total"])] for m in monthly]
        parts += ["<h3>" + html.escape(_("Operating cost by month")) + "</h3>",
                  _table([_("month"), _("import"), _("direct-line fees"), _("T&D capacity"),
                          _("demand charge"), _("export"), _("total")], rows,
                         {1, 2, 3, 4, 5, 6})]
    stages = method.get("stages", [])
    if stages:
        rows = [[s["name"], _num(s["columns"]), _num(s["rows"]), _num(s["solve_seconds"], 1),
                 _num(s["objective"])] for s in stages]
        parts += ["<h3>" + html.escape(_("Solves")) + "</h3>",
                  _table([_("solve"), _("columns"), _("rows"), _("seconds"),
                          _("objective ({currency})").format(currency=cur)], rows,
                         {1, 2, 3, 4})]
    parts.append("</section>")
    return "".join(parts)
