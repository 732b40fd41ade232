"""The flows table: the one data contract every stage shares (docs/formats.md).

``from greenlink import flows`` and use ``flows.LOAD_KWH``, ``flows.user_green(uid)``,
``flows.read_flows(path, tz)``, ``flows.normalise(frame)``, ``flows.hour_key(index)``,
``flows.validate_flows(frame, user_ids)``. No other module spells a column name.
"""

from greenlink.flows.io import FORMATS, flows_to_csv, parse_flows, read_flows, write_flows
from greenlink.flows.schema import (
    BATTERY_CHARGE_GREEN_KWH,
    BATTERY_CHARGE_KWH,
    BATTERY_DISCHARGE_GREEN_KWH,
    BATTERY_DISCHARGE_KWH,
    BATTERY_SOC_GREEN_KWH,
    BATTERY_SOC_KWH,
    COLUMNS,
    CURTAILED_KWH,
    EXPORT_KWH,
    GENERATION_KWH,
    GREEN_DIRECT_KWH,
    GREEN_TO_LOAD_KWH,
    IMPORT_KWH,
    IMPORT_OVER_LIMIT_KWH,
    INTERVAL_START,
    LOAD_KWH,
    PARK_COLUMNS,
    PARK_ENERGY_COLUMNS,
    USER_GREEN_KWH,
    USER_GRID_KWH,
    USER_LOAD_KWH,
    USER_QUANTITIES,
    Column,
    battery_soc,
    entity_column,
    generator_generation,
    required_columns,
    user_columns,
    user_green,
    user_grid,
    user_load,
)
from greenlink.flows.time import (
    hour_key,
    interval_hours,
    normalise,
    period_rows,
    time_index,
    year_index,
)
from greenlink.flows.validate import balance_error_kwh, validate_flows

__all__ = [
    "BATTERY_CHARGE_GREEN_KWH", "BATTERY_CHARGE_KWH", "BATTERY_DISCHARGE_GREEN_KWH",
    "BATTERY_DISCHARGE_KWH", "BATTERY_SOC_GREEN_KWH", "BATTERY_SOC_KWH", "COLUMNS",
    "CURTAILED_KWH", "EXPORT_KWH", "FORMATS", "GENERATION_KWH", "GREEN_DIRECT_KWH",
    "GREEN_TO_LOAD_KWH", "IMPORT_KWH", "IMPORT_OVER_LIMIT_KWH", "INTERVAL_START", "LOAD_KWH",
    "PARK_COLUMNS", "PARK_ENERGY_COLUMNS", "USER_GREEN_KWH", "USER_GRID_KWH", "USER_LOAD_KWH",
    "USER_QUANTITIES", "Column", "balance_error_kwh", "battery_soc", "entity_column",
    "flows_to_csv", "generator_generation", "hour_key", "interval_hours", "normalise",
    "parse_flows", "period_rows", "read_flows", "required_columns", "time_index",
    "user_columns", "user_green", "user_grid", "user_load", "validate_flows", "write_flows",
    "year_index",
]
