"""The verifier's keyring: fingerprints of the operator keys a verifier trusts, with a label.

``evidence verify`` passes a pack only when its signer is a key the verifier trusts: the one
given with ``--key``, or one whose fingerprint is in this keyring. A pack whose embedded
``signer.pub`` alone vouches for it is UNTRUSTED, however consistent it is, since anyone can sign
a pack with a key of their own.

The keyring is a small JSON file (location: ``--keyring``, else ``$GREENLINK_KEYRING``, else
``<user config dir>/greenlink/trusted_keys.json``)::

    {"format": "greenlink-trusted-keys/1",
     "keys": {"SHA256:1a2b:...": "Jiangsu park operator, key of 2025-03"}}

It is written atomically (temporary file in the same folder, flushed, renamed), file mode 0600.
It is not the operator's key folder ``keyring.json`` (their own active and retired keys).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path

from greenlink.errors import InputError, Problem

#: Environment variable naming the verifier's keyring file.
KEYRING_ENV = "GREENLINK_KEYRING"
KEYRING_FORMAT = "greenlink-trusted-keys/1"
KEYRING_FILE = "trusted_keys.json"
FINGERPRINT_RE = re.compile(r"SHA256(:[0-9a-f]{4}){16}")


def config_dir() -> Path:
    """The user's configuration folder: ``%APPDATA%`` (Windows), ``~/Library/Application
    Support`` (macOS), else ``$XDG_CONFIG_HOME`` or ``~/.config``."""
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def default_keyring_path() -> Path:
    """``$GREENLINK_KEYRING`` or ``<config dir>/greenlink/trusted_keys.json``."""
    env = os.environ.get(KEYRING_ENV)
    return Path(env) if env else config_dir() / "greenlink" / KEYRING_FILE


def is_fingerprint(text: str) -> bool:
    """True for ``SHA256:`` + 16 groups of four lower-case hex digits."""
    return FINGERPRINT_RE.fullmatch(text) is not None


def read_trusted(path: Path | None = None) -> dict[str, str]:
    """Trusted fingerprints → labels (empty when the file does not exist).

    Raises :class:`InputError` when the file exists but is not a keyring: a broken keyring is
    never read as an empty one silently.
    """
    path = path or default_keyring_path()
    if not path.exists():
        return {}
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(body, dict) or body.get("format") != KEYRING_FORMAT:
            raise ValueError(f"format is not {KEYRING_FORMAT!r}")
        keys = body["keys"]
        if not isinstance(keys, dict):
            raise ValueError("'keys' is not an object")
        bad = [fp for fp in keys if not is_fingerprint(str(fp))]
        if bad:
            raise ValueError(f"not a fingerprint: {bad[0]!r}")
        return {str(fp): str(label) for fp, label in keys.items()}
    except (OSError, UnicodeDecodeError, ValueError, KeyError) as exc:
        raise InputError(Problem(f"keyring unreadable: {exc}", file=str(path),
                                 expected="a file written by `greenlink keys trust`")) from exc


def _write(path: Path, keys: dict[str, str]) -> None:
    body = {"format": KEYRING_FORMAT, "keys": dict(sorted(keys.items()))}
    data = (json.dumps(body, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(name, 0o600)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def trust(fingerprint: str, label: str = "", path: Path | None = None) -> Path:
    """Add (or relabel) a fingerprint in the keyring; returns the keyring's path."""
    if not is_fingerprint(fingerprint):
        raise InputError(Problem(f"not a fingerprint: {fingerprint!r}",
                                 expected="SHA256:xxxx:... as `greenlink keys show` prints"))
    path = path or default_keyring_path()
    keys = read_trusted(path)
    keys[fingerprint] = label
    _write(path, keys)
    return path


def untrust(fingerprint: str, path: Path | None = None) -> Path:
    """Remove a fingerprint from the keyring; :class:`InputError` when it is not there."""
    path = path or default_keyring_path()
    keys = read_trusted(path)
    if fingerprint not in keys:
        raise InputError(Problem(f"{fingerprint} is not in the keyring", file=str(path),
                                 expected="a fingerprint `greenlink keys trusted` lists"))
    del keys[fingerprint]
    _write(path, keys)
    return path
