"""Reading a scenario TOML file: syntax, schema and cross-checks, with *all* errors at once.

Each error names the file, the line (where the TOML text lets us find it), the field path and
what was expected; unknown keys come with the closest known key as a suggestion.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from greenlink.errors import InputError, Problem
from greenlink.scenario.model import Scenario

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-.\"']+)\s*=")


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and the folder its relative paths are resolved against."""

    scenario: Scenario
    path: Path

    @property
    def base_dir(self) -> Path:
        return self.path.parent


def _split_key(text: str) -> list[str]:
    return [part.strip().strip("\"'") for part in text.split(".")]


def line_index(text: str) -> dict[tuple[str | int, ...], int]:
    """Map TOML paths such as ``("users", 2, "load", "column")`` to 1-based line numbers."""
    index: dict[tuple[str | int, ...], int] = {}
    counters: dict[tuple[str, ...], int] = {}
    table: tuple[str | int, ...] = ()
    for lineno, line in enumerate(text.splitlines(), start=1):
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
                key = tuple(str(p) for p in path)
                last = depth == len(names) - 1
                if header.group(1) == "[[" and last:
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
    return index


def _find_line(index: dict[tuple[str | int, ...], int], loc: tuple[str | int, ...]) -> int | None:
    for n in range(len(loc), 0, -1):
        if loc[:n] in index:
            return index[loc[:n]]
    return None


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the field at ``loc`` (to suggest known keys)."""
    model: Any = Scenario
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return None
        ann = field.annotation
        # unwrap list[X], X | None
        for _ in range(3):
            args = getattr(ann, "__args__", None)
            if not args:
                break
            candidates = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            ann = candidates[0] if candidates else args[0]
        model = ann
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _fmt_loc(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_EXPECTED = {
    "missing": "this field to be set",
    "float_parsing": "a number",
    "float_type": "a number",
    "int_parsing": "an integer",
    "int_type": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a text in quotes",
    "list_type": "a list [ ... ]",
    "literal_error": None,
    "greater_than": None,
    "greater_than_equal": None,
    "less_than_equal": None,
    "less_than": None,
}


def _problems_from_validation(exc: ValidationError, file: str, text: str,
                              raw: dict[str, Any]) -> list[Problem]:
    index = line_index(text)
    problems: list[Problem] = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        # drop union/function-validator tags pydantic adds (e.g. 'literal[...]', 'int')
        loc = tuple(p for p in loc if isinstance(p, int) or p in _all_field_names() or
                    err["type"] == "extra_forbidden")
        line = _find_line(index, loc)
        where = (f"line {line}, " if line else "") + (_fmt_loc(loc) or "(top level)")
        kind = err["type"]
        message = err["msg"]
        expected = _EXPECTED.get(kind)
        if kind == "extra_forbidden":
            model = _model_at(loc)
            known = sorted(model.model_fields) if model else []
            close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.5)
            message = f"unknown key {loc[-1]!r}"
            if close:
                message += f"; did you mean {close[0]!r}?"
            expected = "one of: " + ", ".join(known) if known else None
        elif kind in ("float_parsing", "float_type", "int_parsing") and isinstance(
                err.get("input"), str) and re.search(r"\b[kMG]W", str(err.get("input"))):
            message = (f"{err['input']!r} is text with a unit; write a plain number in the unit "
                       f"the field name gives ({loc[-1]})")
        elif kind.startswith("value_error"):
            message = message.removeprefix("Value error, ")
        else:
            got = err.get("input")
            if not isinstance(got, dict | list) and kind != "missing":
                message += f" (got {got!r})"
        problems.append(Problem(message, file=file, location=where, expected=expected))
    return problems


_FIELD_NAMES: set[str] = set()


def _all_field_names() -> set[str]:
    if not _FIELD_NAMES:
        seen: set[type[BaseModel]] = set()

        def walk(model: type[BaseModel]) -> None:
            if model in seen:
                return
            seen.add(model)
            for name, field in model.model_fields.items():
                _FIELD_NAMES.add(name)
                stack: list[Any] = [field.annotation]
                while stack:
                    ann = stack.pop()
                    if isinstance(ann, type) and issubclass(ann, BaseModel):
                        walk(ann)
                    stack.extend(getattr(ann, "__args__", ()) or ())

        walk(Scenario)
    return _FIELD_NAMES


def parse_scenario(text: str, file: str = "<scenario>") -> Scenario:
    """Validate scenario TOML text; raise :class:`InputError` listing every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise InputError(Problem(f"TOML syntax error: {exc}", file=file,
                                 location=f"line {match.group(1)}" if match else None,
                                 expected="valid TOML (https://toml.io)")) from None
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = _problems_from_validation(exc, file, text, raw)
        problems.extend(_reference_problems(raw, file, text, problems))
        raise InputError(problems) from None


def _reference_problems(raw: dict[str, Any], file: str, text: str,
                        known: list[Problem]) -> list[Problem]:
    """References between tables, checked on the raw data when field errors stopped the model.

    (pydantic runs the model-level cross-checks only once every field is valid; this keeps the
    "all problems at once" promise for the commonest cross-reference.)
    """
    users = raw.get("users")
    products = raw.get("products")
    if not isinstance(users, list) or not isinstance(products, list):
        return []
    ids = {u.get("id") for u in users if isinstance(u, dict)}
    index = line_index(text)
    out = []
    for i, product in enumerate(products):
        ref = product.get("user") if isinstance(product, dict) else None
        message = f"products[{i}] references user {ref!r}, which is not defined"
        if isinstance(ref, str) and ref not in ids and not any(message in p.message
                                                               for p in known):
            line = _find_line(index, ("products", i, "user"))
            out.append(Problem(message, file=file,
                               location=(f"line {line}, " if line else "") + f"products[{i}].user",
                               expected="the id of a [[users]] entry"))
    return out


def load_scenario(path: str | Path) -> LoadedScenario:
    """Read and validate a scenario file (the time series are checked when they are read)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(Problem("scenario file not found", file=str(path),
                                 expected="a TOML scenario file (greenlink init DIR writes one)"))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(Problem("not a UTF-8 text file", file=str(path),
                                 expected="a TOML scenario file")) from None
    return LoadedScenario(parse_scenario(text, file=str(path)), path.resolve())
