"""A meter at a boundary of the park (issue: verification with meter data).

Extension module of the scenario: the models here are referenced by
:class:`greenlink.scenario.model.Scenario`; :func:`cross_check` adds the checks that need the
whole scenario.

A meter reports the **energy in each interval** of ``interval_minutes`` in ``unit``; its time
stamps label either the beginning or the end of the interval (``label``). Ingest converts every
reading to kWh with interval-beginning labels in the park's time zone.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from greenlink.scenario.base import Id, Positive, Strict

MeterRole = Literal["generator", "battery_charge", "battery_discharge", "user_load",
                    "line_submeter", "grid_import", "grid_export"]
EnergyUnit = Literal["Wh", "kWh", "MWh"]
KWH_PER_UNIT: dict[str, float] = {"Wh": 1e-3, "kWh": 1.0, "MWh": 1e3}


class Meter(Strict):
    """One energy meter (or one register of a bidirectional meter)."""

    id: Id
    role: MeterRole = Field(description="what the meter measures: generator (a PV/wind plant's "
                            "AC output), battery_charge / battery_discharge (at the battery's "
                            "terminals), user_load (a user's whole consumption), line_submeter "
                            "(one production line of a user), grid_import / grid_export (the "
                            "park's connection point)")
    measures: str = Field("grid", description="id of the plant, battery or user measured "
                          "('grid' for grid_import / grid_export)")
    unit: EnergyUnit = Field("kWh", description="energy unit of the readings")
    interval_minutes: Literal[1, 5, 15, 30, 60] = Field(15, description="length of one reading")
    label: Literal["interval_beginning", "interval_ending"] = Field(
        "interval_beginning", description="whether a time stamp marks the start or the end of "
        "its interval")
    rating_kw: Positive | None = Field(None, description="largest plausible power; a file with "
                                       "a reading above rating × interval × rating_margin "
                                       "(1.05) is refused at ingest (default: the asset's "
                                       "capacity; users and lines: the park's supply capacity)")
    production_line: str | None = Field(None, description="production line measured by a "
                                        "line_submeter (e.g. 'extrusion-1')")


_TARGETS = {
    "generator": "plant (pv or wind)",
    "battery_charge": "battery",
    "battery_discharge": "battery",
    "user_load": "user",
    "line_submeter": "user",
}


def cross_check(scenario: Any) -> list[str]:
    """Problems that involve other parts of the scenario.

    Every meter id is unique, refers to an asset of the role's kind, measures in intervals no
    shorter than one minute and no longer than the scenario's interval, and line sub-meters name
    their production line.
    """
    errors: list[str] = []
    meters = list(scenario.meters)
    ids = [m.id for m in meters]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        errors.append(f"meter ids must be unique: {dup}")
    plants = {p.id for p in scenario.pv} | {w.id for w in scenario.wind}
    known = {"generator": plants, "battery_charge": {b.id for b in scenario.batteries},
             "battery_discharge": {b.id for b in scenario.batteries},
             "user_load": set(scenario.user_ids), "line_submeter": set(scenario.user_ids)}
    for i, m in enumerate(meters):
        if m.role in known:
            if m.measures not in known[m.role]:
                errors.append(f"meters[{i}] ({m.id}) has role {m.role!r} but measures "
                              f"{m.measures!r}, which is not a {_TARGETS[m.role]} "
                              f"(known: {', '.join(sorted(known[m.role])) or 'none'})")
        elif m.measures != "grid":
            errors.append(f"meters[{i}] ({m.id}) has role {m.role!r}; measures must be 'grid'")
        if m.role == "line_submeter" and not m.production_line:
            errors.append(f"meters[{i}] ({m.id}) is a line_submeter and needs production_line")
        if m.interval_minutes > scenario.time.interval_minutes:
            errors.append(f"meters[{i}] ({m.id}) reads every {m.interval_minutes} min, longer "
                          f"than the scenario's {scenario.time.interval_minutes}-min interval")
    return errors
