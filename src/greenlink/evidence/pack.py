"""Deterministic zip container for evidence packs, and its reader.

Determinism: members in a fixed order (``manifest.json``, ``manifest.sig``, then the rest by
path), every member's time stamp taken from the data (the end of the claim period, never the
clock), file mode 0644, creator system Unix, DEFLATE at level 6, no extra fields and no archive
comment. Building twice from the same data gives byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from greenlink.errors import InputError, Problem
from greenlink.evidence.manifest import MANIFEST_NAME, SIGNATURE_NAME

#: Largest pack (uncompressed, all members) the reader accepts, bytes — guards zip bombs.
MAX_PACK_BYTES = 2 * 1024**3
_FIRST = (MANIFEST_NAME, SIGNATURE_NAME)
#: zlib level: 6 gives the same size as 9 on these CSV tables in half the time.
COMPRESS_LEVEL = 6


def zip_time(timestamp: dt.datetime) -> tuple[int, int, int, int, int, int]:
    """Zip date-time fields of a (naive or aware: wall clock is used) time stamp; zip's floor is
    1980-01-01 and its seconds have a resolution of 2."""
    t = max(timestamp.replace(tzinfo=None), dt.datetime(1980, 1, 1))
    return (t.year, t.month, t.day, t.hour, t.minute, t.second - t.second % 2)


def member_order(names: list[str]) -> list[str]:
    """Manifest and signature first, then every other member sorted by path."""
    return [n for n in _FIRST if n in names] + sorted(n for n in names if n not in _FIRST)


def pack_bytes(members: Mapping[str, bytes], timestamp: dt.datetime) -> bytes:
    """The zip archive of ``members`` (path → bytes) as bytes, deterministically."""
    buf = io.BytesIO()
    when = zip_time(timestamp)
    with zipfile.ZipFile(buf, "w") as zf:
        for name in member_order(list(members)):
            _check_name(name, "pack")
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = (0o100644 & 0xFFFF) << 16
            zf.writestr(info, members[name], compress_type=zipfile.ZIP_DEFLATED,
                        compresslevel=COMPRESS_LEVEL)
    return buf.getvalue()


def write_pack(path: Path, members: Mapping[str, bytes], timestamp: dt.datetime) -> Path:
    """Write the pack atomically (temporary file + rename); nothing half-written on error."""
    data = pack_bytes(members, timestamp)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".pack-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _check_name(name: str, source: str) -> None:
    p = PurePosixPath(name)
    if not name or p.is_absolute() or ".." in p.parts or "\\" in name or name.endswith("/"):
        raise InputError(Problem(f"unsafe member name {name!r}", file=source,
                                 expected="relative paths without '..'"))


def read_pack(path: Path) -> dict[str, bytes]:
    """Members of a pack (a zip file, or a folder holding the unpacked members).

    Raises :class:`InputError` for a missing or broken file, duplicate or unsafe member names,
    or a pack larger than :data:`MAX_PACK_BYTES`.
    """
    if path.is_dir():
        return {p.relative_to(path).as_posix(): p.read_bytes()
                for p in sorted(path.rglob("*")) if p.is_file()}
    if not path.exists():
        raise InputError(Problem("pack not found", file=str(path)))
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise InputError(Problem(f"duplicate members {dupes}", file=str(path),
                                         expected="each member once"))
            if sum(i.file_size for i in infos) > MAX_PACK_BYTES:
                raise InputError(Problem("pack too large", file=str(path),
                                         expected=f"at most {MAX_PACK_BYTES} bytes unpacked"))
            out = {}
            for info in infos:
                if info.is_dir():
                    continue
                _check_name(info.filename, str(path))
                out[info.filename] = zf.read(info)
            return out
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
        raise InputError(Problem(f"not a readable zip: {exc}", file=str(path),
                                 expected="a pack written by `greenlink evidence build`")) from exc
