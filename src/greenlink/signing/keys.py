"""Operator signing keys: Ed25519 (``cryptography``), stored as PEM files in a key folder.

Layout of a key folder::

    signing_key.pem    private key, PKCS#8 PEM, unencrypted, file mode 0600
    signing_key.pub    public key, SubjectPublicKeyInfo PEM
    keyring.json       every public key this folder ever used: fingerprint, status
                       ("active" or "retired"), PEM, created/retired sequence numbers

The **fingerprint** is ``SHA256:`` + the hex SHA-256 of the 32 raw public-key bytes, grouped in
fours; it is what a verifier compares out of band (phone, letter, contract annex).
``rotate`` makes a new key, deletes the old private key and keeps the old public key in the
keyring as retired, so packs signed earlier still verify against a known key.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from greenlink.errors import GreenlinkError, InputError, Problem

PRIVATE_NAME = "signing_key.pem"
PUBLIC_NAME = "signing_key.pub"
KEYRING_NAME = "keyring.json"
#: Environment variable naming the default key folder.
KEY_DIR_ENV = "GREENLINK_KEY_DIR"


def default_key_dir() -> Path:
    """``$GREENLINK_KEY_DIR`` or ``~/.greenlink/keys``."""
    env = os.environ.get(KEY_DIR_ENV)
    return Path(env) if env else Path.home() / ".greenlink" / "keys"


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """``SHA256:xxxx:xxxx:...`` of the raw 32-byte public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = hashlib.sha256(raw).hexdigest()
    return "SHA256:" + ":".join(digest[i:i + 4] for i in range(0, len(digest), 4))


def public_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_key(data: bytes, source: str = "public key") -> Ed25519PublicKey:
    """Public key from PEM bytes (or a private key PEM, whose public half is taken)."""
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        try:
            key = serialization.load_pem_private_key(data, password=None).public_key()
        except (ValueError, TypeError) as exc:
            raise InputError(Problem("not a PEM Ed25519 key", file=source,
                                     expected="a file written by `greenlink keys`")) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(Problem(f"key type {type(key).__name__} is not Ed25519", file=source,
                                 expected="an Ed25519 public key"))
    return key


def sign(private_key: Ed25519PrivateKey, data: bytes) -> bytes:
    """Ed25519 signature (64 bytes) of ``data``."""
    return private_key.sign(data)


def signature_valid(public_key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``data`` by ``public_key``."""
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class KeyInfo:
    """One public key of a keyring."""

    fingerprint: str
    status: str  # "active" | "retired"
    public_pem: str
    sequence: int


def _write_private(path: Path, key: Ed25519PrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def read_keyring(key_dir: Path) -> list[KeyInfo]:
    path = key_dir / KEYRING_NAME
    if not path.exists():
        return []
    try:
        items = json.loads(path.read_text(encoding="utf-8"))["keys"]
        return [KeyInfo(str(i["fingerprint"]), str(i["status"]), str(i["public_pem"]),
                        int(i["sequence"])) for i in items]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(Problem(f"keyring unreadable: {exc}", file=str(path),
                                 expected="keyring.json written by `greenlink keys`")) from exc


def _write_keyring(key_dir: Path, keys: list[KeyInfo]) -> None:
    body = {"keys": [{"fingerprint": k.fingerprint, "status": k.status,
                      "public_pem": k.public_pem, "sequence": k.sequence} for k in keys]}
    _write_atomic(key_dir / KEYRING_NAME,
                  (json.dumps(body, indent=2, sort_keys=True, allow_nan=False) + "\n").encode())


def _install(key_dir: Path, key: Ed25519PrivateKey, keyring: list[KeyInfo]) -> KeyInfo:
    pub = key.public_key()
    info = KeyInfo(fingerprint(pub), "active", public_pem(pub).decode(),
                   max((k.sequence for k in keyring), default=0) + 1)
    _write_private(key_dir / PRIVATE_NAME, key)
    _write_atomic(key_dir / PUBLIC_NAME, public_pem(pub))
    _write_keyring(key_dir, [*keyring, info])
    return info


def generate_key(key_dir: Path) -> KeyInfo:
    """Create a new signing key in ``key_dir``; refuses to overwrite an existing one."""
    if (key_dir / PRIVATE_NAME).exists():
        raise GreenlinkError(Problem("a signing key already exists",
                                     file=str(key_dir / PRIVATE_NAME),
                                     expected="`greenlink keys rotate` to replace it"))
    key_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(key_dir, 0o700)
    return _install(key_dir, Ed25519PrivateKey.generate(), read_keyring(key_dir))


def rotate_key(key_dir: Path) -> tuple[KeyInfo, KeyInfo]:
    """New active key; the old one is deleted and its public key kept as retired.

    Returns
    -------
    (old, new)
    """
    old_public = load_private_key(key_dir).public_key()
    old_fp = fingerprint(old_public)
    keyring = [k for k in read_keyring(key_dir) if k.fingerprint != old_fp]
    known = [k for k in read_keyring(key_dir) if k.fingerprint == old_fp]
    sequence = known[0].sequence if known else 0
    old = KeyInfo(old_fp, "retired", public_pem(old_public).decode(), sequence)
    keyring = sorted([*keyring, old], key=lambda k: k.sequence)
    new = _install(key_dir, Ed25519PrivateKey.generate(), keyring)
    return old, new


def load_private_key(key_dir: Path) -> Ed25519PrivateKey:
    """The active private key; refuses a key file readable by group or others."""
    path = key_dir / PRIVATE_NAME
    if not path.exists():
        raise InputError(Problem("no signing key", file=str(path),
                                 expected="`greenlink keys generate` first"))
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise InputError(Problem(f"private key file has mode {mode:o}", file=str(path),
                                 expected="mode 600 (chmod 600 the file)"))
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(Problem("not a PEM private key", file=str(path))) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(Problem("not an Ed25519 key", file=str(path), expected="Ed25519"))
    return key


def show_keys(key_dir: Path) -> list[KeyInfo]:
    """Every key of the keyring (the active one last-created), for display."""
    keys = read_keyring(key_dir)
    if not keys:
        raise InputError(Problem("no keyring", file=str(key_dir / KEYRING_NAME),
                                 expected="`greenlink keys generate` first"))
    return keys
