"""Sweep parameters: ``--param PATH=v1,v2,...`` applied to a scenario as dotted paths.

A path addresses the scenario as written in TOML: ``grid.export_limit_kw``,
``optimize.battery.capex_per_kwh``, ``pv.ground.max_capacity_kw_dc`` (list entries by id or
index). Short aliases name the usual cost levers (:data:`ALIASES`).
"""

from __future__ import annotations

import itertools
from typing import Any

from pydantic import ValidationError

from greenlink.errors import InputError, Problem
from greenlink.scenario.model import Scenario

#: Short names for frequent sweep parameters.
ALIASES: dict[str, str] = {
    "battery.cost": "optimize.battery.capex_per_kwh",
    "battery.energy_cost": "optimize.battery.capex_per_kwh",
    "battery.power_cost": "optimize.battery.capex_per_kw",
    "pv.cost": "optimize.pv.capex_per_kw_dc",
    "wind.cost": "optimize.wind.capex_per_kw",
    "carbon.price": "optimize.carbon_price_per_t",
    "discount_rate": "optimize.discount_rate",
}

#: Top-level sections a variant may change without re-modelling generation and loads.
CHEAP_SECTIONS = frozenset({"optimize", "grid", "policy"})


def parse_param(text: str) -> tuple[str, list[Any]]:
    """``"grid.export_limit_kw=0,5000"`` → ``("grid.export_limit_kw", [0.0, 5000.0])``."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or not raw.strip():
        raise InputError(Problem(f"cannot read --param {text!r}", location="--param",
                                 expected="PATH=V1,V2,... e.g. battery.cost=300,400,500"))
    values: list[Any] = []
    for item in raw.split(","):
        item = item.strip()
        low = item.lower()
        if low in ("true", "false"):
            values.append(low == "true")
            continue
        try:
            values.append(float(item))
        except ValueError:
            values.append(item)
    return ALIASES.get(key, key), values


def variants(params: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
    """Every combination of the parameter values (Cartesian product), in a stable order."""
    if not params:
        return [{}]
    keys = [k for k, _ in params]
    return [dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(vals for _, vals in params))]


def _set(node: Any, parts: list[str], value: Any, path: str) -> None:
    head, rest = parts[0], parts[1:]
    if isinstance(node, list):
        found = next((i for i, e in enumerate(node) if isinstance(e, dict) and e.get("id") == head),
                     None)
        if found is None and head.isdigit() and int(head) < len(node):
            found = int(head)
        if found is None:
            ids = [e.get("id") for e in node if isinstance(e, dict)]
            raise InputError(Problem(f"--param {path}: no entry {head!r}", location=path,
                                     expected="an id (" + ", ".join(map(str, ids)) + ") or index"))
        if not rest:
            node[found] = value
        else:
            _set(node[found], rest, value, path)
        return
    if not isinstance(node, dict):
        raise InputError(Problem(f"--param {path}: {head!r} is inside a value", location=path,
                                 expected="a path to a field of the scenario"))
    if not rest:
        node[head] = value
        return
    if node.get(head) is None:
        node[head] = {}
    _set(node[head], rest, value, path)


def apply_params(scenario: Scenario, changes: dict[str, Any]) -> Scenario:
    """A validated copy of the scenario with the dotted paths set.

    Raises
    ------
    InputError
        A path that names nothing, or a value the scenario model rejects.
    """
    # what the file said, not the defaults filled in: a validator may tell a default from a
    # value the user gave (a PPA to a buyer outside the park refuses `surplus` given at all)
    data = scenario.model_dump(mode="python", exclude_unset=True, exclude_none=True)
    for path, value in changes.items():
        _set(data, path.split("."), value, path)
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise InputError([Problem(e["msg"], location=".".join(map(str, e["loc"])) or None,
                                  expected=None) for e in err.errors()]) from None


def needs_new_inputs(changes: dict[str, Any]) -> bool:
    """True when a change touches loads, plants' physics, weather, time or tariff."""
    return any(path.split(".")[0] not in CHEAP_SECTIONS and not path.endswith(
        "max_capacity_kw_dc") for path in changes)
