"""Validate a scenario and every file any part of it refers to (``greenlink validate``).

Checked, all problems at once: the scenario file itself; every file it names — load and capacity
factor series, the weather file, CBAM batches and shipments, a rule-set file, a fee file of the
optimisation — that it exists and, with ``series``, that it reads and passes its checks (the
series onto the scenario year; batches and shipments as ``greenlink cbam`` reads them; the rule
set with the scenario's what-ifs, shares refused when given as percentages). The report names
how each table file was read (format, detected encoding, sheet) and the warnings about inputs
that look wrong but may be right (a load in MW declared as kW …), each once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from greenlink.errors import GreenlinkError, InputError, Problem
from greenlink.inputs import build_inputs, unique_problems
from greenlink.scenario.load import LoadedScenario, load_scenario
from greenlink.scenario.model import SeriesRef

# user-facing texts of this module (one place, for translation later)
_MSG_MISSING = "{kind} not found (named by {where})"
_KINDS = (("weather", "weather file"), ("batches_file", "batches file"),
          ("shipments_file", "shipments file"), ("policy.ruleset", "rule-set file"),
          ("optimize.fees", "fee file"), (".path", "series file"))


def _kind(where: str) -> str:
    return next((kind for key, kind in _KINDS if key in where), "file")
_EXPECTED_MISSING = "an existing file, relative to the scenario file ({folder})"


@dataclass(frozen=True)
class FileCheck:
    """One file the scenario names: where, and how it was read (``""`` when not read)."""

    file: str  # resolved path
    name: str  # as the scenario writes it
    named_by: tuple[str, ...]
    read_as: str


@dataclass(frozen=True)
class ValidationReport:
    """A valid scenario, the files it names, and the warnings about its inputs."""

    loaded: LoadedScenario
    files: tuple[FileCheck, ...]
    warnings: tuple[Problem, ...]


def _is_file_key(key: str) -> bool:
    return key in ("path", "file") or key.endswith(("_path", "_file"))


def _named_files(model: BaseModel, where: str = "") -> Iterator[tuple[str, str]]:
    """(location, value) of every file-naming field that is set: ``users[0].load.path`` …"""
    for name in type(model).model_fields:
        value = getattr(model, name)
        loc = f"{where}.{name}" if where else name
        if isinstance(value, BaseModel):
            yield from _named_files(value, loc)
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from _named_files(item, f"{loc}[{i}]")
        elif isinstance(value, str) and _is_file_key(name) and not value.startswith("builtin:"):
            yield loc, value


def _extra_files(loaded: LoadedScenario) -> Iterator[tuple[str, str]]:
    """Files named by fields that also take an id: a rule-set file, a fee file."""
    sc = loaded.scenario
    if sc.policy.ruleset.endswith(".toml"):
        yield "policy.ruleset", sc.policy.ruleset
    if sc.optimize is not None and sc.optimize.fees not in ("schedule", "none"):
        yield "optimize.fees", sc.optimize.fees


def _resolve(loaded: LoadedScenario, name: str) -> Path:
    p = Path(name)
    return p if p.is_absolute() else loaded.base_dir / p


def _series_refs(loaded: LoadedScenario) -> Iterator[tuple[str, SeriesRef]]:
    sc = loaded.scenario
    for j, user in enumerate(sc.users):
        yield f"users[{j}].load", user.load
    for j, wind in enumerate(sc.wind):
        yield f"wind[{j}].capacity_factor", wind.capacity_factor


def _read(loaded: LoadedScenario, problems: list[Problem]) -> dict[str, str]:
    """Read every data file; how each was read, by resolved path."""
    from greenlink.carbon.batches import read_batch_file, read_shipment_file
    from greenlink.policy.applicable import scenario_ruleset
    from greenlink.scenario.series import series_source

    sc = loaded.scenario
    read_as: dict[str, str] = {}

    def attempt(fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GreenlinkError as exc:
            problems.extend(exc.problems)
            return None

    for _, ref in _series_refs(loaded):
        source = attempt(series_source, ref, loaded.base_dir)
        if source is not None:
            read_as[str(_resolve(loaded, ref.path))] = source.describe()
    tz = sc.site.timezone
    for inst in sc.installations:
        for name, sheet, reader in ((inst.batches_file, inst.batches_sheet, read_batch_file),
                                    (inst.shipments_file, inst.shipments_sheet,
                                     read_shipment_file)):
            if name:
                path = _resolve(loaded, name)
                got = attempt(reader, path, tz, sheet=sheet, decimal=inst.decimal)
                if got is not None:
                    read_as[str(path)] = got[1].describe()
    own_rules = sc.policy.ruleset.endswith(".toml")
    if (own_rules or sc.policy.parameters) \
            and attempt(scenario_ruleset, sc, loaded.path) is not None and own_rules:
        read_as[str(_resolve(loaded, sc.policy.ruleset))] = "rule set (TOML)"
    if sc.optimize is not None and sc.optimize.fees not in ("schedule", "none"):
        from greenlink.economics.fees import load_fee_schedule

        path = _resolve(loaded, sc.optimize.fees)
        if attempt(load_fee_schedule, sc.site.province or None, path) is not None:
            read_as[str(path)] = "fee schedule (TOML)"
    return read_as


def validate_scenario(path: str | Path, series: bool = True) -> ValidationReport:
    """Check a scenario and the files it names; :class:`InputError` lists every problem once.

    Parameters
    ----------
    series : also read every file (series, weather, batches, shipments, rule set, fees);
        without it only their existence is checked
    """
    loaded = load_scenario(path)
    named: dict[str, list[str]] = {}
    written: dict[str, str] = {}
    for where, name in [*_named_files(loaded.scenario), *_extra_files(loaded)]:
        named.setdefault(str(_resolve(loaded, name)), []).append(where)
        written.setdefault(str(_resolve(loaded, name)), name)
    problems: list[Problem] = []
    for file, wheres in named.items():
        if not Path(file).is_file():
            problems.append(Problem(_MSG_MISSING.format(kind=_kind(wheres[0]),
                                                        where=", ".join(wheres)), file=file,
                                    expected=_EXPECTED_MISSING.format(folder=loaded.base_dir)))
    warnings: tuple[Problem, ...] = ()
    read_as: dict[str, str] = {}
    if series and not problems:
        try:
            warnings = build_inputs(loaded).warnings
        except GreenlinkError as exc:
            problems.extend(exc.problems)
        read_as = _read(loaded, problems)
    if problems:
        raise InputError(unique_problems(problems))
    files = tuple(FileCheck(file, written[file], tuple(wheres), read_as.get(file, ""))
                  for file, wheres in named.items())
    return ValidationReport(loaded, files, warnings)
