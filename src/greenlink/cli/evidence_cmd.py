"""``greenlink evidence build|verify`` and ``greenlink keys generate|show|rotate|trust|untrust|
trusted``.

Mount: ``app.add_typer(evidence_app, name="evidence")`` and ``app.add_typer(keys_app,
name="keys")``. Handlers only call :mod:`greenlink.evidence` functions and print.

Exit codes of ``evidence verify``: 0 PASS (signer trusted, every check holds), 1 FAIL (a check
failed: the file and field are printed), 2 bad input (key or keyring file unreadable, bad
option), 3 UNTRUSTED (every check holds but the signer is neither ``--key`` nor in the keyring).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from greenlink import jsonio
from greenlink.cli.common import plain_console as console
from greenlink.cli.common import user_errors
from greenlink.i18n import N_
from greenlink.i18n import gettext as _

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

evidence_app = typer.Typer(add_completion=False, no_args_is_help=True,
                           help=N_("Signed evidence packs: build, and verify offline."))
keys_app = typer.Typer(add_completion=False, no_args_is_help=True,
                       help=N_("Operator signing keys (Ed25519) for evidence packs."))

KeyDir = Annotated[Path | None, typer.Option(
    "--key-dir", envvar="GREENLINK_KEY_DIR",
    help=N_("key folder (default ~/.greenlink/keys)"))]
Keyring = Annotated[Path | None, typer.Option(
    "--keyring", envvar="GREENLINK_KEYRING",
    help=N_("verifier's keyring of trusted fingerprints (default "
         "<config dir>/greenlink/trusted_keys.json)"))]
#: Exit codes of ``evidence verify``.
EXIT_PASS, EXIT_FAIL, EXIT_UNTRUSTED = 0, 1, 3


def _key_dir(key_dir: Path | None) -> Path:
    from greenlink.signing.keys import default_key_dir

    return key_dir or default_key_dir()


@keys_app.command()
def generate(key_dir: KeyDir = None) -> None:
    """Create the operator's signing key (private key file mode 0600)."""
    from greenlink.signing.keys import generate_key

    with user_errors():
        folder = _key_dir(key_dir)
        info = generate_key(folder)
        console.print(_("signing key written to {folder}").format(folder=folder))
        console.print(_("fingerprint {fingerprint}  (give it to verifiers out of band)").format(
            fingerprint=info.fingerprint), highlight=False)


@keys_app.command()
def show(key_dir: KeyDir = None) -> None:
    """List the keyring: active and retired public keys with fingerprints."""
    from greenlink.signing.keys import PUBLIC_NAME, show_keys

    with user_errors():
        folder = _key_dir(key_dir)
        for k in show_keys(folder):
            console.print(f"{k.status:8} #{k.sequence}  {k.fingerprint}", highlight=False)
        console.print(_("public key file: {path}").format(path=folder / PUBLIC_NAME),
                      highlight=False)


@keys_app.command()
def rotate(key_dir: KeyDir = None) -> None:
    """New signing key; the old private key is deleted, its public key kept as retired."""
    from greenlink.signing.keys import rotate_key

    with user_errors():
        old, new = rotate_key(_key_dir(key_dir))
        console.print(_("retired {fingerprint}").format(fingerprint=old.fingerprint),
                      highlight=False)
        console.print(_("active  {fingerprint}  (give it to verifiers out of band)").format(
            fingerprint=new.fingerprint), highlight=False)


def _keyring(path: Path | None) -> Path:
    from greenlink.signing.trust import default_keyring_path

    return path or default_keyring_path()


def _read_public(path: Path) -> Ed25519PublicKey:
    from greenlink.errors import InputError, Problem
    from greenlink.signing.keys import load_public_key

    if not path.is_file():
        raise InputError(Problem(_("key file not found"), file=str(path)))
    return load_public_key(path.read_bytes(), str(path))


@keys_app.command("trust")
def trust_cmd(pubkey: Annotated[Path, typer.Argument(help=N_("operator's public key (PEM)"))],
              label: Annotated[str, typer.Option("--label", help=N_("who the key is"))] = "",
              keyring: Keyring = None) -> None:
    """Trust a public key for `evidence verify`: add its fingerprint to your keyring.

    Compare the fingerprint printed here with the operator's out of band first.
    """
    from greenlink.signing.keys import fingerprint
    from greenlink.signing.trust import trust

    with user_errors():
        fp = fingerprint(_read_public(pubkey))
        path = trust(fp, label or pubkey.stem, _keyring(keyring))
        console.print(_("trusted {fingerprint} ({label}) in {path}").format(
            fingerprint=fp, label=label or pubkey.stem, path=path), highlight=False,
                      soft_wrap=True)


@keys_app.command("untrust")
def untrust_cmd(key: Annotated[str, typer.Argument(help=N_("fingerprint, or a public key file"))],
                keyring: Keyring = None) -> None:
    """Remove a key from your keyring: packs it signed verify as UNTRUSTED again."""
    from greenlink.signing.keys import fingerprint
    from greenlink.signing.trust import is_fingerprint, untrust

    with user_errors():
        fp = key if is_fingerprint(key) else fingerprint(_read_public(Path(key)))
        path = untrust(fp, _keyring(keyring))
        console.print(_("no longer trusted: {fingerprint} (keyring {path})").format(
            fingerprint=fp, path=path), highlight=False, soft_wrap=True)


@keys_app.command("trusted")
def trusted_cmd(keyring: Keyring = None) -> None:
    """List the keys your keyring trusts: fingerprint and label."""
    from greenlink.signing.trust import read_trusted

    with user_errors():
        path = _keyring(keyring)
        keys = read_trusted(path)
        for fp, label in keys.items():
            console.print(f"{fp}  {label}", highlight=False, soft_wrap=True)
        console.print(_("{n} trusted key(s) in {path}").format(n=len(keys), path=path),
                      highlight=False, soft_wrap=True)


@evidence_app.command()
def build(claim: Annotated[Path, typer.Option("--claim", help=N_("claim file (TOML)"))],
          out: Annotated[Path, typer.Option("--out", help=N_("pack file to write (.zip)"))],
          key_dir: KeyDir = None) -> None:
    """Build a signed evidence pack for a claim."""
    from greenlink.workflows.evidence import build_from_claim_file

    with user_errors():
        built = build_from_claim_file(claim, _key_dir(key_dir), out)
        console.print(built.claim["statement"], highlight=False)
        console.print(_("pack {out} ({files} files, {size:,} bytes), signed by "
                        "{fingerprint}").format(out=out, files=built.files, size=len(built.data),
                                                fingerprint=built.fingerprint), highlight=False)


@evidence_app.command()
def verify(pack: Path,
           key: Annotated[Path | None, typer.Option(
               "--key", help=N_("operator's public key (PEM); else the signer must be in the "
                             "keyring"))] = None,
           keyring: Keyring = None,
           against: Annotated[list[Path] | None, typer.Option(
               "--against", help=N_("other packs: flag certificate ranges claimed twice"))] = None,
           # the limits' defaults are those of greenlink.evidence.pack.PackLimits
           max_member_mb: Annotated[float, typer.Option(
               "--max-member-mb", help=N_("largest member, MiB unpacked"))] = 256.0,
           max_pack_mb: Annotated[float, typer.Option(
               "--max-pack-mb", help=N_("largest pack, MiB unpacked"))] = 1024.0,
           max_ratio: Annotated[float, typer.Option(
               "--max-ratio", help=N_("largest compression ratio of a member over 1 MiB"))] = 100.0,
           as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Verify a pack offline: trusted signature, hashes, recomputed claim and statement.

    Exit 0 PASS, 1 FAIL, 2 bad input, 3 UNTRUSTED (consistent, but the signer is not trusted).
    """
    from greenlink.signing.trust import read_trusted
    from greenlink.workflows.evidence import verify_pack_file

    with user_errors():
        public = _read_public(key) if key is not None else None
        ring = _keyring(keyring)
        report = verify_pack_file(pack, public, against or [], read_trusted(ring),
                                  max_member_mb=max_member_mb, max_pack_mb=max_pack_mb,
                                  max_ratio=max_ratio)
    code = {"PASS": EXIT_PASS, "UNTRUSTED": EXIT_UNTRUSTED}.get(report.status, EXIT_FAIL)
    if as_json:
        typer.echo(jsonio.dumps({"pack": report.pack, "status": report.status, "ok": report.ok,
                               "failure": None if report.failure is None else {
                                   "file": report.failure.file, "row": report.failure.row,
                                   "field": report.failure.field,
                                   "message": report.failure.message},
                               "fingerprint": report.fingerprint,
                               "key_trusted": report.key_trusted,
                               "trusted_by": report.trusted_by,
                               "keyring": str(ring),
                               "files_checked": report.files_checked,
                               "notes": list(report.notes)}, indent=2))
    elif report.status == "PASS":
        console.print(_("PASS {pack}: signature by {fingerprint} (trusted: {trusted_by}), "
                        "{files} file hashes, claim recomputed and equal, statement and summary "
                        "regenerated and equal").format(
                          pack=pack, fingerprint=report.fingerprint,
                          trusted_by=report.trusted_by, files=report.files_checked),
                      highlight=False, soft_wrap=True)
        console.print(str(report.claim.get("statement", "")), highlight=False, soft_wrap=True)
        for note in report.notes:
            console.print(_("note: {note}").format(note=note), highlight=False, soft_wrap=True)
    elif report.status == "UNTRUSTED":
        console.print(_("UNTRUSTED {pack}: signed by {fingerprint}, a key you have not trusted "
                        "(not given with --key, not in the keyring {ring}).").format(
                          pack=pack, fingerprint=report.fingerprint, ring=ring),
                      highlight=False, markup=False, soft_wrap=True)
        console.print(_("The pack is internally consistent, but anyone can make a consistent "
                        "pack with a key of their own: its claim is not verified. If "
                        "{fingerprint} is the operator's fingerprint (compare it out of band), "
                        "run `greenlink keys trust OPERATOR.pub` or pass --key.").format(
                          fingerprint=report.fingerprint),
                      highlight=False, markup=False, soft_wrap=True)
    else:
        console.print(f"FAIL {pack}: {report.failure}", highlight=False, markup=False,
                      soft_wrap=True)
        for note in report.notes:
            console.print(_("note: {note}").format(note=note), highlight=False, markup=False,
                          soft_wrap=True)
    raise typer.Exit(code=code)
