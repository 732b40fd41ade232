"""Deterministic zip container for evidence packs, and its reader, which trusts nothing it reads.

Determinism: members in a fixed order (``manifest.json``, ``manifest.sig``, then the rest by
path), every member's time stamp taken from the data (the end of the claim period, never the
clock), file mode 0644, creator system Unix, DEFLATE at level 6, no extra fields and no archive
comment. Building twice from the same data gives byte-identical files.

Reading (:func:`open_pack`): the zip's central directory is inspected *before* any member is
read, and the pack is refused (:class:`~greenlink.evidence.tables.PackFailure` naming the
member) for a directory entry, a symbolic link or other non-regular entry, an absolute name, a
``..`` or ``.`` component, a backslash, colon or control character, a duplicate name, an
encrypted member, a compression method other than stored/DEFLATE, or a declared size or
compression ratio over :class:`PackLimits`. Members are then read on demand only: hashed as a
stream in chunks of :data:`CHUNK_BYTES`, and loaded into memory only when verification parses
them — each read stops as soon as it passes the member's limit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import stat
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from greenlink.errors import InputError, Problem
from greenlink.evidence.manifest import MANIFEST_NAME, SIGNATURE_NAME
from greenlink.evidence.tables import PackFailure, fail

MIB = 1024**2
GIB = 1024**3
#: Bytes read at a time when a member is hashed or loaded.
CHUNK_BYTES = MIB
_FIRST = (MANIFEST_NAME, SIGNATURE_NAME)
#: zlib level: 6 gives the same size as 9 on these CSV tables in half the time.
COMPRESS_LEVEL = 6


@dataclass(frozen=True)
class PackLimits:
    """What the pack reader accepts; anything over a limit is refused before it is read.

    Attributes
    ----------
    max_members
        Entries in the zip (default 10,000; a pack has about 15).
    max_member_bytes
        Uncompressed size of one member, as declared in the zip and as actually read
        (default 256 MiB: ten years of 15-minute data of 50 generators fit). It is also the most
        memory one member can take when verification parses it.
    max_pack_bytes
        Uncompressed size of all members together (default 1 GiB).
    max_ratio
        Uncompressed ÷ compressed size of one member (default 100; the pack's CSV tables
        compress 3–6×, a zip bomb about 1,000×), checked for members larger than
        ``ratio_floor_bytes`` (default 1 MiB) only, so small files of repeated bytes pass.
    """

    max_members: int = 10_000
    max_member_bytes: int = 256 * MIB
    max_pack_bytes: int = 1 * GIB
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 1 * MIB


DEFAULT_LIMITS = PackLimits()


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
    clash = collision(list(members))
    if clash is not None:
        raise InputError(Problem(f"member {clash[0]!r}: {collision_reason(clash[1])}",
                                 file="pack", expected="member names distinct after case folding"))
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


def write_temp(path: Path, members: Mapping[str, bytes], timestamp: dt.datetime) -> Path:
    """Write the complete pack to a new temporary file beside ``path`` (flushed to disk);
    returns its path. Removed again when writing fails."""
    data = pack_bytes(members, timestamp)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".pack-", suffix=".tmp", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def move_into_place(tmp: Path, path: Path) -> None:
    """Rename the finished temporary file to ``path`` (atomic on one file system)."""
    os.replace(tmp, path)


def write_pack(path: Path, members: Mapping[str, bytes], timestamp: dt.datetime) -> Path:
    """Write the pack atomically (temporary file + rename); nothing half-written on error."""
    tmp = write_temp(path, members, timestamp)
    try:
        move_into_place(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


#: Names Windows reserves for devices, in any folder and with any extension.
_DEVICES = frozenset({"con", "prn", "aux", "nul", "conin$", "conout$", "clock$",
                      *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))})
#: Characters Windows cannot store in a name (zip readers replace them, so two names can meet).
_NOT_ON_WINDOWS = frozenset('<>"|?*')
#: A component that looks like a Windows short (8.3) alias of another: ``SUMMAR~1.HTM``.
_SHORT_ALIAS = re.compile(r"~\d")
#: Longest component most file systems store (bytes of UTF-8).
MAX_COMPONENT_BYTES = 255


def unsafe_name(name: str) -> str | None:
    """Why a member name is refused (None when it is a plain relative path).

    Refused besides path tricks: names not in Unicode NFC (macOS shows them as the NFC member),
    invisible, format or control characters (U+200B, U+202E, U+0085 …) and spaces other than
    U+0020, characters Windows cannot store (``<>"|?*``), components that start with a space,
    end in a dot or space, look like a short 8.3 alias (``~1``), are longer than 255 bytes or
    are named like a Windows device (``CON``, ``COM¹``, ``CONIN$`` …) — each can make a listing
    or an unpacked folder show one member as another, or lose one.
    """
    if not name:
        return "empty name"
    if name.startswith("/"):
        return "absolute path"
    if "\\" in name or ":" in name:
        return "backslash or colon in the name"
    for c in name:
        if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") or (
                unicodedata.category(c) == "Zs" and c != " "):
            return f"control, invisible or unusual space character U+{ord(c):04X} in the name"
        if c in _NOT_ON_WINDOWS:
            return f"character {c!r} that Windows cannot store"
    if unicodedata.normalize("NFC", name) != name:
        return "name not in Unicode NFC (another reader may show it as a different member)"
    parts = name.split("/")
    if name.endswith("/"):
        return "directory entry"
    if ".." in parts:
        return "'..' component"
    if "." in parts or "" in parts:
        return "empty or '.' component"
    for part in parts:
        if part.endswith((".", " ")) or part.startswith(" "):
            return f"component {part!r} starts with a space or ends with a dot or space"
        if fold(part.split(".")[0]).rstrip(" ") in _DEVICES:
            return f"component {part!r} is a Windows device name"
        if _SHORT_ALIAS.search(part):
            return f"component {part!r} looks like a Windows short (8.3) name"
        if len(part.encode("utf-8")) > MAX_COMPONENT_BYTES:
            return f"component longer than {MAX_COMPONENT_BYTES} bytes"
    return None


def fold(name: str) -> str:
    """The name as case-insensitive, compatibility-normalising file systems see it: NFKC, then
    upper case (NTFS compares upper-cased names: ``ı`` meets ``i``), then case folding."""
    return unicodedata.normalize("NFKC", name).upper().casefold()


def collision(names: list[str]) -> tuple[str, str] | None:
    """The first (member, other) pair whose names are one file on a case-insensitive file
    system, or where one member's name is another's folder (``claim.json`` and
    ``claim.json/x`` cannot both be unpacked); ``member`` is the one not already in folded form
    (else the later one)."""
    seen: dict[str, str] = {}
    folders: dict[str, str] = {}
    for name in names:
        key = fold(name)
        other = seen.get(key) or folders.get(key)
        if other is None:
            parts = key.split("/")
            other = next((seen[f] for f in ("/".join(parts[:i]) for i in range(1, len(parts)))
                          if f in seen), None)
        if other is not None:
            return (other, name) if fold(other) != other and fold(name) == name else (name, other)
        seen[key] = name
        parts = key.split("/")
        for i in range(1, len(parts)):
            folders.setdefault("/".join(parts[:i]), name)
    return None


def collision_reason(other: str) -> str:
    return (f"same name as member {other!r} (or its folder) on a case-insensitive file system")


def _check_name(name: str, source: str) -> None:
    reason = unsafe_name(name)
    if reason is not None:
        raise InputError(Problem(f"unsafe member name {name!r}: {reason}", file=source,
                                 expected="relative paths without '..'"))


class _Source:
    """Where members come from: their declared sizes and a way to open one."""

    label: str
    sizes: dict[str, int]

    def open(self, name: str) -> IO[bytes]:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        return None


class _ZipSource(_Source):
    def __init__(self, path: Path, limits: PackLimits) -> None:
        self.label = str(path)
        try:
            self.zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
            raise fail(self.label, f"not a readable zip: {exc} (expected a pack written by "
                       "`greenlink evidence build`)") from exc
        try:
            self.infos = _inspect(self.zf.infolist(), self.label, limits)
        except BaseException:
            self.zf.close()
            raise
        self.sizes = {name: info.file_size for name, info in self.infos.items()}

    def open(self, name: str) -> IO[bytes]:
        return self.zf.open(self.infos[name])

    def close(self) -> None:
        self.zf.close()


def _inspect(infos: list[zipfile.ZipInfo], label: str,
             limits: PackLimits) -> dict[str, zipfile.ZipInfo]:
    """The central directory's entries by name, or a failure for the first refused entry."""
    if len(infos) > limits.max_members:
        raise fail(label, f"{len(infos)} entries, more than the limit of {limits.max_members}")
    out: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        kind = stat.S_IFMT(info.external_attr >> 16) if info.create_system == 3 else 0
        if info.is_dir() or kind == stat.S_IFDIR:
            raise fail(name, "directory entry (a pack holds files only)")
        if kind not in (0, stat.S_IFREG):
            what = "symbolic link" if kind == stat.S_IFLNK else f"special file (type {kind:o})"
            raise fail(name, f"{what} entry (a pack holds regular files only)")
        reason = unsafe_name(name)
        if reason is not None:
            raise fail(name, f"unsafe member name: {reason}")
        if name in out:
            raise fail(name, "duplicate member name")
        if info.flag_bits & 0x1:
            raise fail(name, "encrypted member")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise fail(name, f"compression method {info.compress_type} (expected stored or "
                       "DEFLATE)")
        if info.file_size > limits.max_member_bytes:
            raise fail(name, f"declared size {info.file_size:,} bytes is over the limit of "
                       f"{limits.max_member_bytes:,} (max_member_bytes)")
        if (info.file_size > limits.ratio_floor_bytes
                and info.file_size > limits.max_ratio * max(info.compress_size, 1)):
            raise fail(name, f"compression ratio {info.file_size / max(info.compress_size, 1):,.0f}"
                       f" is over the limit of {limits.max_ratio:g} (max_ratio): a zip bomb?")
        total += info.file_size
        if total > limits.max_pack_bytes:
            raise fail(label, f"members add up to more than {limits.max_pack_bytes:,} bytes "
                       "unpacked (max_pack_bytes)")
        out[name] = info
    clash = collision(list(out))
    if clash is not None:
        raise fail(clash[0], collision_reason(clash[1]))
    return out


class _DirSource(_Source):
    """An unpacked pack: a folder of regular files (symbolic links refused)."""

    def __init__(self, path: Path, limits: PackLimits) -> None:
        self.label = str(path)
        self.root = path
        self.sizes = {}
        total = 0
        for entry in sorted(path.rglob("*")):
            name = entry.relative_to(path).as_posix()
            mode = entry.lstat().st_mode
            if stat.S_ISDIR(mode):
                continue
            if stat.S_ISLNK(mode):
                raise fail(name, "symbolic link (a pack holds regular files only)")
            if not stat.S_ISREG(mode):
                raise fail(name, "not a regular file")
            reason = unsafe_name(name)
            if reason is not None:
                raise fail(name, f"unsafe member name: {reason}")
            size = entry.lstat().st_size
            if size > limits.max_member_bytes:
                raise fail(name, f"size {size:,} bytes is over the limit of "
                           f"{limits.max_member_bytes:,} (max_member_bytes)")
            total += size
            if len(self.sizes) >= limits.max_members or total > limits.max_pack_bytes:
                raise fail(self.label, "more files or bytes than the limits (max_members, "
                           "max_pack_bytes)")
            self.sizes[name] = size
        clash = collision(list(self.sizes))
        if clash is not None:
            raise fail(clash[0], collision_reason(clash[1]))

    def open(self, name: str) -> IO[bytes]:
        path = self.root / name
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        return os.fdopen(os.open(path, flags), "rb")


#: What reading a member may raise when its bytes are broken.
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError,
                NotImplementedError, ValueError)


class PackMembers(Mapping[str, bytes]):
    """The members of an opened pack, as a read-only mapping that reads on demand.

    Iterating, ``in`` and :meth:`size` never read a member. ``members[name]`` loads it (at most
    ``max_member_bytes``; kept for later use) and, once :attr:`expected` holds the manifest's
    hashes, checks the bytes against them. :meth:`digest` hashes a member as a stream.
    """

    def __init__(self, source: _Source, limits: PackLimits) -> None:
        self.source = source
        self.limits = limits
        self.expected: dict[str, tuple[str, int]] = {}
        self._loaded: dict[str, bytes] = {}

    def __iter__(self) -> Iterator[str]:
        return iter(self.source.sizes)

    def __len__(self) -> int:
        return len(self.source.sizes)

    def __contains__(self, name: object) -> bool:
        return name in self.source.sizes

    def size(self, name: str) -> int:
        """Declared (zip) or file-system size of a member, bytes, without reading it."""
        return self.source.sizes[name]

    def _chunks(self, name: str) -> Iterator[bytes]:
        limit = min(self.source.sizes[name], self.limits.max_member_bytes)
        read = 0
        try:
            with self.source.open(name) as fh:
                while chunk := fh.read(CHUNK_BYTES):
                    read += len(chunk)
                    if read > limit:
                        raise fail(name, f"more than its declared {limit:,} bytes")
                    yield chunk
        except PackFailure:
            raise
        except _READ_ERRORS as exc:
            raise fail(name, f"unreadable member: {exc}") from exc
        if read != self.source.sizes[name]:
            raise fail(name, f"{read:,} bytes, the zip declares {self.source.sizes[name]:,}")

    def digest(self, name: str) -> tuple[str, int]:
        """(SHA-256 hex, size) of a member, read as a stream (a loaded member is not re-read)."""
        if name in self._loaded:
            data = self._loaded[name]
            return hashlib.sha256(data).hexdigest(), len(data)
        h = hashlib.sha256()
        size = 0
        for chunk in self._chunks(name):
            h.update(chunk)
            size += len(chunk)
        return h.hexdigest(), size

    def __getitem__(self, name: str) -> bytes:
        if name in self._loaded:
            return self._loaded[name]
        if name not in self.source.sizes:
            raise KeyError(name)
        data = b"".join(self._chunks(name))
        want = self.expected.get(name)
        if want is not None and (hashlib.sha256(data).hexdigest(), len(data)) != want:
            raise fail(name, "bytes differ from manifest.json when read again")
        self._loaded[name] = data
        return data


def member_size(members: Mapping[str, bytes], name: str) -> int:
    """Size of a member without reading it when the pack can tell (else ``len``)."""
    return members.size(name) if isinstance(members, PackMembers) else len(members[name])


def member_digest(members: Mapping[str, bytes], name: str) -> tuple[str, int]:
    """(SHA-256 hex, size) of a member, streamed when the pack is read from a file."""
    if isinstance(members, PackMembers):
        return members.digest(name)
    data = members[name]
    return hashlib.sha256(data).hexdigest(), len(data)


@contextmanager
def open_pack(path: Path, limits: PackLimits = DEFAULT_LIMITS) -> Iterator[PackMembers]:
    """Open a pack (zip file, or folder of the unpacked members) for reading on demand.

    Raises :class:`~greenlink.evidence.tables.PackFailure` naming the pack or the member for a
    missing or broken file and for every entry the reader refuses (module docstring), before
    any member is read.
    """
    source: _Source
    if path.is_dir():
        source = _DirSource(path, limits)
    elif not path.exists():
        raise fail(str(path), "pack not found")
    else:
        source = _ZipSource(path, limits)
    try:
        yield PackMembers(source, limits)
    finally:
        source.close()


def read_pack(path: Path, limits: PackLimits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """Every member of a pack in memory (zip file or folder), within ``limits``.

    Raises :class:`InputError` for a missing or broken file, refused entries (see
    :func:`open_pack`) or a member over the limits.
    """
    try:
        with open_pack(path, limits) as members:
            return {name: members[name] for name in members}
    except PackFailure as exc:
        f = exc.failure
        where = str(path) if f.file == str(path) else f"{path}: {f.file}"
        raise InputError(Problem(f.message, file=where,
                                 expected="a pack written by `greenlink evidence build`")) from exc
