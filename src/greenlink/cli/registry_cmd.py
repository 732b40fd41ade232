"""``greenlink registry ...``: the granular-certificate registry from the command line.

Every command takes ``--db URL`` (default ``sqlite:///greenlink-registry.sqlite``, or the
``GREENLINK_REGISTRY_URL`` environment variable); the schema is migrated on first use. Writes
are signed with the operator's key (``--key-dir``, ``GREENLINK_KEY_DIR``, default
``~/.greenlink/keys``; ``greenlink keys generate``).

Exit codes of ``registry verify``: 0 the history verifies and its head is signed by a key you
trust; 1 tampering found (what and where is printed); 2 bad input (no trusted key, unreadable
key, keyring or checkpoint file); 3 UNTRUSTED (consistent, but signed by keys you do not trust).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from greenlink import jsonio
from greenlink.cli.common import console, default_store, user_errors
from greenlink.workflows.registry import USER_CLAIM_PURPOSES, UserClaimPurpose

registry_app = typer.Typer(add_completion=False, no_args_is_help=True,
                           help="Granular certificates: issue, transfer, claim, verify.")

Db = Annotated[str, typer.Option("--db", envvar="GREENLINK_REGISTRY_URL",
                                 help="database URL (SQLite file or postgresql://…)")]
KeyDir = Annotated[Path | None, typer.Option(
    "--key-dir", envvar="GREENLINK_KEY_DIR",
    help="operator's key folder that signs the history (default ~/.greenlink/keys)")]
DEFAULT_DB = "sqlite:///greenlink-registry.sqlite"
#: Exit codes of ``registry verify``.
EXIT_OK, EXIT_TAMPERED, EXIT_UNTRUSTED = 0, 1, 3


def _open(db: str, key_dir: Path | None = None, *, writes: bool = True):  # type: ignore[no-untyped-def]
    from greenlink.workflows.registry import open_registry

    reg = open_registry(db, key_dir=key_dir)
    if writes and reg.signer is None:
        console.print("[yellow]warning[/]: no signing key (greenlink keys generate, or "
                      "--key-dir): this write is not signed, and `registry verify` will report "
                      "it until the operator signs a later head", soft_wrap=True)
    return reg


@registry_app.command()
def account(account_id: str, name: str = "",
            accepts_from: Annotated[list[str] | None, typer.Option(
                help="accounts this one accepts transfers from (whitelist)")] = None,
            db: Db = DEFAULT_DB, key_dir: KeyDir = None) -> None:
    """Create an account (or add senders to its whitelist if it exists)."""
    from greenlink.workflows import registry as flow

    with user_errors():
        flow.ensure_account(_open(db, key_dir), account_id, name, accepts_from or [])
        console.print(f"account {account_id}: ok")


@registry_app.command()
def issue(scenario: Annotated[Path, typer.Option("--scenario", "-s")],
          store: Annotated[Path | None, typer.Option(help="meter store")] = None,
          account_id: Annotated[str, typer.Option("--account")] = "park",
          db: Db = DEFAULT_DB, key_dir: KeyDir = None) -> None:
    """Issue hourly certificates from the park's metered generation (new hours only)."""
    from greenlink.scenario.load import load_scenario
    from greenlink.workflows import registry as flow

    with user_errors():
        sc = load_scenario(scenario).scenario
        r = flow.issue_from_store(_open(db, key_dir), sc, store or default_store(scenario),
                                  account_id=account_id)
        console.print(f"issued {r.bundles} bundles ({r.wh:,} Wh); skipped "
                      f"{r.skipped_incomplete_hours} incomplete and "
                      f"{r.skipped_already_issued} already issued hours")


@registry_app.command()
def transfer(bundle_id: int, to: Annotated[str, typer.Option("--to")],
             from_account: Annotated[str | None, typer.Option("--from")] = None,
             quantity: Annotated[int | None, typer.Option(help="Wh (default: all)")] = None,
             db: Db = DEFAULT_DB, key_dir: KeyDir = None) -> None:
    """Transfer a bundle (or part of it) to an account that whitelists the sender."""
    from greenlink.workflows import registry as flow

    with user_errors():
        new_id = flow.transfer(_open(db, key_dir), bundle_id, to, from_account=from_account,
                               quantity_wh=quantity)
        console.print(f"bundle {new_id} now belongs to {to}")


@registry_app.command()
def split(bundle_id: int, quantity: Annotated[int, typer.Option(help="Wh of the first part")],
          db: Db = DEFAULT_DB, key_dir: KeyDir = None) -> None:
    """Split a bundle into two (id ranges stay consecutive)."""
    from greenlink.workflows import registry as flow

    with user_errors():
        a, b = flow.split(_open(db, key_dir), bundle_id, quantity)
        console.print(f"bundle {bundle_id} split into {a} and {b}")


ClaimId = Annotated[str | None, typer.Option(
    "--claim-id", help="the claim's id (default: derived from the request, so the same command "
    "run again changes nothing)")]


@registry_app.command()
def cancel(bundle_id: int, beneficiary: Annotated[str, typer.Option(
               help="registered account or user id (exactly)")],
           purpose: Annotated[UserClaimPurpose, typer.Option(
               help="what the claim is for: " + " | ".join(USER_CLAIM_PURPOSES))],
           quantity: Annotated[int | None, typer.Option(help="Wh (default: all)")] = None,
           from_account: Annotated[str | None, typer.Option("--from")] = None,
           claim_id: ClaimId = None, db: Db = DEFAULT_DB, key_dir: KeyDir = None) -> None:
    """Cancel (claim) a bundle for a beneficiary and purpose; prints the claim and the GEC
    serials behind it."""
    from greenlink.workflows import registry as flow

    with user_errors():
        r = flow.cancel(_open(db, key_dir), bundle_id, beneficiary=beneficiary,
                        purpose=purpose, quantity_wh=quantity, account_id=from_account,
                        claim_id=claim_id, operation="registry cancel")
        console.print(f"bundle {r.parts[0].bundle_id} claimed for {beneficiary} ({purpose}); "
                      + flow.claim_text(r), soft_wrap=True, highlight=False)


@registry_app.command()
def withdraw(bundle_id: int, reason: str = "", claim_id: ClaimId = None,
             db: Db = DEFAULT_DB, key_dir: KeyDir = None) -> None:
    """Withdraw a bundle (issuing body: the meter data behind it were wrong)."""
    from greenlink.workflows import registry as flow

    with user_errors():
        r = flow.withdraw(_open(db, key_dir), bundle_id, reason=reason, claim_id=claim_id,
                          operation="registry withdraw")
        console.print(f"bundle {bundle_id} withdrawn ({r.claim_id}"
                      + (f"; made before, event {r.event_seq}: nothing changed" if r.replayed
                         else "") + ")", soft_wrap=True, highlight=False)


@registry_app.command("claims")
def list_claims(beneficiary: Annotated[str | None, typer.Option(
                    help="claims for this beneficiary")] = None,
                claim_id: Annotated[str | None, typer.Option("--id", help="one claim")] = None,
                as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
                db: Db = DEFAULT_DB) -> None:
    """The registry's claim records: id, purpose, beneficiary, hours, Wh, bundles, GEC
    serials, the operation that made it."""
    import json

    from greenlink.workflows import registry as flow

    with user_errors():
        table = flow.claims(_open(db, writes=False), beneficiary=beneficiary,
                            claim_id=claim_id)
    if as_json:
        for row in jsonio.records(table):
            console.print(jsonio.dumps(row), soft_wrap=True, highlight=False)
        return
    if table.empty:
        console.print("no claims")
        return
    for cid, rows in table.groupby("claim_id", sort=False):
        first = rows.iloc[0]
        serials = flow.serial_text(x for text in rows["gec_serials"] for x in json.loads(text))
        console.print(f"{cid}: {first['kind']} {first['purpose'] or ''} for "
                      f"{first['beneficiary'] or '—'}, {int(rows['wh'].sum()):,} Wh in "
                      f"{len(rows)} bundle(s), {rows['hour_start'].nunique()} hour(s), by "
                      f"{first['operation']} (event {first['created_event_seq']}); GEC: "
                      f"{serials or '—'}", soft_wrap=True, highlight=False)


@registry_app.command()
def verify(db: Db = DEFAULT_DB,
           key: Annotated[Path | None, typer.Option(
               "--key", help="the operator's public key (PEM): trust only this key")] = None,
           keyring: Annotated[Path | None, typer.Option(
               "--keyring", envvar="GREENLINK_KEYRING",
               help="your keyring of trusted fingerprints (greenlink keys trust)")] = None,
           key_dir: KeyDir = None,
           checkpoint: Annotated[Path | None, typer.Option(
               "--checkpoint", help="a checkpoint you kept: the history must extend it")] = None,
           ) -> None:
    """Verify the whole history: every link, signature, row and the head (exit 1: tampered).

    Signatures are checked only with keys you trust: --key, else your keyring and the keys of
    your own key folder (the operator's, retired keys included).
    """
    from greenlink.errors import InputError, Problem
    from greenlink.workflows import registry as flow
    from greenlink.workflows.registry import Checkpoint, verifier_trust

    with user_errors():
        trust = verifier_trust(key_file=key, keyring=keyring, key_dir=key_dir)
        if not trust:
            raise InputError(Problem(
                "no trusted key to check the registry's signatures with",
                expected="--key FILE (the operator's public key), its fingerprint in your "
                "keyring (greenlink keys trust FILE), or the operator's key folder "
                "(--key-dir)"))
        kept = Checkpoint.read(checkpoint) if checkpoint is not None else None
        result = flow.verify(_open(db, writes=False), trust=trust, checkpoint=kept)
    if result.problems:
        console.print(f"[bold red]TAMPERED[/]: {len(result.problems)} problem(s); first: "
                      f"{result.problems[0]}", soft_wrap=True)
        for p in result.problems[1:]:
            console.print(f"  • {p}", soft_wrap=True)
        raise typer.Exit(code=EXIT_TAMPERED)
    if result.untrusted:
        console.print(f"[bold yellow]UNTRUSTED[/]: the history is consistent, but signed by "
                      f"{', '.join(result.untrusted)}, which you do not trust (compare the "
                      "fingerprint with the operator's out of band, then greenlink keys trust)",
                      soft_wrap=True, highlight=False)
        raise typer.Exit(code=EXIT_UNTRUSTED)
    if result.events == 0:
        console.print("ok: the registry is empty (no events); only a kept checkpoint can show "
                      "that it once held more", soft_wrap=True)
        return
    label = trust.labels.get(result.head_signer or "", "")
    console.print(f"ok: {result.events} events, {result.bundles} bundles, chain intact; head "
                  f"event {result.head_seq} signed by {result.head_signer} ({label})",
                  soft_wrap=True, highlight=False)
    if kept is not None:
        console.print(f"ok: extends the checkpoint of event {kept.seq} (signed "
                      f"{kept.signed_at})", soft_wrap=True, highlight=False)


@registry_app.command()
def checkpoint(out: Annotated[Path, typer.Option("--out", help="checkpoint file to write")],
               seal: Annotated[bool, typer.Option(
                   "--seal", help="sign unsigned events at the end first (you vouch for them: "
                   "they are shown, with the rows they record, and you confirm)")] = False,
               yes: Annotated[bool, typer.Option(
                   "--yes", help="with --seal: seal without asking (scripts)")] = False,
               db: Db = DEFAULT_DB, key_dir: KeyDir = None) -> None:
    """Write a signed checkpoint of the head for a buyer or verifier to keep.

    The history is verified with your own keys first; `registry verify --checkpoint FILE`
    later proves the registry still extends it. Events not signed by your key (written by a
    registry opened without it, a migration's adopt event — or by someone with write access to
    the database) are refused, and every write waits, until you seal them with --seal: they
    are listed first, and sealed only when every row and link verifies and you confirm.
    """
    from greenlink.errors import InputError, Problem
    from greenlink.workflows import registry as flow

    with user_errors():
        reg = _open(db, key_dir, writes=False)
        through = None
        if seal:
            tail = flow.unsigned_tail(reg)
            if tail.count:
                for line in tail.lines():
                    console.print(line, soft_wrap=True, highlight=False, markup=False)
                if tail.problems:
                    raise InputError([Problem(f"nothing sealed: {p}") for p in
                                      tail.problems[:10]])
                if not yes and not typer.confirm(
                        f"Seal these {tail.count} event(s)? Your signature vouches for them "
                        "and the rows they record", default=False):
                    console.print("nothing sealed")
                    raise typer.Exit(code=1)
                through = tail.through
        cp = flow.checkpoint(reg, seal=seal, through=through)
        cp.write(out)
    console.print(f"checkpoint of event {cp.seq} ({cp.hash[:16]}…) signed by {cp.key} → {out}",
                  soft_wrap=True, highlight=False)


@registry_app.command()
def statement(user: Annotated[str, typer.Option(help="user id (the beneficiary)")],
              month: Annotated[str, typer.Option(help="YYYY-MM")],
              scenario: Annotated[Path, typer.Option("--scenario", "-s")],
              out: Annotated[Path, typer.Option(help="folder for <user>_<month>.json/.html")],
              store: Annotated[Path | None, typer.Option(help="meter store")] = None,
              db: Db = DEFAULT_DB) -> None:
    """Monthly statement of matched green energy and claimed certificates (JSON + HTML)."""
    from greenlink.errors import InputError
    from greenlink.scenario.load import load_scenario
    from greenlink.workflows import registry as flow

    with user_errors():
        sc = load_scenario(scenario).scenario
        if user not in sc.user_ids:
            raise InputError(f"unknown user {user!r} (users: {', '.join(sc.user_ids)})")
        st = flow.statement(_open(db, writes=False), sc, store or default_store(scenario),
                            user_id=user, month=month)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{user}_{month}.json").write_text(jsonio.dumps(st, indent=1))
        (out / f"{user}_{month}.html").write_text(flow.statement_html(st))
        console.print(f"{user} {month}: matched {st['metered']['matched_green_kwh']:,.1f} kWh, "
                      f"claimed {st['certificates']['claimed_wh']:,} Wh → {out}")


@registry_app.command()
def export(out: Annotated[Path, typer.Option(help=".json or .csv")],
           status: Annotated[str | None, typer.Option(help="e.g. Active, Claimed")] = None,
           account_id: Annotated[str | None, typer.Option("--account")] = None,
           db: Db = DEFAULT_DB) -> None:
    """Export bundles with the EnergyTag GC fields (FEA names) as JSON or CSV."""
    from greenlink.workflows import registry as flow

    with user_errors():
        n = flow.export(_open(db, writes=False), out, status=status, account_id=account_id)
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
    from greenlink.workflows import registry as flow

    with user_errors():
        r = flow.import_gec(_open(db), file, mapping)
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
    from greenlink.workflows import registry as flow

    with user_errors():
        p = flow.gec_position(_open(db, writes=False), device, month)
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
