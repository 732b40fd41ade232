"""The pack manifest: every member file with its SHA-256 and size, as canonical JSON.

The manifest is the one thing that is signed; the signature covers its exact bytes, and the
manifest covers every other member of the pack (except the signature file itself).
Canonical form: UTF-8 JSON, keys sorted, two-space indent, members sorted by path, trailing
newline — so the same files always give the same manifest bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from greenlink.errors import InputError, Problem

MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
#: Format of the pack; verify refuses packs of an unknown format.
PACK_FORMAT = "greenlink-evidence-pack/1"


def sha256_hex(data: bytes) -> str:
    """SHA-256 of ``data`` as 64 lower-case hex digits."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ManifestEntry:
    """One member file: its path in the pack, SHA-256 (hex) and size in bytes."""

    path: str
    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class Manifest:
    """Pack format, claim kind, data time stamp and the list of member files."""

    format: str
    claim_kind: str
    data_timestamp: str
    files: tuple[ManifestEntry, ...]

    def entry(self, path: str) -> ManifestEntry | None:
        return next((e for e in self.files if e.path == path), None)

    def to_bytes(self) -> bytes:
        """Canonical JSON bytes (what is signed)."""
        body: dict[str, Any] = {
            "format": self.format,
            "claim_kind": self.claim_kind,
            "data_timestamp": self.data_timestamp,
            "files": [{"path": e.path, "sha256": e.sha256, "size_bytes": e.size_bytes}
                      for e in self.files],
        }
        text = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
        return (text + "\n").encode()


def build_manifest(members: Mapping[str, bytes], claim_kind: str,
                   data_timestamp: str) -> Manifest:
    """Manifest of ``members`` (path → bytes), sorted by path."""
    files = tuple(ManifestEntry(path, sha256_hex(data), len(data))
                  for path, data in sorted(members.items()))
    return Manifest(PACK_FORMAT, claim_kind, data_timestamp, files)


def parse_manifest(data: bytes) -> Manifest:
    """Read manifest bytes; :class:`InputError` naming the field when malformed."""
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(Problem(f"not valid JSON: {exc}", file=MANIFEST_NAME,
                                 expected="a greenlink evidence manifest")) from exc
    if not isinstance(body, dict):
        raise InputError(Problem("not a JSON object", file=MANIFEST_NAME))
    if body.get("format") != PACK_FORMAT:
        raise InputError(Problem(f"unknown pack format {body.get('format')!r}",
                                 file=MANIFEST_NAME, location="format", expected=PACK_FORMAT))
    files = []
    for i, item in enumerate(body.get("files") or []):
        try:
            files.append(ManifestEntry(str(item["path"]), str(item["sha256"]),
                                       int(item["size_bytes"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(Problem(f"bad file entry: {exc}", file=MANIFEST_NAME,
                                     location=f"files[{i}]",
                                     expected="path, sha256, size_bytes")) from exc
    return Manifest(PACK_FORMAT, str(body.get("claim_kind", "")),
                    str(body.get("data_timestamp", "")), tuple(files))
