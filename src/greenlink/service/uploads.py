"""Scenario uploads: place the files a scenario references, then validate before storing.

An upload is one scenario TOML plus the files it references by relative ``path`` (series, weather).
Every referenced path must be relative and stay inside the scenario folder; every uploaded file
must be referenced. The bundle is written into a temporary folder, validated with
:func:`greenlink.scenario.load.parse_scenario` (before anything is written) and
:func:`greenlink.inputs.build_inputs` (every series is read), and only then moved into place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from greenlink.errors import InputError, Problem, ProblemList
from greenlink.scenario.load import LoadedScenario, parse_scenario

SCENARIO_NAME = "park.toml"
MAX_NAME_CHARS = 200
MAX_NAME_BYTES = 255  # most file systems' limit of one name


def check_upload_name(name: str | None, field: str = "files", utf8: bool = True) -> str:
    """An uploaded file's name, if it is a plain file name; otherwise :class:`InputError`
    (HTTP 422): empty, longer than :data:`MAX_NAME_CHARS` characters (or 255 bytes of UTF-8),
    with control or invisible format characters (NUL, newline …), undecodable bytes (or sent
    as bytes that are not UTF-8: ``utf8=False``), or a folder part (``/``, ``\\``, ``..``)."""
    shown = repr(name[:60] + ("…" if len(name) > 60 else "")) if name else "''"
    expected = "a plain file name such as loads.csv"
    problem = None
    if not name or not name.strip():
        problem = "a file without a name"
    elif not utf8:
        problem = f"file name {shown} is not UTF-8 text"
    elif len(name) > MAX_NAME_CHARS or \
            len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        problem = f"file name {shown} is longer than {MAX_NAME_CHARS} characters"
    elif any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
             for c in name):
        problem = f"file name {shown} contains control or undecodable characters"
    elif "/" in name or "\\" in name or name.strip() in (".", ".."):
        problem = f"file name {shown} names a folder"
    if problem is not None or name is None:
        raise InputError(Problem(problem or "a file without a name", location=field,
                                 expected=expected))
    return name


@dataclass(frozen=True)
class UploadedFile:
    """One file of a multipart upload."""

    filename: str
    content: bytes


def is_file_key(key: str) -> bool:
    """Keys whose values name files: ``path``, ``file`` and ``*_path`` / ``*_file(s)``."""
    return key in ("path", "file", "paths", "files") or key.endswith(
        ("_path", "_file", "_paths", "_files"))


def referenced_paths(data: Any) -> list[str]:
    """Every local file named in a parsed scenario (``builtin:`` ones excluded).

    A file is the string value (or each string of a list value) of a key for which
    :func:`is_file_key` holds, at any depth: ``load.path``, ``weather.path``,
    ``batches_file`` …
    """
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            names = [value] if isinstance(value, str) else value if isinstance(value, list) \
                else None
            if is_file_key(str(key)) and names is not None and all(
                    isinstance(n, str) for n in names):
                found.extend(n for n in names if not n.startswith("builtin:"))
            else:
                found.extend(referenced_paths(value))
    elif isinstance(data, list):
        for item in data:
            found.extend(referenced_paths(item))
    return sorted(set(found))


def _safe_relative(path: str) -> PurePosixPath | None:
    p = PurePosixPath(path.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not p.parts or ":" in path:
        return None
    return p


def stage_bundle(files: list[UploadedFile], staging_root: Path) -> tuple[Path, LoadedScenario]:
    """Write and validate an upload in a new folder under ``staging_root``.

    Returns the folder and the validated scenario. On any problem the folder is removed and an
    :class:`InputError` lists every problem.
    """
    from greenlink.workflows.run import build_inputs

    tomls = [f for f in files if f.filename.lower().endswith(".toml")]
    if len(tomls) != 1:
        raise InputError(Problem(f"{len(tomls)} scenario files uploaded", file="upload",
                                 expected="exactly one .toml scenario file"))
    scenario = tomls[0]
    parsed = parse_scenario(scenario.content, file=scenario.filename)
    # the keys the upload set (not defaults), in the file's spelling: what referenced_paths reads
    raw = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
    problems = ProblemList()
    by_name = {Path(f.filename).name: f for f in files if f is not scenario}
    placements: dict[PurePosixPath, UploadedFile] = {}
    for ref in referenced_paths(raw):
        rel = _safe_relative(ref)
        if rel is None:
            problems.add(f"path {ref!r} leaves the scenario folder", file=scenario.filename,
                         expected="a relative path such as series/loads.csv")
            continue
        upload = by_name.get(rel.name)
        if upload is None:
            problems.add(f"references {ref!r}, which was not uploaded", file=scenario.filename,
                         expected=f"a file named {rel.name} in the upload")
            continue
        placements[rel] = upload
    used = {id(f) for f in placements.values()}
    for name, f in by_name.items():
        if id(f) not in used:
            problems.add("not referenced by the scenario", file=name,
                         expected="only the scenario and the files its paths name")
    problems.raise_if_any()

    staging_root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=staging_root))
    try:
        (folder / SCENARIO_NAME).write_bytes(scenario.content)
        for rel, upload in placements.items():
            target = folder.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(upload.content)
        loaded = LoadedScenario(parsed, (folder / SCENARIO_NAME).resolve())
        build_inputs(loaded)
    except BaseException as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, InputError):
            raise as_uploaded(exc, folder) from None
        raise
    return folder, loaded


def as_uploaded(exc: InputError, folder: Path) -> InputError:
    """``exc`` with its problems naming the uploaded files, not their staging paths (any name,
    spaces included: the staging folder is cut from files and messages as a prefix)."""
    prefixes = sorted({f"{f}{os.sep}" for f in (folder, folder.resolve(), folder.absolute())},
                      key=len, reverse=True)

    def cut(text: str) -> str:
        for prefix in prefixes:
            text = text.replace(prefix, "")
        return text

    return InputError([Problem(cut(p.message), cut(p.file) if p.file else p.file,
                               p.location, p.expected) for p in exc.problems])
