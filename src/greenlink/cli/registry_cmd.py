"""``greenlink registry ...``: the granular-certificate registry from the command line.

Every command takes ``--db URL`` (default ``sqlite:///greenlink-registry.sqlite``, or the
``GREENLINK_REGISTRY_URL`` environment variable); the schema is migrated on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from greenlink import jsonio
from greenlink.certificates.purposes import USER_CLAIM_PURPOSES, UserClaimPurpose
from greenlink.cli.common import console, default_store, user_errors

registry_app = typer.Typer(add_completion=False, no_args_is_help=True,
                           help="Granular certificates: issue, transfer, claim, verify.")

Db = Annotated[str, typer.Option("--db", envvar="GREENLINK_REGISTRY_URL",
                                 help="database URL (SQLite file or postgresql://…)")]
DEFAULT_DB = "sqlite:///greenlink-registry.sqlite"


def _open(db: str):  # type: ignore[no-untyped-def]
    from greenlink.certificates.db import open_registry

    return open_registry(db)


@registry_app.command()
def account(account_id: str, name: str = "",
            accepts_from: Annotated[list[str] | None, typer.Option(
                help="accounts this one accepts transfers from (whitelist)")] = None,
            db: Db = DEFAULT_DB) -> None:
    """Create an account (or add senders to its whitelist if it exists)."""
    from greenlink.certificates.models import Account

    with user_errors():
        reg = _open(db)
        with reg.sessions() as s:
            exists = s.get(Account, account_id) is not None
        if not exists:
            reg.add_account(account_id, name, accepts_from or [])
        else:
            for sender in accepts_from or []:
                reg.whitelist(account_id, sender)
        console.print(f"account {account_id}: ok")


@registry_app.command()
def issue(scenario: Annotated[Path, typer.Option("--scenario", "-s")],
          store: Annotated[Path | None, typer.Option(help="meter store")] = None,
          account_id: Annotated[str, typer.Option("--account")] = "park",
          db: Db = DEFAULT_DB) -> None:
    """Issue hourly certificates from the park's metered generation (new hours only)."""
    from greenlink.certificates.from_meters import issue_from_store
    from greenlink.scenario.load import load_scenario

    with user_errors():
        sc = load_scenario(scenario).scenario
        r = issue_from_store(_open(db), sc, store or default_store(scenario),
                             account_id=account_id)
        console.print(f"issued {r.bundles} bundles ({r.wh:,} Wh); skipped "
                      f"{r.skipped_incomplete_hours} incomplete and "
                      f"{r.skipped_already_issued} already issued hours")


@registry_app.command()
def transfer(bundle_id: int, to: Annotated[str, typer.Option("--to")],
             from_account: Annotated[str | None, typer.Option("--from")] = None,
             quantity: Annotated[int | None, typer.Option(help="Wh (default: all)")] = None,
             db: Db = DEFAULT_DB) -> None:
    """Transfer a bundle (or part of it) to an account that whitelists the sender."""
    with user_errors():
        new_id = _open(db).transfer(bundle_id, to, from_account=from_account,
                                    quantity_wh=quantity)
        console.print(f"bundle {new_id} now belongs to {to}")


@registry_app.command()
def split(bundle_id: int, quantity: Annotated[int, typer.Option(help="Wh of the first part")],
          db: Db = DEFAULT_DB) -> None:
    """Split a bundle into two (id ranges stay consecutive)."""
    with user_errors():
        a, b = _open(db).split(bundle_id, quantity)
        console.print(f"bundle {bundle_id} split into {a} and {b}")


@registry_app.command()
def cancel(bundle_id: int, beneficiary: Annotated[str, typer.Option()],
           purpose: Annotated[UserClaimPurpose, typer.Option(
               help="what the claim is for: " + " | ".join(USER_CLAIM_PURPOSES))],
           quantity: Annotated[int | None, typer.Option(help="Wh (default: all)")] = None,
           from_account: Annotated[str | None, typer.Option("--from")] = None,
           db: Db = DEFAULT_DB) -> None:
    """Cancel (claim) a bundle for a beneficiary and purpose."""
    with user_errors():
        new_id = _open(db).cancel(bundle_id, beneficiary=beneficiary, purpose=purpose,
                                  quantity_wh=quantity, account_id=from_account)
        console.print(f"bundle {new_id} claimed for {beneficiary} ({purpose})")


@registry_app.command()
def withdraw(bundle_id: int, reason: str = "", db: Db = DEFAULT_DB) -> None:
    """Withdraw a bundle (issuing body: the meter data behind it were wrong)."""
    with user_errors():
        _open(db).withdraw(bundle_id, reason=reason)
        console.print(f"bundle {bundle_id} withdrawn")


@registry_app.command()
def verify(db: Db = DEFAULT_DB) -> None:
    """Walk the hash chain and every bundle row; exit 1 at the first broken link."""
    with user_errors():
        result = _open(db).verify()
    if result.ok:
        console.print(f"ok: {result.events} events, {result.bundles} bundles, chain intact")
        return
    console.print(f"[bold red]TAMPERED[/]: {len(result.problems)} problem(s); first: "
                  f"{result.problems[0]}", soft_wrap=True)
    for p in result.problems[1:]:
        console.print(f"  • {p}", soft_wrap=True)
    raise typer.Exit(code=1)


@registry_app.command()
def statement(user: Annotated[str, typer.Option(help="user id (the beneficiary)")],
              month: Annotated[str, typer.Option(help="YYYY-MM")],
              scenario: Annotated[Path, typer.Option("--scenario", "-s")],
              out: Annotated[Path, typer.Option(help="folder for <user>_<month>.json/.html")],
              store: Annotated[Path | None, typer.Option(help="meter store")] = None,
              db: Db = DEFAULT_DB) -> None:
    """Monthly statement of matched green energy and claimed certificates (JSON + HTML)."""
    from greenlink.certificates.from_meters import matched_from_store
    from greenlink.certificates.statement import monthly_statement, statement_html
    from greenlink.errors import InputError
    from greenlink.scenario.load import load_scenario

    with user_errors():
        sc = load_scenario(scenario).scenario
        if user not in sc.user_ids:
            raise InputError(f"unknown user {user!r} (users: {', '.join(sc.user_ids)})")
        matched = matched_from_store(sc, store or default_store(scenario))
        st = monthly_statement(_open(db), matched, user_id=user, month=month,
                               timezone=sc.site.timezone)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{user}_{month}.json").write_text(jsonio.dumps(st, indent=1))
        (out / f"{user}_{month}.html").write_text(statement_html(st))
        console.print(f"{user} {month}: matched {st['metered']['matched_green_kwh']:,.1f} kWh, "
                      f"claimed {st['certificates']['claimed_wh']:,} Wh → {out}")


@registry_app.command()
def export(out: Annotated[Path, typer.Option(help=".json or .csv")],
           status: Annotated[str | None, typer.Option(help="e.g. Active, Claimed")] = None,
           account_id: Annotated[str | None, typer.Option("--account")] = None,
           db: Db = DEFAULT_DB) -> None:
    """Export bundles with the EnergyTag GC fields (FEA names) as JSON or CSV."""
    from greenlink.certificates.statement import export_bundles

    with user_errors():
        n = export_bundles(_open(db), out, status=status, account_id=account_id)
        console.print(f"{n} bundles → {out}")


gec_app = typer.Typer(add_completion=False, no_args_is_help=True,
                      help="China green certificates (GEC, 绿证): import records, show what "
                           "they back.")
registry_app.add_typer(gec_app, name="gec")


@gec_app.command("import")
def gec_import(file: Annotated[Path, typer.Argument(help="CSV export of GEC records (UTF-8, "
                                                         "UTF-8 with BOM or GBK)")],
               mapping: Annotated[Path, typer.Option(help="mapping file (TOML): columns and "
                                                          "values of the export")],
               db: Db = DEFAULT_DB) -> None:
    """Import GEC records (issuance, transfer, cancellation, expiry); all rows or none."""
    from greenlink.certificates.gec import import_gec_file

    with user_errors():
        r = import_gec_file(_open(db).engine, file, mapping)
    gecs = ", ".join(f"{n:,} {status}" for status, n in sorted(r.gec_by_status.items()))
    console.print(f"{file}: {r.imported} of {r.rows} records imported"
                  + (f" ({gecs} GEC)" if gecs else "")
                  + (f"; {r.already_imported} imported before" if r.already_imported else "")
                  + (f"; {r.known} known from another export" if r.known else ""),
                  soft_wrap=True)
    if r.own_parties or r.external_parties:
        console.print(f"  park accounts: {', '.join(r.own_parties) or '—'}; external: "
                      f"{', '.join(r.external_parties) or '—'}", soft_wrap=True)


@gec_app.command("position")
def gec_position(device: Annotated[str, typer.Option(help="registry device id")],
                 month: Annotated[str, typer.Option(help="production month YYYY-MM")],
                 beneficiary: Annotated[str | None, typer.Option(
                     help="headroom for this beneficiary")] = None,
                 purpose: Annotated[UserClaimPurpose | None, typer.Option(
                     help="headroom for this purpose")] = None,
                 db: Db = DEFAULT_DB) -> None:
    """GECs of a device and month, the Wh claimed against them and what may still be claimed."""
    from greenlink.certificates import gec

    with user_errors():
        reg = _open(db)
        with reg.sessions() as s:
            p = gec.gec_position(s, device, month)
    d = p.as_dict()
    if not p.has_records:
        console.print(f"{device} {d['month']}: no GEC records imported (GEC pending): nothing "
                      "may be claimed yet")
        return
    console.print(f"{device} {d['month']}: {p.issued_gec:,} GEC issued; retained "
                  f"{p.retained_gec:,} (held {p.held_gec:,}, of them tradable "
                  f"{p.held_tradable_gec:,}; cancelled for the park {p.cancelled_own_gec:,}); "
                  f"transferred away {p.transferred_away_gec:,}; cancelled for others "
                  f"{p.cancelled_elsewhere_gec:,}; expired {p.expired_gec:,}", soft_wrap=True)
    console.print(f"  claimed {p.claimed_wh:,} Wh (uncovered {p.uncovered_wh:,}); may still "
                  f"claim {p.headroom_wh(beneficiary, purpose):,} Wh"
                  + (f" for {beneficiary}" if beneficiary else "")
                  + (f" ({purpose})" if purpose else ""), soft_wrap=True)
