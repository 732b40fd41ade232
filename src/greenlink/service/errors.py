"""Errors of the service layer; the API maps each to one HTTP status.

:func:`public_text` is what every message shown to a caller goes through: it removes the
server's own file paths (data folder, temporary folders, anything under a top-level folder of
this machine) and keeps only the file's name.
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from greenlink.errors import GreenlinkError


class ServiceError(GreenlinkError):
    """Base of the service's own errors (never a bug: always something the caller can fix)."""

    status = 400


class NotAuthenticated(ServiceError):
    status = 401


class NotAllowed(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class TooManyRequests(ServiceError):
    """Too many failed logins, or too many jobs at once: try again after ``retry_after_s``."""

    status = 429

    def __init__(self, message: str, retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


_PATH_CHARS = r"[^\s'\"<>`|]*"


@functools.cache
def _top_level_folders() -> tuple[str, ...]:
    try:
        return tuple(sorted(n for n in os.listdir("/") if os.path.isdir(f"/{n}")))
    except OSError:
        return ("tmp", "home", "usr", "var", "etc", "opt", "srv", "root")


@functools.cache
def _path_pattern(roots: tuple[str, ...]) -> re.Pattern[str]:
    folders = "|".join(re.escape(n) for n in _top_level_folders())
    known = "|".join(re.escape(r) for r in sorted(roots, key=len, reverse=True) if r)
    alternatives = [rf"(?<![\w.~-])/(?:{folders})(?=[/\\]|\b){_PATH_CHARS}",
                    rf"(?<![\w.~-])[A-Za-z]:[\\/]{_PATH_CHARS}"]
    if known:
        alternatives.insert(0, rf"(?:{known}){_PATH_CHARS}")
    return re.compile("|".join(alternatives))


def _last_part(match: re.Match[str]) -> str:
    parts = [p for p in re.split(r"[\\/]", match.group(0)) if p]
    return parts[-1] if parts else "…"


def public_text(text: str, data_dir: Path | str | None = None) -> str:
    """``text`` without server paths: each absolute path (and each path under ``data_dir``,
    relative or not) is replaced by its last part, e.g. ``/srv/x/parks/ab12/loads.csv`` →
    ``loads.csv``."""
    roots: set[str] = {tempfile.gettempdir()}
    if data_dir is not None:
        folder = Path(data_dir)
        roots |= {str(folder), str(folder.absolute()), str(folder.resolve())}
    return _path_pattern(tuple(sorted(roots))).sub(_last_part, text)


def public_data(value: Any, data_dir: Path | str | None = None) -> Any:
    """``value`` (JSON-like: dicts, lists, strings …) with :func:`public_text` applied to every
    string in it."""
    if isinstance(value, str):
        return public_text(value, data_dir)
    if isinstance(value, dict):
        return {k: public_data(v, data_dir) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [public_data(v, data_dir) for v in value]
    return value
