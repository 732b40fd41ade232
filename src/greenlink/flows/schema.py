"""The columns of the flows table: names, units and meaning, in one place.

The flows table is the data contract every stage shares (docs/formats.md): one row per interval,
indexed by the tz-aware beginning of the interval (:data:`INTERVAL_START`), every energy column in
kWh *in that interval*. Park columns have fixed names; per-entity columns are
``<entity id>.<quantity>`` (``alu_extruder.load_kwh``), built only by the functions below.

No other module spells a column name: stages import the constants (``flows.LOAD_KWH``) and the
column builders (``flows.user_load(user_id)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal["index", "park", "user", "generator", "battery"]

#: Name of the time index (and of the time column in files): interval *beginning*, tz-aware.
INTERVAL_START = "interval_start"

GENERATION_KWH = "generation_kwh"
LOAD_KWH = "load_kwh"
GREEN_TO_LOAD_KWH = "green_to_load_kwh"
GREEN_DIRECT_KWH = "green_direct_kwh"
BATTERY_CHARGE_KWH = "battery_charge_kwh"
BATTERY_CHARGE_GREEN_KWH = "battery_charge_green_kwh"
BATTERY_DISCHARGE_KWH = "battery_discharge_kwh"
BATTERY_DISCHARGE_GREEN_KWH = "battery_discharge_green_kwh"
BATTERY_SOC_KWH = "battery_soc_kwh"
BATTERY_SOC_GREEN_KWH = "battery_soc_green_kwh"
EXPORT_KWH = "export_kwh"
CURTAILED_KWH = "curtailed_kwh"
IMPORT_KWH = "import_kwh"
IMPORT_OVER_LIMIT_KWH = "import_over_limit_kwh"

#: Quantities of per-entity columns (``<id>.<quantity>``).
USER_LOAD_KWH = "load_kwh"
USER_GREEN_KWH = "green_kwh"
USER_GRID_KWH = "grid_kwh"
GENERATOR_GENERATION_KWH = "generation_kwh"
BATTERY_UNIT_SOC_KWH = "soc_kwh"


@dataclass(frozen=True)
class Column:
    """One column (or, for entities, one quantity) of the flows table."""

    name: str
    unit: str
    scope: Scope
    description: str
    kind: Literal["energy", "state", "time"] = "energy"


#: Every column of the table, in file order (entity rows name the quantity after the dot).
COLUMNS: tuple[Column, ...] = (
    Column(INTERVAL_START, "", "index", "beginning of the interval, timezone-aware", "time"),
    Column(GENERATION_KWH, "kWh", "park",
           "green energy the plants delivered at their AC terminals: the available generation, "
           "before curtailment (kpis.md available_generation_kwh)"),
    Column(LOAD_KWH, "kWh", "park", "sum of all users' consumption"),
    Column(GREEN_TO_LOAD_KWH, "kWh", "park",
           "green energy delivered to loads: directly from plants plus the green part of battery "
           "discharge"),
    Column(GREEN_DIRECT_KWH, "kWh", "park",
           "the part of green_to_load_kwh that came straight from the plants"),
    Column(BATTERY_CHARGE_KWH, "kWh", "park", "energy into all batteries at their terminals"),
    Column(BATTERY_CHARGE_GREEN_KWH, "kWh", "park",
           "the part of battery_charge_kwh from the plants (the rest came from the grid)"),
    Column(BATTERY_DISCHARGE_KWH, "kWh", "park",
           "energy out of all batteries at their terminals (all of it goes to loads)"),
    Column(BATTERY_DISCHARGE_GREEN_KWH, "kWh", "park",
           "the green part of the discharge (battery colour rule: pro rata or FIFO)"),
    Column(BATTERY_SOC_KWH, "kWh", "park",
           "stored energy at the end of the interval, all batteries", "state"),
    Column(BATTERY_SOC_GREEN_KWH, "kWh", "park",
           "the green part of the stored energy at the end of the interval", "state"),
    Column(EXPORT_KWH, "kWh", "park",
           "energy fed into the public grid (always green: batteries never export grid energy)"),
    Column(CURTAILED_KWH, "kWh", "park", "green energy neither used, stored nor exported"),
    Column(IMPORT_KWH, "kWh", "park",
           "energy drawn from the public grid (for loads and, where allowed, battery charging)"),
    Column(IMPORT_OVER_LIMIT_KWH, "kWh", "park",
           "the part of import_kwh above the connection's import limit (0 when it holds)"),
    Column(GENERATOR_GENERATION_KWH, "kWh", "generator", "per generator available generation"),
    Column(BATTERY_UNIT_SOC_KWH, "kWh", "battery",
           "per battery stored energy at the end of the interval", "state"),
    Column(USER_LOAD_KWH, "kWh", "user", "per user consumption"),
    Column(USER_GREEN_KWH, "kWh", "user",
           "per user green energy received (direct + green battery discharge); never above its "
           "load"),
    Column(USER_GRID_KWH, "kWh", "user",
           "per user rest of its load: load_kwh - green_kwh (grid import and grid-charged battery "
           "energy)"),
)

#: Park-level columns, in file order.
PARK_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.scope == "park")
#: Park-level energy columns (summable over intervals; state of charge excluded).
PARK_ENERGY_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in COLUMNS if c.scope == "park" and c.kind == "energy")
#: Per-user quantities, in file order.
USER_QUANTITIES: tuple[str, ...] = (USER_LOAD_KWH, USER_GREEN_KWH, USER_GRID_KWH)


def entity_column(entity_id: str, quantity: str) -> str:
    """Column name of one entity's quantity: ``<entity_id>.<quantity>``."""
    return f"{entity_id}.{quantity}"


def user_load(user_id: str) -> str:
    """``<user_id>.load_kwh``: the user's consumption in the interval."""
    return entity_column(user_id, USER_LOAD_KWH)


def user_green(user_id: str) -> str:
    """``<user_id>.green_kwh``: green energy the user received in the interval."""
    return entity_column(user_id, USER_GREEN_KWH)


def user_grid(user_id: str) -> str:
    """``<user_id>.grid_kwh``: the rest of the user's load (``load − green``)."""
    return entity_column(user_id, USER_GRID_KWH)


def generator_generation(generator_id: str) -> str:
    """``<generator_id>.generation_kwh``: one plant's available generation."""
    return entity_column(generator_id, GENERATOR_GENERATION_KWH)


def battery_soc(battery_id: str) -> str:
    """``<battery_id>.soc_kwh``: one battery's stored energy at the end of the interval."""
    return entity_column(battery_id, BATTERY_UNIT_SOC_KWH)


def user_columns(user_ids: list[str] | tuple[str, ...]) -> list[str]:
    """Every per-user column of the given users, in file order."""
    return [entity_column(u, q) for u in user_ids for q in USER_QUANTITIES]


def required_columns(user_ids: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The park columns and the users' load and green columns (what every stage may read)."""
    return [*PARK_COLUMNS, *(c for u in user_ids for c in (user_load(u), user_green(u)))]
