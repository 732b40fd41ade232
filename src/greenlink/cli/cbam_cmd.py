"""``greenlink cbam``: CBAM goods, embedded emissions, liability, exposure, template, Scope 2."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from greenlink.cli.common import user_errors, wrote, xlsx_format
from greenlink.i18n import N_
from greenlink.i18n import gettext as _
from greenlink.workflows import cbam as svc
from greenlink.workflows.cbam import phase_in_span

cbam_app = typer.Typer(help=N_("EU CBAM and carbon accounting: goods, embedded emissions, "
                               "liability per year, exposure map over the phase-in years, "
                               "Commission template, Scope 2."),
                       no_args_is_help=True)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "jiangsu_park" / "park.toml"
ScenarioOpt = Annotated[Path, typer.Option("--scenario", "-s", help=N_("scenario TOML file "
                                           "(default: the Jiangsu example park)"))]
FlowsOpt = Annotated[Path | None, typer.Option("--flows", help=N_("flows.parquet/csv of a run "
                                               "(default: simulate the scenario)"))]
InstOpt = Annotated[str, typer.Option("--installation", "-i", help=N_("installation id"))]
JsonOpt = Annotated[bool, typer.Option("--json", help=N_("print JSON"))]

# user-facing texts of the xlsx outputs (in the catalogue, translated where printed)
_MSG_OUT_NOT_XLSX = N_("--out {out}: these tables are written as xlsx")
_EXPECTED_OUT = N_("a file name ending in .xlsx (or --json to print JSON)")
_MSG_WROTE = N_("wrote {path}")
OutOpt = Annotated[Path | None, typer.Option("--out", help=N_("write the tables to this xlsx file "
                                             "(units in the second, frozen header row)"))]
FormatOpt = Annotated[str | None, typer.Option("--format", help=N_("xlsx: write the tables to "
                                               "--out (default cbam-<command>.xlsx)"))]


def _wants_xlsx(fmt: str | None, out: Path | None) -> bool:
    """``--format xlsx`` or ``--out F.xlsx``; any other ``--out`` name or format is refused."""
    if out is not None and out.suffix.lower() != ".xlsx":
        from greenlink.errors import InputError, Problem

        raise InputError(Problem(_(_MSG_OUT_NOT_XLSX).format(out=out), location="--out",
                                 expected=_(_EXPECTED_OUT)))
    return xlsx_format(fmt, out)


def _to_xlsx(fmt: str | None, out: Path | None, default: str, tables: dict[str, Any],
             currency: str = "EUR") -> bool:
    """Write ``tables`` (name → frame or records) when xlsx is asked for; say where."""
    if not _wants_xlsx(fmt, out):
        return False
    from greenlink.report.xlsx import table_sheets
    from greenlink.xlsxfile import write_xlsx

    target = out or Path(default)
    write_xlsx(target, table_sheets({k: v for k, v in tables.items() if v is not None and len(v)},
                                    currency=currency))
    typer.echo(_(_MSG_WROTE).format(path=target))
    return True


def _clean(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clean(v) for v in obj]
    return obj


def _print(obj: Any) -> None:
    typer.echo(svc.dumps(_clean(obj)))


@cbam_app.command()
def goods(codes: Annotated[list[str], typer.Argument(
              help=N_("CN codes: 8 digits, or a 4-digit heading / 6-digit subheading to list the "
                   "CBAM codes beneath it"))],
          year: Annotated[int | None, typer.Option(
              help=N_("CN year (the year of import); default: the latest shipped"))] = None,
          date: Annotated[str | None, typer.Option(
              help=N_("date of import, YYYY-MM-DD (sets the CN year)"))] = None,
          as_json: JsonOpt = False) -> None:
    """Is each CN code a CBAM good in the CN year of import; sector, goods category, indirect
    emissions counted. A bad code reports its error; the others still answer (exit code 2 when
    any code was bad)."""
    import datetime as dt

    with user_errors():
        on = None
        if date is not None:
            try:
                on = dt.date.fromisoformat(date)
            except ValueError:
                from greenlink.errors import InputError, Problem
                raise InputError(Problem(_("unreadable date {date!r}").format(date=date),
                                         location="--date",
                                         expected="YYYY-MM-DD")) from None
        rows = svc.goods(codes, year, on)
    bad = any("error" in r for r in rows)
    if as_json:
        _print(rows)
    else:
        for r in rows:
            if "error" in r:
                typer.echo(_("{input}  error: {error} (expected {expected})").format(
                    input=r["input"], error=r["error"], expected=r["expected"]))
            elif "goods" in r:
                typer.echo(_("{input}  CN {cn_year}: {n} CBAM code(s) under {parent}").format(
                    input=r["input"], cn_year=r["cn_year"], n=len(r["goods"]),
                    parent=r["expanded_from"]) + "".join(
                               f"; {n}" for n in r["notes"]))
                for g in r["goods"]:
                    typer.echo(f"  {_good_line(g)}  {g['description']}")
            else:
                typer.echo(_good_line(r))
    if bad:
        raise typer.Exit(2)


def _good_line(r: dict[str, Any]) -> str:
    status = _("CBAM good") if r["is_cbam_good"] else _("not a CBAM good")
    extra = (_("{sector}, {category}, indirect emissions counted").format(
        sector=r["sector"], category=r["goods_category"]) if r["indirect_emissions_counted"]
        else _("{sector}, {category}, indirect emissions NOT counted").format(
            sector=r["sector"], category=r["goods_category"])) if r["is_cbam_good"] else (
        r["note"] or "")
    return f"{r['cn_code']}  {status} (CN {r['cn_year']})  {extra}"


@cbam_app.command()
def see(installation: InstOpt, scenario: ScenarioOpt = EXAMPLE, flows: FlowsOpt = None,
        audit: Annotated[bool, typer.Option("--audit", help=N_("print the audit trail"))] = False,
        as_json: JsonOpt = False, out: OutOpt = None, fmt: FormatOpt = None) -> None:
    """Specific embedded emissions per process, the electricity EF route and why."""
    with user_errors():
        _wants_xlsx(fmt, out)  # refuse a bad --out or --format before the work
        loaded, table = svc.context(scenario, flows)
        report = svc.see_report(svc.accounts_for(loaded, table, installation))
        if _to_xlsx(fmt, out, f"cbam-see-{installation}.xlsx",
                    {"processes": report["processes"], "audit": report["audit"]}):
            return
        if as_json:
            _print(report if audit else {k: v for k, v in report.items() if k != "audit"})
            return
        for p in report["processes"]:
            typer.echo(_("{process} CN {cn}: SEE direct {direct}, indirect {indirect} "
                         "(grid-only {grid}) t CO2e/t; counted for CBAM {counted}; route "
                         "{route} ({code}): {reason}").format(
                process=p["process"], cn=p["cn_code"], direct=p["see_direct_t_per_t"],
                indirect=p["see_indirect_t_per_t"], grid=p["see_indirect_grid_t_per_t"],
                counted=p["see_counted_t_per_t"], route=p["ef_route"],
                code=p["ef_template_code"], reason=p["route_reason"]))
            if p["missing_evidence"]:
                typer.echo(_("  missing evidence: {what}").format(what=p["missing_evidence"]))
        if audit:
            for a in report["audit"]:
                typer.echo(f"  [{a['subject']}] {a['quantity']} = {a['value']:.6g} {a['unit']}"
                           f"  ({a['source']})")


@cbam_app.command()
def liability(installation: InstOpt, scenario: ScenarioOpt = EXAMPLE, flows: FlowsOpt = None,
              price: Annotated[float | None, typer.Option(help=N_("CBAM price EUR/t (default: "
                                                          "Q1 2026, 75.36)"))] = None,
              as_json: JsonOpt = False, out: OutOpt = None, fmt: FormatOpt = None) -> None:
    """CBAM certificates and cost per shipment and year: grid-only vs direct connection."""
    with user_errors():
        _wants_xlsx(fmt, out)  # refuse a bad --out or --format before the work
        loaded, table = svc.context(scenario, flows)
        report = svc.liability_report(svc.accounts_for(loaded, table, installation, price))
        if _to_xlsx(fmt, out, f"cbam-liability-{installation}.xlsx",
                    {"per_year": report["per_year"], "shipments": report["shipments"]}):
            return
        if as_json:
            _print(report)
            return
        for y in report["per_year"]:
            typer.echo(_("{year}: {tonnes:.0f} t; certificates grid-only {grid:.0f}, with "
                         "direct connection {dc:.0f}, default values {default:.0f}; cost EUR "
                         "{cost:,.0f} (saving {saving:,.0f})").format(
                year=y["year"], tonnes=y["tonnes"], grid=y["certificates_grid"],
                dc=y["certificates_dc"], default=y["certificates_default"],
                cost=y["cost_dc_eur"], saving=y["saving_eur"]))
        for note in report["assumptions"]:
            typer.echo(_("assumption: {note}").format(note=note))


@cbam_app.command()
def exposure(installation: InstOpt, scenario: ScenarioOpt = EXAMPLE, flows: FlowsOpt = None,
             by: Annotated[str, typer.Option(help=N_("sku or customer"))] = "sku",
             as_json: JsonOpt = False, out: OutOpt = None, fmt: FormatOpt = None) -> None:
    """Rank SKUs or customers by CBAM cost over the phase-in years, with and without direct
    connection."""
    with user_errors():
        _wants_xlsx(fmt, out)  # refuse a bad --out or --format before the work
        loaded, table = svc.context(scenario, flows)
        frame = svc.exposure_report(svc.accounts_for(loaded, table, installation), by)
        if _to_xlsx(fmt, out, f"cbam-exposure-{installation}.xlsx", {f"exposure by {by}": frame}):
            return
        years = phase_in_span()
        if as_json:
            _print(frame.to_dict("records"))
            return
        for r in frame.to_dict("records"):
            typer.echo(_("{rank}. {name}: {tonnes:.0f} t/yr; {years} EUR {grid:,.0f} "
                         "grid-only, {dc:,.0f} with direct connection (saving "
                         "{saving:,.0f})").format(
                rank=r["rank"], name=r[by], tonnes=r["tonnes_per_year"], years=years,
                grid=r["cost_grid_eur"], dc=r["cost_dc_eur"], saving=r["saving_eur"]))


@cbam_app.command()
def template(installation: InstOpt,
             out: Annotated[Path, typer.Option("--out", help=N_("xlsx file to write"))],
             scenario: ScenarioOpt = EXAMPLE, flows: FlowsOpt = None,
             recalc: Annotated[bool, typer.Option(help=N_("recalculate with LibreOffice and "
                                                  "compare"))] = False) -> None:
    """Fill the Commission's communication template for an installation."""
    with user_errors():
        loaded, table = svc.context(scenario, flows)
        result = svc.template(svc.accounts_for(loaded, table, installation), out, recalc)
        _print(result)


@cbam_app.command()
def scope2(scenario: ScenarioOpt = EXAMPLE, flows: FlowsOpt = None,
           as_json: JsonOpt = False, out: OutOpt = None, fmt: FormatOpt = None) -> None:
    """Scope 2 location- and market-based per user and the hourly-matched (24/7) score."""
    with user_errors():
        _wants_xlsx(fmt, out)  # refuse a bad --out or --format before the work
        loaded, table = svc.context(scenario, flows)
        rows = [r.__dict__ for r in svc.scope2_report(loaded, table)]
        if _to_xlsx(fmt, out, "cbam-scope2.xlsx", {"scope2": rows}):
            return
        if as_json:
            _print(rows)
            return
        for r in rows:
            typer.echo(_("{user}: location-based {location:,.0f} t, market-based "
                         "{market:,.0f} t, 24/7 score {score:.1%}").format(
                user=r["user"], location=r["location_based_t"], market=r["market_based_t"],
                score=r["hourly_matched_score"]))


@cbam_app.command()
def declaration(installation: InstOpt, scenario: ScenarioOpt = EXAMPLE,
                flows: FlowsOpt = None) -> None:
    """Buyer-facing green electricity declaration per shipment (JSON)."""
    with user_errors():
        loaded, table = svc.context(scenario, flows)
        _print(svc.declarations(svc.accounts_for(loaded, table, installation)))


@cbam_app.command()
def pact(installation: InstOpt, scenario: ScenarioOpt = EXAMPLE, flows: FlowsOpt = None,
         company: Annotated[str, typer.Option(help=N_("company name"))] = "",
         out: Annotated[Path | None, typer.Option(help=N_("JSON file to write"))] = None) -> None:
    """Product carbon footprints in the WBCSD PACT ProductFootprint shape."""
    with user_errors():
        loaded, table = svc.context(scenario, flows)
        acc = svc.accounts_for(loaded, table, installation)
        data = svc.pact_footprints(acc, company or acc.installation.operator or installation)
        if out is None:
            _print(data)
        else:
            out.write_text(svc.dumps(data), encoding="utf-8")
            typer.echo(wrote(out))


@cbam_app.command()
def claim(installation: InstOpt,
          registry: Annotated[str, typer.Option(help=N_("registry database URL"))],
          account: Annotated[str, typer.Option(help=N_("registry account holding the "
                                               "certificates"))],
          scenario: ScenarioOpt = EXAMPLE, flows: FlowsOpt = None,
          purpose: Annotated[str, typer.Option(
              help=N_("product_batch | shipment"))] = "product_batch",
          claim_id: Annotated[str | None, typer.Option(
              "--claim-id", help=N_("the claim's id (default: derived from the batches, so the "
              "same claim run again changes nothing)"))] = None,
          key_dir: Annotated[Path | None, typer.Option(
              "--key-dir", envvar="GREENLINK_KEY_DIR",
              help=N_("operator's key folder that signs the registry's history"))] = None) -> None:
    """Cancel the certificates of the hours each batch ran in (no double claim): all hours or
    none; the same claim again changes nothing; the GEC serials behind it are printed."""
    from greenlink.errors import InputError, Problem

    with user_errors():
        if purpose not in ("product_batch", "shipment"):
            raise InputError(Problem(f"purpose {purpose!r}", location="--purpose",
                                     expected="product_batch or shipment"))
        loaded, table = svc.context(scenario, flows)
        acc = svc.accounts_for(loaded, table, installation)
        done = svc.claim_batches(acc, table, registry, account, purpose=purpose,
                                 claim_id=claim_id, key_dir=key_dir)
        hours, result = done.hours, done.result
        typer.echo(_("claim {claim}: {n} batch-hours, cancelled {cancelled:,.3f} MWh, not "
                     "backed {short:,.3f} MWh").format(
            claim=result.claim_id, n=len(hours), cancelled=hours["cancelled_wh"].sum() / 1e6,
            short=hours["shortfall_wh"].sum() / 1e6)
                   + (_(" — made before (registry event {seq}): nothing changed").format(
                       seq=result.event_seq) if result.replayed else ""))
        typer.echo(_("GEC serials: {serials}").format(
            serials=result.serial_text() or _("none (no GEC needed)")))
