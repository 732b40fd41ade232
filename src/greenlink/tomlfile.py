"""Reading TOML input files into pydantic models, with *every* problem at once.

One way to read a TOML file for all of greenlink (scenarios, rule sets, fee schedules, claim
files, contract variants, shipped defaults):

* :func:`load_toml` reads a file, :func:`parse_toml` the text (or bytes) of one, such as an
  upload; both validate against a pydantic model and return the model instance;
* :func:`read_toml` returns the raw tables, for a caller that must look at the data before
  choosing a model;
* :func:`validate_toml_data` validates tables already parsed.

Every failure is one :class:`~greenlink.errors.InputError` listing :class:`Problem` s that name
the file, the line where the text lets us find it and the field path
(``location="line 12, users[2].load.column"``), and what was expected. A missing file, a file that
is not UTF-8 and a TOML syntax error are one problem each; schema errors are all reported
together, unknown keys with the closest known key as a suggestion.

This is a bottom-layer module: it imports only :mod:`greenlink.errors`, pydantic and the
standard library.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from greenlink.errors import InputError, Problem

M = TypeVar("M", bound=BaseModel)
Loc = tuple[str | int, ...]
LineIndex = dict[Loc, int]

SYNTAX_EXPECTED = "valid TOML (https://toml.io)"

# ---------------------------------------------------------------------------------------------
# where things are in the text

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*((?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')"
                  r"(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*'))*)\s*=")
_KEY_PART = re.compile(r"\"[^\"]*\"|'[^']*'|[^.]+")


def _split_key(text: str) -> list[str]:
    """``a."b.c".d`` → ``["a", "b.c", "d"]``."""
    return [part.strip().strip("\"'") for part in _KEY_PART.findall(text) if part.strip()]


def line_index(text: str) -> LineIndex:
    """Map TOML paths such as ``("users", 2, "load", "column")`` to 1-based line numbers.

    Table headers, array-of-tables headers (numbered in order) and ``key =`` lines are indexed;
    lines inside multi-line strings are skipped. Values inside inline tables and arrays are
    found through the line of their key (see :func:`find_line`).
    """
    index: LineIndex = {}
    counters: dict[Loc, int] = {}
    table: Loc = ()
    in_string: str | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if in_string:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = _HEADER.match(line) if stripped.startswith("[") else None
        if header:
            names = _split_key(header.group(2))
            # an array-of-tables header appends; a nested header refers to the latest element
            path: list[str | int] = []
            for depth, name in enumerate(names):
                path.append(name)
                key = tuple(path)
                index.setdefault(key, lineno)  # also the array / the enclosing tables
                if header.group(1) == "[[" and depth == len(names) - 1:
                    counters[key] = counters.get(key, -1) + 1
                    path.append(counters[key])
                elif key in counters:
                    path.append(counters[key])
            table = tuple(path)
            index.setdefault(table, lineno)
            continue
        key_match = _KEY.match(line)
        if key_match:
            index.setdefault(table + tuple(_split_key(key_match.group(1))), lineno)
            value = line[key_match.end():]
            for quote in ('"""', "'''"):
                if value.count(quote) % 2 == 1:
                    in_string = quote
                    break
    return index


def find_line(index: LineIndex, loc: Loc) -> int | None:
    """Line of ``loc``, or of the closest enclosing table or key that is in the index."""
    for n in range(len(loc), 0, -1):
        if loc[:n] in index:
            return index[loc[:n]]
    return None


def format_loc(loc: Loc, data: Any = None, id_key: str | None = None) -> str:
    """``users[2].load.column``; with ``id_key``, array elements that are tables with that key
    are labelled: ``rules[0] (id 'share_min').clause_en``."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            if id_key and isinstance(node, dict) and isinstance(node.get(id_key), str):
                out += f" (id {node[id_key]!r})"
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out


@dataclass(frozen=True)
class TomlDocument:
    """A parsed TOML text: its name, the text (for line numbers) and the raw tables."""

    name: str
    data: dict[str, Any]
    text: str | None = None
    id_key: str | None = None

    @cached_property
    def index(self) -> LineIndex:
        """Line numbers of the tables and keys (empty without text)."""
        return line_index(self.text) if self.text is not None else {}

    def line(self, loc: Loc) -> int | None:
        """1-based line of ``loc`` (or of the table that holds it), ``None`` without text."""
        return find_line(self.index, loc)

    def where(self, loc: Loc) -> str:
        """``"line 12, users[2].load.column"`` (without the line where it cannot be found)."""
        line = self.line(loc)
        path = format_loc(loc, self.data, self.id_key) or "(top level)"
        return f"line {line}, {path}" if line else path


#: Checks of the raw tables, run when schema validation failed (a model's own cross-checks run
#: only once every field is valid). Problems whose message is already reported are dropped.
RawChecks = Callable[[TomlDocument], list[Problem]]

# ---------------------------------------------------------------------------------------------
# pydantic locations → field paths of the file


def _members(ann: Any) -> list[Any]:
    """The types an annotation stands for: unions and ``Annotated`` unwrapped."""
    origin = get_origin(ann)
    if origin is Annotated:
        return _members(get_args(ann)[0])
    if origin is Union or origin is types.UnionType:
        return [m for arg in get_args(ann) for m in _members(arg)]
    return [ann]


def _is_model(ann: Any) -> bool:
    return isinstance(ann, type) and issubclass(ann, BaseModel)


def _field_annotation(model: type[BaseModel], key: str) -> Any | None:
    for name, info in model.model_fields.items():
        if key == name or key == info.alias or key == info.validation_alias:
            return info.annotation
    return None


def _known_keys(candidates: Sequence[Any]) -> list[str]:
    keys: set[str] = set()
    for c in candidates:
        if _is_model(c):
            keys.update(info.alias or name for name, info in c.model_fields.items())
    return sorted(keys)


def _walk(model: type[BaseModel], loc: Sequence[str | int], unknown_last: bool
          ) -> tuple[Loc, list[Any]]:
    """The file's path of a pydantic error location, and the types that hold its last key.

    pydantic puts union tags (``'ppa'``, ``'int'``, ``'literal[...]'``,
    ``'function-after[...]'``) and ``'[key]'`` into locations; only the keys that are fields of
    the model at that depth (or keys of a table of free keys) are parts of the file's path.
    With ``unknown_last`` the last part is kept even though no model has it (an unknown key).
    """
    out: list[str | int] = []
    cands: list[Any] = [model]
    parent: list[Any] = cands
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        nxt: list[Any] = []
        matched = False
        for c in cands:
            origin = get_origin(c)
            args = get_args(c)
            if c is Any:
                matched = True
                nxt.append(Any)
            elif isinstance(part, int):
                if origin in (list, tuple, set, frozenset) or (
                        isinstance(origin, type) and issubclass(origin, Sequence)):
                    matched = True
                    elem = args[0] if args else Any
                    if origin is tuple and len(args) > part and args[-1] is not Ellipsis:
                        elem = args[part]
                    nxt.extend(_members(elem))
                elif origin is dict or (isinstance(origin, type) and issubclass(origin, Mapping)):
                    matched = True
                    nxt.extend(_members(args[1] if len(args) == 2 else Any))
            elif _is_model(c):
                ann = _field_annotation(c, part)
                if ann is not None:
                    matched = True
                    nxt.extend(_members(ann))
            elif (origin is dict or (isinstance(origin, type) and issubclass(origin, Mapping))) \
                    and not part.startswith("["):
                matched = True
                nxt.extend(_members(args[1] if len(args) == 2 else Any))
        if matched or isinstance(part, int):
            out.append(part)
            parent, cands = cands, nxt
        elif last and unknown_last:
            out.append(part)
            parent = cands
    return tuple(out), parent


_EXPECTED = {
    "missing": "this field to be set",
    "float_parsing": "a number",
    "float_type": "a number",
    "int_parsing": "an integer",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "decimal_parsing": "a number",
    "decimal_type": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a text in quotes",
    "list_type": "a list [ ... ]",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "date_type": "a TOML date such as 2025-10-01",
    "date_parsing": "a TOML date such as 2025-10-01",
    "date_from_datetime_inexact": "a TOML date such as 2025-10-01",
    "datetime_type": "a TOML date-time such as 2025-10-01T00:00:00",
    "datetime_parsing": "a TOML date-time such as 2025-10-01T00:00:00",
}
_UNIT_TEXT = re.compile(r"\b[kMG]W")


def problems_from_validation(exc: ValidationError, model: type[BaseModel], doc: TomlDocument
                             ) -> list[Problem]:
    """One :class:`Problem` per pydantic error: file, line, field path and what was expected."""
    problems: list[Problem] = []
    for err in exc.errors():
        kind = err["type"]
        loc, holders = _walk(model, err["loc"], unknown_last=kind == "extra_forbidden")
        message = err["msg"]
        expected = _EXPECTED.get(kind)
        got = err.get("input")
        if kind == "extra_forbidden":
            known = _known_keys(holders)
            close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
            message = f"unknown key {loc[-1]!r}"
            if close:
                message += f"; did you mean {close[0]!r}?"
            expected = "one of: " + ", ".join(known) if known else None
        elif kind in ("float_parsing", "float_type", "int_parsing", "decimal_parsing") \
                and isinstance(got, str) and _UNIT_TEXT.search(got) and loc:
            message = (f"{got!r} is text with a unit; write a plain number in the unit "
                       f"the field name gives ({loc[-1]})")
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            message = "Input should be a table" + ("" if isinstance(got, dict | list)
                                                   else f" (got {got!r})")
        elif kind.startswith("value_error") or kind == "assertion_error":
            message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        elif kind != "missing" and not isinstance(got, dict | list):
            message += f" (got {got!r})"
        problems.append(Problem(message, file=doc.name, location=doc.where(loc),
                                expected=expected))
    return problems


_LINE = re.compile(r"^line (\d+)")


def _in_file_order(problems: list[Problem]) -> list[Problem]:
    """Sorted by line (stable); problems without a line last."""
    def key(p: Problem) -> tuple[bool, int]:
        m = _LINE.match(p.location or "")
        return (m is None, int(m.group(1)) if m else 0)
    return sorted(problems, key=key)


# ---------------------------------------------------------------------------------------------
# reading


def _decode(content: str | bytes, name: str) -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[:exc.start].count(b"\n") + 1
        raise InputError(Problem(f"not a UTF-8 text file (byte {exc.start + 1} cannot be read)",
                                 file=name, location=f"line {line}",
                                 expected="text saved as UTF-8")) from None


_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def _loads(text: str, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = _AT.search(message)
        location = f"line {at.group(1)}, column {at.group(2)}" if at else None
        if at:
            message = message[:at.start()]
        elif "end of document" in message:
            location = f"line {len(text.splitlines()) or 1} (end of file)"
            message = message.replace(" (at end of document)", "")
        raise InputError(Problem(f"TOML syntax error: {message}", file=name, location=location,
                                 expected=SYNTAX_EXPECTED)) from None


def _read_bytes(path: str | os.PathLike[str], kind: str, expected: str) -> tuple[bytes, str]:
    p = Path(path)
    name = str(path)
    if not p.is_file():
        why = "is a folder" if p.is_dir() else "not found"
        raise InputError(Problem(f"{kind} {why}", file=name, expected=expected))
    try:
        return p.read_bytes(), name
    except OSError as exc:
        raise InputError(Problem(f"cannot read {kind}: {exc.strerror or exc}", file=name,
                                 expected=f"{expected}, readable")) from None


def read_toml(path: str | os.PathLike[str], *, kind: str = "TOML file",
              expected: str = "a TOML file") -> dict[str, Any]:
    """The raw tables of a TOML file (missing file, encoding and syntax as :class:`InputError`).

    Parameters
    ----------
    kind : what the file is, for messages ("fee file" → "fee file not found")
    expected : what the file should be, for messages
    """
    content, name = _read_bytes(path, kind, expected)
    return _loads(_decode(content, name), name)


def validate_toml_data(data: Mapping[str, Any], model: type[M], *, name: str,
                       text: str | None = None, id_key: str | None = None,
                       raw_checks: RawChecks | None = None) -> M:
    """Validate parsed TOML tables against ``model``; :class:`InputError` lists every problem.

    Parameters
    ----------
    name : the file the tables come from (every problem names it)
    text : the TOML text, to give problems their line numbers
    id_key : label elements of arrays of tables by this key in locations
        (``rules[0] (id 'share_min').clause_en``)
    raw_checks : checks of the raw tables run when validation fails (see :data:`RawChecks`)
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        doc = TomlDocument(name, dict(data), text, id_key)
        problems = problems_from_validation(exc, model, doc)
        if raw_checks is not None:
            for extra in raw_checks(doc):
                if not any(extra.message in p.message for p in problems):
                    problems.append(extra)
        raise InputError(_in_file_order(problems)) from None


def parse_toml(text: str | bytes, model: type[M], *, name: str, id_key: str | None = None,
               raw_checks: RawChecks | None = None) -> M:
    """Parse TOML text (or UTF-8 bytes, such as an upload) and validate it against ``model``.

    Raises
    ------
    InputError
        Not UTF-8, a syntax error (naming its line), or every schema problem at once, each
        naming ``name``, the line and field path, and what was expected.
    """
    decoded = _decode(text, name)
    data = _loads(decoded, name)
    return validate_toml_data(data, model, name=name, text=decoded, id_key=id_key,
                              raw_checks=raw_checks)


def load_toml(path: str | os.PathLike[str], model: type[M], *, kind: str = "TOML file",
              expected: str = "a TOML file", id_key: str | None = None,
              raw_checks: RawChecks | None = None) -> M:
    """Read a TOML file and validate it against ``model`` (see :func:`parse_toml`).

    Parameters
    ----------
    kind : what the file is, for messages ("claim file" → "claim file not found")
    expected : what the file should be, for messages
    """
    content, name = _read_bytes(path, kind, expected)
    return parse_toml(content, model, name=name, id_key=id_key, raw_checks=raw_checks)


def shipped_tomls(*folder: str) -> dict[str, Path]:
    """The TOML files shipped in ``greenlink/<folder…>`` by id (file stem), sorted by id: the
    rule sets, the footprint regimes …"""
    from importlib import resources

    root = resources.files("greenlink").joinpath(*folder)
    found = {entry.name[: -len(".toml")]: Path(str(entry)) for entry in root.iterdir()
             if entry.name.endswith(".toml")}
    return dict(sorted(found.items()))


def shipped_or_path(id_or_path: str | os.PathLike[str], shipped: Mapping[str, Path], *,
                    what: str, location: str) -> Path:
    """The file of a shipped id, or ``id_or_path`` itself when it reads as a path (``.toml``,
    an existing file, or a ``/`` in it).

    Raises
    ------
    InputError
        Neither: names ``what`` and lists the shipped ids.
    """
    key = os.fspath(id_or_path)
    if key in shipped:
        return shipped[key]
    path = Path(key)
    if path.suffix == ".toml" or path.exists() or "/" in key:
        return path
    raise InputError(Problem(f"unknown {what} {key!r}", location=location,
                             expected=f"a path to a .toml {what} file or one of "
                             + ", ".join(shipped)))
