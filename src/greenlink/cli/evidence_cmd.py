"""``greenlink evidence build|verify`` and ``greenlink keys generate|show|rotate``.

Mount: ``app.add_typer(evidence_app, name="evidence")`` and ``app.add_typer(keys_app,
name="keys")``. Handlers only call :mod:`greenlink.evidence` functions and print.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from greenlink.cli.common import console, user_errors

evidence_app = typer.Typer(add_completion=False, no_args_is_help=True,
                           help="Signed evidence packs: build, and verify offline.")
keys_app = typer.Typer(add_completion=False, no_args_is_help=True,
                       help="Operator signing keys (Ed25519) for evidence packs.")

KeyDir = Annotated[Path | None, typer.Option(
    "--key-dir", envvar="GREENLINK_KEY_DIR",
    help="key folder (default ~/.greenlink/keys)")]


def _key_dir(key_dir: Path | None) -> Path:
    from greenlink.evidence.keys import default_key_dir

    return key_dir or default_key_dir()


@keys_app.command()
def generate(key_dir: KeyDir = None) -> None:
    """Create the operator's signing key (private key file mode 0600)."""
    from greenlink.evidence.keys import generate_key

    with user_errors():
        folder = _key_dir(key_dir)
        info = generate_key(folder)
        console.print(f"signing key written to {folder}")
        console.print(f"fingerprint {info.fingerprint}  (give it to verifiers out of band)",
                      highlight=False)


@keys_app.command()
def show(key_dir: KeyDir = None) -> None:
    """List the keyring: active and retired public keys with fingerprints."""
    from greenlink.evidence.keys import PUBLIC_NAME, show_keys

    with user_errors():
        folder = _key_dir(key_dir)
        for k in show_keys(folder):
            console.print(f"{k.status:8} #{k.sequence}  {k.fingerprint}", highlight=False)
        console.print(f"public key file: {folder / PUBLIC_NAME}", highlight=False)


@keys_app.command()
def rotate(key_dir: KeyDir = None) -> None:
    """New signing key; the old private key is deleted, its public key kept as retired."""
    from greenlink.evidence.keys import rotate_key

    with user_errors():
        old, new = rotate_key(_key_dir(key_dir))
        console.print(f"retired {old.fingerprint}", highlight=False)
        console.print(f"active  {new.fingerprint}  (give it to verifiers out of band)",
                      highlight=False)


@evidence_app.command()
def build(claim: Annotated[Path, typer.Option("--claim", help="claim file (TOML)")],
          out: Annotated[Path, typer.Option("--out", help="pack file to write (.zip)")],
          key_dir: KeyDir = None) -> None:
    """Build a signed evidence pack for a claim."""
    from greenlink.evidence.build import build_pack
    from greenlink.evidence.keys import load_private_key
    from greenlink.workflows.evidence import request_from_spec

    with user_errors():
        key = load_private_key(_key_dir(key_dir))
        built = build_pack(request_from_spec(claim), key, out)
        console.print(built.claim["statement"], highlight=False)
        console.print(f"pack {out} ({built.files} files, {len(built.data):,} bytes), signed by "
                      f"{built.fingerprint}", highlight=False)


@evidence_app.command()
def verify(pack: Path,
           key: Annotated[Path | None, typer.Option(
               "--key", help="operator's public key (PEM); without it the embedded key is "
                             "used and its fingerprint printed")] = None,
           against: Annotated[list[Path] | None, typer.Option(
               "--against", help="other packs: flag certificate ranges claimed twice")] = None,
           as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Verify a pack offline: signature, hashes, recomputed claim. Exit 0 pass, 1 fail."""
    from greenlink.evidence.keys import load_public_key
    from greenlink.evidence.verify import verify_pack

    with user_errors():
        public = None
        if key is not None:
            if not key.is_file():
                from greenlink.errors import InputError, Problem

                raise InputError(Problem("key file not found", file=str(key)))
            public = load_public_key(key.read_bytes(), str(key))
        report = verify_pack(pack, public, against or [])
    if as_json:
        typer.echo(json.dumps({"pack": report.pack, "ok": report.ok,
                               "failure": None if report.failure is None else {
                                   "file": report.failure.file, "row": report.failure.row,
                                   "field": report.failure.field,
                                   "message": report.failure.message},
                               "fingerprint": report.fingerprint,
                               "key_trusted": report.key_trusted,
                               "files_checked": report.files_checked,
                               "notes": list(report.notes)}, indent=2))
    elif report.ok:
        console.print(f"PASS {pack}: signature by {report.fingerprint}, "
                      f"{report.files_checked} file hashes, claim recomputed and equal",
                      highlight=False)
        console.print(str(report.claim.get("statement", "")), highlight=False)
        for note in report.notes:
            console.print(f"note: {note}", highlight=False)
    else:
        console.print(f"FAIL {pack}: {report.failure}", highlight=False, markup=False)
    raise typer.Exit(code=0 if report.ok else 1)
