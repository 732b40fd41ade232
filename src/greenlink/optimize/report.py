"""An "Optimisation" section (sizes, costs, rules with shadow prices) added to report.html."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any


def _table(rows: list[tuple[str, str]], head: tuple[str, str] = ("item", "value")) -> str:
    body = "".join(f"<tr><td>{html.escape(a)}</td><td style='text-align:right'>{html.escape(b)}"
                   "</td></tr>" for a, b in rows)
    return (f"<table><thead><tr><th>{head[0]}</th><th>{head[1]}</th></tr></thead>"
            f"<tbody>{body}</tbody></table>")


def optimization_html(opt: dict[str, Any]) -> str:
    """HTML of the optimisation results (escaped; no scripts)."""
    cur = opt.get("currency", "")
    sizes = opt["sizes"]
    size_rows = [(f"PV {k} (kWp)", f"{v:,.0f}") for k, v in sizes["pv_kw_dc"].items()]
    size_rows += [(f"wind {k} (kW)", f"{v:,.0f}") for k, v in sizes["wind_kw"].items()]
    size_rows += [("battery energy (kWh)", f"{sizes['battery_kwh']:,.0f}"),
                  ("battery power (kW)", f"{sizes['battery_kw']:,.0f}")]
    cost_rows = [(k.replace("_", " "), f"{v:,.0f} {cur}") for k, v in
                 opt["cost_breakdown"].items()]
    cost_rows.append(("levelised cost of green supply", f"{opt['lcoe_green_per_kwh']:.4f} "
                      f"{cur}/kWh"))
    req_rows = [(f"{r['id']} [{r['scope']}, {r['period']}] {r['operator']} {r['threshold']:g}",
                 ("binding, relaxing 1 point saves "
                  f"{r['shadow_price_per_point']:,.0f} {cur}") if r["binding"] else
                 ("met" if r["met"] else f"MISSED by {r['relax_by_points']:.2f} points"))
                for r in opt["requirements"]]
    parts = ["<section id='optimization'><h2>Optimisation (HiGHS)</h2>",
             f"<p>Status: {html.escape(str(opt['status']))}; "
             f"{'feasible' if opt['feasible'] else 'INFEASIBLE as posed'}.</p>",
             "<h3>Sizes</h3>", _table(size_rows),
             "<h3>Cost breakdown (modelled period)</h3>", _table(cost_rows),
             "<h3>Rules and targets</h3>", _table(req_rows, ("requirement", "state"))]
    if opt["relaxations_needed"]:
        parts.append("<h3>What must relax</h3><ul>" + "".join(
            f"<li>{html.escape(r['message'])}</li>" for r in opt["relaxations_needed"])
            + "</ul>")
    parts.append("</section>")
    return "".join(parts)


def append_optimization_section(report_path: Path, opt: dict[str, Any]) -> None:
    """Insert the section before ``</body>`` of an existing report (atomic replace)."""
    text = report_path.read_text(encoding="utf-8")
    section = optimization_html(opt)
    pos = text.rfind("</body>")
    new = text[:pos] + section + text[pos:] if pos >= 0 else text + section
    tmp = report_path.with_name("." + report_path.name + ".tmp")
    tmp.write_text(new, encoding="utf-8")
    tmp.replace(report_path)
