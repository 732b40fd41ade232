"""Reading a scenario TOML file: syntax, schema and cross-checks, with *all* errors at once.

Reading and the schema errors are :mod:`greenlink.tomlfile`'s (file, line, field path, what was
expected, suggestions for unknown keys); this module adds what is scenario-specific: the
cross-references checked on the raw tables when field errors stop the model's own checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from greenlink.errors import Problem
from greenlink.scenario.model import Scenario
from greenlink.tomlfile import TomlDocument, load_toml, parse_toml

_EXPECTED_FILE = "a TOML scenario file (greenlink init DIR writes one)"


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario and the folder its relative paths are resolved against."""

    scenario: Scenario
    path: Path

    @property
    def base_dir(self) -> Path:
        return self.path.parent


def parse_scenario(text: str | bytes, file: str = "<scenario>") -> Scenario:
    """Validate scenario TOML text (or UTF-8 bytes); raise :class:`InputError` listing every
    problem."""
    return parse_toml(text, Scenario, name=file, raw_checks=_reference_problems)


def _reference_problems(doc: TomlDocument) -> list[Problem]:
    """References between tables, checked on the raw data when field errors stopped the model.

    (pydantic runs the model-level cross-checks only once every field is valid; this keeps the
    "all problems at once" promise for the commonest cross-reference.)
    """
    users = doc.data.get("users")
    products = doc.data.get("products")
    if not isinstance(users, list) or not isinstance(products, list):
        return []
    ids = {u.get("id") for u in users if isinstance(u, dict)}
    out = []
    for i, product in enumerate(products):
        ref = product.get("user") if isinstance(product, dict) else None
        if isinstance(ref, str) and ref not in ids:
            out.append(Problem(f"products[{i}] references user {ref!r}, which is not defined",
                               file=doc.name, location=doc.where(("products", i, "user")),
                               expected="the id of a [[users]] entry"))
    return out


def load_scenario(path: str | Path) -> LoadedScenario:
    """Read and validate a scenario file (the time series are checked when they are read)."""
    scenario = load_toml(path, Scenario, kind="scenario file", expected=_EXPECTED_FILE,
                         raw_checks=_reference_problems)
    return LoadedScenario(scenario, Path(path).resolve())
