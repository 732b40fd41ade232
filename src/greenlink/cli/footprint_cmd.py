"""``greenlink footprint``: a product footprint per declared unit under a regime's electricity
rule (EU Battery Regulation per kWh, PACT, GHG Protocol Scope 2 hourly, CBAM)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from greenlink.cli.common import user_errors
from greenlink.i18n import N_
from greenlink.i18n import gettext as _
from greenlink.jsonio import dumps
from greenlink.workflows import footprint as svc

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "jiangsu_park" / "park.toml"


def _number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"


def _parse_sets(items: list[str] | None) -> dict[str, str]:
    from greenlink.errors import InputError, Problem

    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(Problem(_("cannot read --set {item!r}").format(item=item),
                                     location="--set",
                                     expected="RULE=VALUE, e.g. ppa_counted=true"))
        out[key.strip()] = value.strip()
    return out


def _line(f: dict[str, Any]) -> list[str]:
    mat = ("materials not included" if f["materials"] is None
           else f"materials {_number(f['materials'])}")
    lines = [
        f"{f['sku']} {f['name']} (CN {f['cn_code']}), user {f['user']}: "
        f"{_number(f['total'])} {f['unit']} under {f['regime_title']} [{f['regime_status']}]",
        f"  electricity {_number(f['electricity'])} (grid only "
        f"{_number(f['electricity_grid_only'])}), direct {_number(f['direct'])}, {mat}; "
        f"boundary: {f['boundary']}",
        f"  {f['electricity_mwh_per_unit'] * 1000:,.3g} kWh of electricity per "
        f"{f['declared_unit']}; green share counted {f['green_share_counted']:.1%}; the rest "
        f"at {f['ef_rest_t_per_mwh']:.4f} t/MWh ({f['ef_rest_source']})"]
    for r in f["readings"]:
        value = str(r["value"]).lower() if isinstance(r["value"], bool) else r["value"]
        lines.append(f"  reading used: {r['rule']} = {value} ({r['confidence']}): "
                     f"{r['description']}")
    lines.extend(f"  note: {n}" for n in f["notes"])
    return lines


def footprint(
    regime: Annotated[str, typer.Option("--regime", "-r", help=N_("regime id or TOML file "
                                        "(greenlink regimes list)"))],
    user: Annotated[str | None, typer.Option("--user", "-u", help=N_("the park user whose "
                                             "products to show"))] = None,
    sku: Annotated[str | None, typer.Option("--sku", help=N_("one product"))] = None,
    scenario: Annotated[Path, typer.Option("--scenario", "-s", help=N_("scenario TOML file "
                                           "(default: the Jiangsu example park)"))] = EXAMPLE,
    flows: Annotated[Path | None, typer.Option("--flows", help=N_("flows.parquet/csv of a run "
                                               "(default: simulate the scenario)"))] = None,
    set_: Annotated[list[str] | None, typer.Option(
        "--set", help=N_("your reading of an unsettled rule: RULE=VALUE (repeatable), e.g. "
                      "ppa_counted=true"))] = None,
    as_json: Annotated[bool, typer.Option("--json", help=N_("print JSON"))] = False,
) -> None:
    """Product footprints per declared unit, with the electricity modelled by the regime's rule;
    every unsettled rule it used is named."""
    from greenlink.workflows.cbam import context

    with user_errors():
        chosen = svc.regime_for(regime, _parse_sets(set_))
        loaded, table = context(scenario, flows)
        rows = [f.to_dict() for f in svc.footprints(loaded, table, chosen, user=user, sku=sku)]
    if as_json:
        typer.echo(dumps(rows))
        return
    for f in rows:
        for line in _line(f):
            typer.echo(line)
