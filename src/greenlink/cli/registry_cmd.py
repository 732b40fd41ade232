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
from rich.text import Text

from greenlink import jsonio
from greenlink.cli.common import console, default_store, user_errors
from greenlink.i18n import N_
from greenlink.i18n import gettext as _
from greenlink.workflows.registry import UserClaimPurpose

registry_app = typer.Typer(add_completion=False, no_args_is_help=True,
                           help=N_("Granular certificates: issue, transfer, claim, verify."))

Db = Annotated[str, typer.Option("--db", envvar="GREENLINK_REGISTRY_URL",
                                 help=N_("database URL (SQLite file or postgresql://…)"))]
KeyDir = Annotated[Path | None, typer.Option(
    "--key-dir", envvar="GREENLINK_KEY_DIR",
    help=N_("operator's key folder that signs the history (default ~/.greenlink/keys)"))]
DEFAULT_DB = "sqlite:///greenlink-registry.sqlite"
#: Exit codes of ``registry verify``.
EXIT_OK, EXIT_TAMPERED, EXIT_UNTRUSTED = 0, 1, 3


def _open(db: str, key_dir: Path | None = None, *, writes: bool = True):  # type: ignore[no-untyped-def]
    from greenlink.workflows.registry import open_registry

    reg = open_registry(db, key_dir=key_dir)
    if writes and reg.signer is None:
        console.print(_("[yellow]warning[/]: no signing key (greenlink keys generate, or "
                      "--key-dir): this write is not signed, and `registry verify` will report "
                      "it until the operator signs a later head"), soft_wrap=True)
    return reg


@registry_app.command()
def account(account_id: str, name: str = "",
            accepts_from: Annotated[list[str] | None, typer.Option(
                help=N_("accounts this one accepts transfers from (whitelist)"))] = None,
            db: Db = DEFAULT_DB, key_dir: KeyDir = None) -> None:
    """Create an account (or add senders to its whitelist if it exists)."""
    from greenlink.workflows import registry as flow

    with user_errors():
        flow.ensure_account(_open(db, key_dir), account_id, name, accepts_from or [])
        console.print(_("account {account}: ok").format(account=account_id))


@registry_app.command()
def issue(scenario: Annotated[Path, typer.Option("--scenario", "-s")],
          store: Annotated[Path | None, typer.Option(help=N_("meter store"))] = None,
          account_id: Annotated[str, typer.Option("--account")] = "park",
          db: Db = DEFAULT_DB, key_dir: KeyDir = None) -> None:
    """Issue hourly certificates from the park's metered generation (new hours only)."""
    from greenlink.scenario.load import load_scenario
    from greenlink.workflows import registry as flow

    with user_errors():
        sc = load_scenario(scenario).scenario
        r = flow.issue_from_store(_open(db, key_dir), sc, store or default_store(scenario),
                                  account_id=account_id)
        console.print(_("issued {bundles} bundles ({wh:,} Wh); skipped {incomplete} incomplete "
                        "and {issued} already issued hours").format(
            bundles=r.bundles, wh=r.wh, incomplete=r.skipped_incomplete_hours,
            issued=r.skipped_already_issued))


@registry_app.command()
def transfer(bundle_id: int, to: Annotated[str, typer.Option("--to")],
             from_account: Annotated[str | None, typer.Option("--from")] = None,
             quantity: Annotated[int | None, typer.Option(help=N_("Wh (default: all)"))] = None,
             db: Db = DEFAULT_DB, key_dir: KeyDir = None) -> None:
    """Transfer a bundle (or part of it) to an account that whitelists the sender."""
    from greenlink.workflows import registry as flow

    with user_errors():
        new_id = flow.transfer(_open(db, key_dir), bundle_id, to, from_account=from_account,
                               quantity_wh=quantity)
        console.print(_("bundle {bundle} now belongs to {to}").format(bundle=new_id, to=to))


@registry_app.command()
def split(bundle_id: int, quantity: Annotated[int, typer.Option(help=N_("Wh of the first part"))],
          db: Db = DEFAULT_DB, key_dir: KeyDir = None) -> None:
    """Split a bundle into two (id ranges stay consecutive)."""
    from greenlink.workflows import registry as flow

    with user_errors():
        a, b = flow.split(_open(db, key_dir), bundle_id, quantity)
        console.print(_("bundle {bundle} split into {a} and {b}").format(bundle=bundle_id, a=a,
                                                                         b=b))


ClaimId = Annotated[str | None, typer.Option(
    "--claim-id", help=N_("the claim's id (default: derived from the request, so the same command "
    "run again changes nothing)"))]


@registry_app.command()
def cancel(bundle_id: int, beneficiary: Annotated[str, typer.Option(
               help=N_("registered account or user id (exactly)"))],
           purpose: Annotated[UserClaimPurpose, typer.Option(
               help=N_("what the claim is for (one of the choices shown)"))],
           quantity: Annotated[int | None, typer.Option(help=N_("Wh (default: all)"))] = None,
           from_account: Annotated[str | None, typer.Option("--from")] = None,
           claim_id: ClaimId = None, db: Db = DEFAULT_DB, key_dir: KeyDir = None) -> None:
    """Cancel (claim) a bundle for a beneficiary and purpose; prints the claim and the GEC
    serials behind it."""
    from greenlink.workflows import registry as flow

    with user_errors():
        r = flow.cancel(_open(db, key_dir), bundle_id, beneficiary=beneficiary,
                        purpose=purpose, quantity_wh=quantity, account_id=from_account,
                        claim_id=claim_id, operation="registry cancel")
        console.print(_("bundle {bundle} claimed for {beneficiary} ({purpose}); ").format(
            bundle=r.parts[0].bundle_id, beneficiary=beneficiary, purpose=purpose)
            + flow.claim_text(r), soft_wrap=True, highlight=False)


@registry_app.command()
def withdraw(bundle_id: int, reason: str = "", claim_id: ClaimId = None,
             db: Db = DEFAULT_DB, key_dir: KeyDir = None) -> None:
    """Withdraw a bundle (issuing body: the meter data behind it were wrong)."""
    from greenlink.workflows import registry as flow

    with user_errors():
        r = flow.withdraw(_open(db, key_dir), bundle_id, reason=reason, claim_id=claim_id,
                          operation="registry withdraw")
        console.print(_("bundle {bundle} withdrawn ({claim})").format(
            bundle=bundle_id, claim=r.claim_id + (_("; made before, event {seq}: nothing "
                                                     "changed").format(seq=r.event_seq)
                                                   if r.replayed else "")),
                      soft_wrap=True, highlight=False)


@registry_app.command("claims")
def list_claims(beneficiary: Annotated[str | None, typer.Option(
                    help=N_("claims for this beneficiary"))] = None,
                claim_id: Annotated[str | None, typer.Option("--id", help=N_("one claim"))] = None,
                as_json: Annotated[bool, typer.Option("--json", help=N_("JSON lines"))] = False,
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
        console.print(_("no claims"))
        return
    for cid, rows in table.groupby("claim_id", sort=False):
        first = rows.iloc[0]
        serials = flow.serial_text(x for text in rows["gec_serials"] for x in json.loads(text))
        console.print(_("{claim}: {kind} {purpose} for {beneficiary}, {wh:,} Wh in {bundles} "
                        "bundle(s), {hours} hour(s), by {operation} (event {seq}); GEC: "
                        "{serials}").format(
            claim=cid, kind=first["kind"], purpose=first["purpose"] or "",
            beneficiary=first["beneficiary"] or "—", wh=int(rows["wh"].sum()),
            bundles=len(rows), hours=rows["hour_start"].nunique(),
            operation=first["operation"], seq=first["created_event_seq"],
            serials=serials or "—"), soft_wrap=True, highlight=False)


@registry_app.command()
def verify(db: Db = DEFAULT_DB,
           key: Annotated[Path | None, typer.Option(
               "--key", help=N_("the operator's public key (PEM): trust only this key"))] = None,
           keyring: Annotated[Path | None, typer.Option(
               "--keyring", envvar="GREENLINK_KEYRING",
               help=N_("your keyring of trusted fingerprints (greenlink keys trust)"))] = None,
           key_dir: KeyDir = None,
           checkpoint: Annotated[Path | None, typer.Option(
               "--checkpoint",
               help=N_("a checkpoint you kept: the history must extend it"))] = None,
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
                _("no trusted key to check the registry's signatures with"),
                expected="--key FILE (the operator's public key), its fingerprint in your "
                "keyring (greenlink keys trust FILE), or the operator's key folder "
                "(--key-dir)"))
        kept = Checkpoint.read(checkpoint) if checkpoint is not None else None
        result = flow.verify(_open(db, writes=False), trust=trust, checkpoint=kept)
    if result.problems:
        console.print(Text("TAMPERED", style="bold red"), Text(_(
            ": {n} problem(s); first: {problem}").format(n=len(result.problems),
                                                         problem=result.problems[0])),
                      sep="", soft_wrap=True)
        for p in result.problems[1:]:
            console.print(f"  • {p}", soft_wrap=True)
        raise typer.Exit(code=EXIT_TAMPERED)
    if result.untrusted:
        console.print(Text("UNTRUSTED", style="bold yellow"), Text(_(
            ": the history is consistent, but signed by {keys}, which you do not trust "
            "(compare the fingerprint with the operator's out of band, then greenlink keys "
            "trust)").format(keys=", ".join(result.untrusted))),
                      sep="", soft_wrap=True, highlight=False)
        raise typer.Exit(code=EXIT_UNTRUSTED)
    if result.events == 0:
        console.print(_("ok: the registry is empty (no events); only a kept checkpoint can show "
                      "that it once held more"), soft_wrap=True)
        return
    label = trust.labels.get(result.head_signer or "", "")
    console.print(_("ok: {events} events, {bundles} bundles, chain intact; head event {seq} "
                    "signed by {signer} ({label})").format(
        events=result.events, bundles=result.bundles, seq=result.head_seq,
        signer=result.head_signer, label=label), soft_wrap=True, highlight=False)
    if kept is not None:
        console.print(_("ok: extends the checkpoint of event {seq} (signed {at})").format(
            seq=kept.seq, at=kept.signed_at), soft_wrap=True, highlight=False)


@registry_app.command()
def checkpoint(out: Annotated[Path, typer.Option("--out", help=N_("checkpoint file to write"))],
               seal: Annotated[bool, typer.Option(
                   "--seal", help=N_("sign unsigned events at the end first (you vouch for them: "
                   "they are shown, with the rows they record, and you confirm)"))] = False,
               yes: Annotated[bool, typer.Option(
                   "--yes", help=N_("with --seal: seal without asking (scripts)"))] = False,
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
                    raise InputError([Problem(_("nothing sealed: {problem}").format(problem=p))
                                      for p in
                                      tail.problems[:10]])
                if not yes and not typer.confirm(
                        _("Seal these {n} event(s)? Your signature vouches for them and the "
                          "rows they record").format(n=tail.count), default=False):
                    console.print(_("nothing sealed"))
                    raise typer.Exit(code=1)
                through = tail.through
        cp = flow.checkpoint(reg, seal=seal, through=through)
        cp.write(out)
    console.print(_("checkpoint of event {seq} ({hash}…) signed by {key} → {out}").format(
        seq=cp.seq, hash=cp.hash[:16], key=cp.key, out=out), soft_wrap=True, highlight=False)


@registry_app.command()
def statement(user: Annotated[str, typer.Option(help=N_("user id (the beneficiary)"))],
              month: Annotated[str, typer.Option(help="YYYY-MM")],
              scenario: Annotated[Path, typer.Option("--scenario", "-s")],
              out: Annotated[Path, typer.Option(help=N_("folder for <user>_<month>.json/.html"))],
              store: Annotated[Path | None, typer.Option(help=N_("meter store"))] = None,
              db: Db = DEFAULT_DB) -> None:
    """Monthly statement of matched green energy and claimed certificates (JSON + HTML)."""
    from greenlink.errors import InputError
    from greenlink.scenario.load import load_scenario
    from greenlink.workflows import registry as flow

    with user_errors():
        sc = load_scenario(scenario).scenario
        if user not in sc.user_ids:
            raise InputError(_("unknown user {user!r} (users: {users})").format(
                user=user, users=", ".join(sc.user_ids)))
        st = flow.statement(_open(db, writes=False), sc, store or default_store(scenario),
                            user_id=user, month=month)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{user}_{month}.json").write_text(jsonio.dumps(st, indent=1))
        (out / f"{user}_{month}.html").write_text(flow.statement_html(st))
        console.print(_("{user} {month}: matched {matched:,.1f} kWh, claimed {claimed:,} Wh → "
                        "{out}").format(user=user, month=month,
                                        matched=st["metered"]["matched_green_kwh"],
                                        claimed=st["certificates"]["claimed_wh"], out=out))


@registry_app.command()
def export(out: Annotated[Path, typer.Option(help=N_(".json or .csv"))],
           status: Annotated[str | None, typer.Option(help=N_("e.g. Active, Claimed"))] = None,
           account_id: Annotated[str | None, typer.Option("--account")] = None,
           db: Db = DEFAULT_DB) -> None:
    """Export bundles with the EnergyTag GC fields (FEA names) as JSON or CSV."""
    from greenlink.workflows import registry as flow

    with user_errors():
        n = flow.export(_open(db, writes=False), out, status=status, account_id=account_id)
        console.print(f"{n} bundles → {out}")


gec_app = typer.Typer(add_completion=False, no_args_is_help=True,
                      help=N_("China green certificates (GEC, 绿证): import records, show what "
                           "they back."))
registry_app.add_typer(gec_app, name="gec")


@gec_app.command("import")
def gec_import(file: Annotated[Path, typer.Argument(help=N_("CSV export of GEC records (UTF-8, "
                                                         "UTF-8 with BOM or GBK)"))],
               mapping: Annotated[Path, typer.Option(help=N_("mapping file (TOML): columns and "
                                                          "values of the export"))],
               db: Db = DEFAULT_DB) -> None:
    """Import GEC records (issuance, transfer, cancellation, expiry); all rows or none."""
    from greenlink.workflows import registry as flow

    with user_errors():
        r = flow.import_gec(_open(db), file, mapping)
    gecs = ", ".join(f"{n:,} {status}" for status, n in sorted(r.gec_by_status.items()))
    console.print(_("{file}: {imported} of {rows} records imported").format(
        file=file, imported=r.imported, rows=r.rows)
                  + (f" ({gecs} GEC)" if gecs else "")
                  + (_("; {n} imported before").format(n=r.already_imported)
                     if r.already_imported else "")
                  + (_("; {n} known from another export").format(n=r.known) if r.known else ""),
                  soft_wrap=True)
    if r.own_parties or r.external_parties:
        console.print(_("  park accounts: {own}; external: {external}").format(
            own=", ".join(r.own_parties) or "—", external=", ".join(r.external_parties) or "—"),
                      soft_wrap=True)


@gec_app.command("position")
def gec_position(device: Annotated[str, typer.Option(help=N_("registry device id"))],
                 month: Annotated[str, typer.Option(help=N_("production month YYYY-MM"))],
                 beneficiary: Annotated[str | None, typer.Option(
                     help=N_("headroom for this beneficiary"))] = None,
                 purpose: Annotated[UserClaimPurpose | None, typer.Option(
                     help=N_("headroom for this purpose"))] = None,
                 db: Db = DEFAULT_DB) -> None:
    """GECs of a device and month, the Wh claimed against them and what may still be claimed."""
    from greenlink.workflows import registry as flow

    with user_errors():
        p = flow.gec_position(_open(db, writes=False), device, month)
    d = p.as_dict()
    if not p.has_records:
        console.print(_("{device} {month}: no GEC records imported (GEC pending): nothing may "
                        "be claimed yet").format(device=device, month=d["month"]))
        return
    console.print(_("{device} {month}: {issued:,} GEC issued; retained {retained:,} (held "
                    "{held:,}, of them tradable {tradable:,}; cancelled for the park {own:,}); "
                    "transferred away {away:,}; cancelled for others {elsewhere:,}; expired "
                    "{expired:,}").format(
        device=device, month=d["month"], issued=p.issued_gec, retained=p.retained_gec,
        held=p.held_gec, tradable=p.held_tradable_gec, own=p.cancelled_own_gec,
        away=p.transferred_away_gec, elsewhere=p.cancelled_elsewhere_gec,
        expired=p.expired_gec), soft_wrap=True)
    console.print(_("  claimed {claimed:,} Wh (uncovered {uncovered:,}); may still claim "
                    "{headroom:,} Wh").format(claimed=p.claimed_wh, uncovered=p.uncovered_wh,
                                              headroom=p.headroom_wh(beneficiary, purpose))
                  + (_(" for {beneficiary}").format(beneficiary=beneficiary)
                     if beneficiary else "")
                  + (f" ({purpose})" if purpose else ""), soft_wrap=True)
