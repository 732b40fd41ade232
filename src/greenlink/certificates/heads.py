"""Signed chain heads: the operator's signature over the registry's history, the keys a verifier
trusts, and checkpoints a buyer keeps.

* The last event of every commit is signed with the operator's Ed25519 key
  (:mod:`greenlink.signing.keys`, ``greenlink keys generate``): the signature covers
  :func:`head_message` — the event's sequence number and hash, which chain every earlier event
  and, through the row digests the events record, every chained row (:mod:`greenlink.certificates
  .audit`). The event row stores the signature and the signer's raw public key (hex).
* A verifier checks signatures only with keys it trusts (:class:`Trust`): a public key file
  (``--key``), the fingerprints of its keyring (:mod:`greenlink.signing.trust`), or — for the
  operator — every key of their own key folder, retired ones included. A key stored in the
  database is never trusted for what it is: it is used only when its fingerprint (SHA-256 of the
  key bytes) is one the verifier trusts, which makes it the trusted key.
* A :class:`Checkpoint` is a signed head kept outside the database (``greenlink registry
  checkpoint --out FILE``); ``verify --checkpoint FILE`` proves the registry still extends it.

This module imports only :mod:`greenlink.signing` and :mod:`greenlink.errors` (no registry code).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from greenlink import jsonio
from greenlink.errors import InputError, Problem
from greenlink.signing import keys as signing_keys
from greenlink.signing import trust as signing_trust

HEAD_DOMAIN = "greenlink-registry-head/1"
CHECKPOINT_FORMAT = "greenlink-registry-checkpoint/1"


def head_message(seq: int, hash_: str) -> bytes:
    """What the operator signs for the head at event ``seq`` (domain-separated from packs)."""
    return f"{HEAD_DOMAIN}\n{seq}\n{hash_}\n".encode()


def checkpoint_message(seq: int, hash_: str, event_at: str, signed_at: str) -> bytes:
    """What a checkpoint's signature covers."""
    return f"{CHECKPOINT_FORMAT}\n{seq}\n{hash_}\n{event_at}\n{signed_at}\n".encode()


def raw_hex(public_key: Ed25519PublicKey) -> str:
    """The 32 raw public-key bytes as 64 hex digits (what an event row stores)."""
    return public_key.public_bytes(serialization.Encoding.Raw,
                                   serialization.PublicFormat.Raw).hex()


def public_from_hex(text: str) -> Ed25519PublicKey | None:
    """The public key of 64 hex digits, or ``None`` when the text is not one."""
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except ValueError:
        return None


def fingerprint_of_hex(text: str) -> str | None:
    key = public_from_hex(text)
    return None if key is None else signing_keys.fingerprint(key)


@dataclass(frozen=True)
class Signer:
    """The operator's private key, as the registry signs heads with it."""

    private_key: Ed25519PrivateKey
    public_hex: str
    fingerprint: str
    key_dir: Path | None = None

    @classmethod
    def from_private_key(cls, key: Ed25519PrivateKey, key_dir: Path | None = None) -> Signer:
        pub = key.public_key()
        return cls(key, raw_hex(pub), signing_keys.fingerprint(pub), key_dir)

    @classmethod
    def from_key_dir(cls, key_dir: Path) -> Signer:
        """The active key of a key folder (:func:`greenlink.signing.keys.load_private_key`)."""
        return cls.from_private_key(signing_keys.load_private_key(key_dir), key_dir)

    def sign_head(self, seq: int, hash_: str) -> str:
        return signing_keys.sign(self.private_key, head_message(seq, hash_)).hex()


def signer_from_key_dir(key_dir: Path | None) -> Signer | None:
    """The signer of ``key_dir`` (default ``$GREENLINK_KEY_DIR`` or ``~/.greenlink/keys``).

    ``None`` when no ``key_dir`` was given and the default folder holds no key: the registry then
    writes unsigned heads (``verify`` with a trusted key reports them). A folder given explicitly
    must hold a key.
    """
    if key_dir is None:
        folder = signing_keys.default_key_dir()
        if not (folder / signing_keys.PRIVATE_NAME).exists():
            return None
        return Signer.from_key_dir(folder)
    return Signer.from_key_dir(Path(key_dir))


@dataclass(frozen=True)
class Trust:
    """Keys a verifier trusts: fingerprint → public key (``None``: known by fingerprint only, the
    key bytes then come with the signature and must hash to the fingerprint) and a label."""

    keys: dict[str, Ed25519PublicKey | None] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.keys)

    def merged(self, other: Trust) -> Trust:
        keys = dict(other.keys)
        for fp, key in self.keys.items():
            keys[fp] = key if key is not None else keys.get(fp)
        return Trust(keys, {**other.labels, **self.labels})

    def check(self, signer_hex: str, message: bytes, signature_hex: str) -> str:
        """``"ok"``, ``"untrusted"`` (a valid key the verifier does not trust) or ``"bad"`` (no
        key, or the signature does not match the message)."""
        stored = public_from_hex(signer_hex or "")
        if stored is None:
            return "bad"
        fp = signing_keys.fingerprint(stored)
        if fp not in self.keys:
            return "untrusted"
        key = self.keys[fp] or stored
        try:
            signature = bytes.fromhex(signature_hex or "")
        except ValueError:
            return "bad"
        return "ok" if signing_keys.signature_valid(key, signature, message) else "bad"

    @classmethod
    def from_public_key_file(cls, path: Path) -> Trust:
        if not path.is_file():
            raise InputError(Problem("key file not found", file=str(path),
                                     expected="the operator's public key (PEM)"))
        key = signing_keys.load_public_key(path.read_bytes(), str(path))
        fp = signing_keys.fingerprint(key)
        return cls({fp: key}, {fp: f"--key {path}"})

    @classmethod
    def from_keyring(cls, path: Path | None = None) -> Trust:
        """The verifier's keyring of trusted fingerprints (``greenlink keys trust``)."""
        found = signing_trust.read_trusted(path)
        return cls(dict.fromkeys(found), {fp: label or "keyring" for fp, label in found.items()})

    @classmethod
    def from_key_dir(cls, key_dir: Path) -> Trust:
        """Every public key of the operator's own key folder, retired ones included."""
        keys: dict[str, Ed25519PublicKey | None] = {}
        labels: dict[str, str] = {}
        for info in signing_keys.read_keyring(key_dir):
            key = signing_keys.load_public_key(info.public_pem.encode(), str(key_dir))
            keys[info.fingerprint] = key
            labels[info.fingerprint] = f"own key #{info.sequence} ({info.status})"
        public = key_dir / signing_keys.PUBLIC_NAME
        if public.is_file():
            key = signing_keys.load_public_key(public.read_bytes(), str(public))
            fp = signing_keys.fingerprint(key)
            keys.setdefault(fp, key)
            labels.setdefault(fp, "own key")
        return cls(keys, labels)


def verifier_trust(*, key_file: Path | None = None, keyring: Path | None = None,
                   key_dir: Path | None = None) -> Trust:
    """The keys ``greenlink registry verify`` trusts.

    ``key_file`` alone when given; else the keyring's fingerprints and the keys of the operator's
    own key folder (``key_dir``, default ``$GREENLINK_KEY_DIR`` or ``~/.greenlink/keys``, when it
    exists). May be empty: the caller refuses to verify without a trusted key.
    """
    if key_file is not None:
        return Trust.from_public_key_file(key_file)
    trust = Trust.from_keyring(keyring)
    folder = key_dir or signing_keys.default_key_dir()
    if (folder / signing_keys.KEYRING_NAME).exists() or (folder / signing_keys.PUBLIC_NAME
                                                           ).exists():
        trust = trust.merged(Trust.from_key_dir(folder))
    return trust


@dataclass(frozen=True)
class Checkpoint:
    """A signed head kept outside the registry database."""

    seq: int
    hash: str
    event_at: str
    signed_at: str
    key: str  # fingerprint
    public_key: str  # raw, hex
    signature: str  # hex

    def message(self) -> bytes:
        return checkpoint_message(self.seq, self.hash, self.event_at, self.signed_at)

    @classmethod
    def sign(cls, signer: Signer, seq: int, hash_: str, event_at: str) -> Checkpoint:
        signed_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        sig = signing_keys.sign(signer.private_key,
                                checkpoint_message(seq, hash_, event_at, signed_at)).hex()
        return cls(seq, hash_, event_at, signed_at, signer.fingerprint, signer.public_hex, sig)

    def to_json(self) -> str:
        body: dict[str, Any] = {"format": CHECKPOINT_FORMAT, "seq": self.seq, "hash": self.hash,
                                "event_at": self.event_at, "signed_at": self.signed_at,
                                "key": self.key, "public_key": self.public_key,
                                "signature": self.signature}
        return jsonio.dumps(body, indent=1) + "\n"

    def write(self, path: Path) -> None:
        """Write atomically (temporary file beside it, then rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path) -> Checkpoint:
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
            if body.get("format") != CHECKPOINT_FORMAT:
                raise ValueError(f"format is not {CHECKPOINT_FORMAT!r}")
            return cls(int(body["seq"]), str(body["hash"]), str(body["event_at"]),
                       str(body["signed_at"]), str(body["key"]), str(body["public_key"]),
                       str(body["signature"]))
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError,
                AttributeError) as exc:
            raise InputError(Problem(f"checkpoint unreadable: {exc}", file=str(path),
                                     expected="a file written by `greenlink registry "
                                     "checkpoint`")) from exc
