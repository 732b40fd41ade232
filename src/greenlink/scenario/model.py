"""The scenario: one validated description of a park (pydantic models).

The same models serve the TOML file, the CLI and (later) the API body; the JSON Schema in
``docs/scenario.schema.json`` is generated from them (``greenlink schema``).

Conventions: energy in kWh, power in kW, shares as fractions 0..1, money in ``currency``;
time series are labelled by interval *beginning* and must be timezone-aware.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from greenlink import flows
from greenlink.scenario import contracts as _contracts
from greenlink.scenario import installations as _installations
from greenlink.scenario import meters as _meters
from greenlink.scenario import optimization as _optimization
from greenlink.scenario.base import (
    Efficiency,
    Fraction,
    Id,
    NonNegative,
    Positive,
    Strict,
    TimeOfDay,
    minute_of_day,
    percent_field,
)
from greenlink.scenario.contracts import Contract
from greenlink.scenario.installations import Installation
from greenlink.scenario.meters import Meter
from greenlink.scenario.optimization import OptimizationSpec
from greenlink.scenario.pv_defaults import PV_DEFAULTS, Mounting


class SeriesRef(Strict):
    """A column of a CSV, xlsx or Parquet file holding one time series.

    The file needs a timezone-aware timestamp column (``timestamp_column``) and one row per
    interval of the scenario year. CSV files may be UTF-8 (with or without BOM), GBK or GB18030
    (detected); column names may be Chinese.
    """

    path: str = Field(description="CSV, xlsx or Parquet file, relative to the scenario file")
    column: str = Field(description="column holding the values")
    unit: Literal["kW", "kWh", "MW", "MWh", "fraction"] = Field(
        "kW", description="kW/MW: mean power over the interval; kWh/MWh: energy in the interval; "
        "fraction: a capacity factor 0..1")
    timestamp_column: str = Field(flows.INTERVAL_START, description="timestamp column name")
    label: Literal["interval_beginning", "interval_ending"] = Field(
        "interval_beginning", description="what the timestamps mark; interval-ending labels are "
        "shifted to greenlink's interval-beginning convention on read")
    timezone: str | None = Field(None, description="only for files whose time stamps carry no UTC "
                                 "offset: the IANA zone they are local to (DST gaps and overlaps "
                                 "are then errors)")
    sheet: str | None = Field(None, description="xlsx files: the worksheet holding the columns "
                              "(default: the first)")
    decimal: Literal[".", ","] = Field(".", description="',' for a file written with decimal "
                                       "commas (its columns are then separated by ';' or tab)")
    reuse_year: int | None = Field(None, ge=1900, le=2100, description="the year the file's time "
                                   "stamps are in, when it is not the scenario's: its data is "
                                   "reused by calendar date and clock time (29 February dropped "
                                   "for a common year, 28 February repeated for a leap year)")


class Site(Strict):
    name: str = ""
    latitude: float = Field(ge=-90, le=90, description="degrees north")
    longitude: float = Field(ge=-180, le=180, description="degrees east")
    altitude_m: float = Field(0.0, ge=-500, le=9000)
    timezone: str = Field(description="IANA zone, e.g. Asia/Shanghai")
    province: str = Field("", description="ISO 3166-2 code, e.g. CN-JS (selects grid factors and "
                          "provincial rules)")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as "
                             "'Asia/Shanghai'") from exc
        return value


class TimeBase(Strict):
    year: int = Field(ge=2000, le=2100)
    interval_minutes: Literal[15, 60] = Field(60, description="15 (quarter-hourly) or 60 (hourly)")


# user-facing texts of the weather table (one place, for translation later)
_WEATHER_PATH_HELP = (
    "weather file (not for kind = synthetic): relative to the scenario file ('../weather/"
    "site.epw' works), an absolute path, or a file shipped with greenlink: 'builtin:nanjing', "
    "'builtin:xuzhou', 'builtin:beijing', 'builtin:guangzhou' or 'builtin:yinchuan' (EPW, "
    "data/weather/SOURCES.md)")
_WEATHER_GHI_HELP = (
    "kind = synthetic: your site's global horizontal irradiation in each month, January to "
    "December, in kWh/m² per month (monthly sums, not daily means), e.g. from PVGIS, NASA "
    "POWER or a nearby station; without it, a shipped CMA station's means are used")
_WEATHER_TEMP_HELP = (
    "kind = synthetic: mean air temperature in each month, January to December, in °C; "
    "default a rough estimate from latitude and altitude")
_MSG_DAILY_MEANS = (
    "these look like daily means in kWh/m² per day (the largest is {largest:g}); give monthly "
    "sums: multiply each by the days of its month (January: {jan:g} × 31 = {jan_sum:g})")
_MSG_SYNTHETIC_ONLY = "{field} applies to kind = 'synthetic' only (this weather is a file)"
_MSG_GHI_OR_STATION = ("give either monthly_ghi_kwh_m2 (your site's means) or station (a "
                       "shipped station's means), not both")
#: Monthly GHI sums whose largest value is below this [kWh/m²] are daily means: every site on
#: Earth has a month with more than 15 kWh/m² (a daily mean of 0.5).
DAILY_MEANS_BELOW_KWH_M2 = 15.0

MonthlyGhi = Annotated[list[Annotated[float, Field(ge=0.0, allow_inf_nan=False)]],
                      Field(min_length=12, max_length=12)]
MonthlyTemps = Annotated[list[Annotated[float, Field(ge=-70.0, le=50.0, allow_inf_nan=False)]],
                         Field(min_length=12, max_length=12)]


class Weather(Strict):
    kind: Literal["epw", "pvgis_tmy", "tmy3", "synthetic"] = "epw"
    path: str | None = Field(None, description=_WEATHER_PATH_HELP)
    time_shift: Literal["auto"] | int = Field(
        "auto", description="'auto' detects the shift of the time stamps against the sun "
        "(15-minute steps); an integer forces it, in minutes")
    calibration: Literal["none", "station"] = Field(
        "none", description="'station' scales irradiance to a CMA station's monthly means")
    station: str | None = Field(None, description="WMO station id for calibration or synthetic "
                                "weather; default the nearest shipped station")
    seed: int = Field(0, description="seed of the synthetic weather generator")
    monthly_ghi_kwh_m2: MonthlyGhi | None = Field(None, description=_WEATHER_GHI_HELP)
    monthly_temp_c: MonthlyTemps | None = Field(None, description=_WEATHER_TEMP_HELP)

    @field_validator("monthly_ghi_kwh_m2")
    @classmethod
    def _monthly_sums(cls, value: list[float] | None) -> list[float] | None:
        if value is None:
            return value
        largest = max(value)
        if 0 < largest < DAILY_MEANS_BELOW_KWH_M2:
            raise ValueError(_MSG_DAILY_MEANS.format(largest=largest, jan=value[0],
                                                     jan_sum=round(value[0] * 31, 1)))
        return value

    @model_validator(mode="after")
    def _path_needed(self) -> Weather:
        if self.kind != "synthetic" and not self.path:
            raise ValueError(f"weather kind {self.kind!r} needs a 'path'")
        if self.kind != "synthetic":
            for name in ("monthly_ghi_kwh_m2", "monthly_temp_c"):
                if getattr(self, name) is not None:
                    raise ValueError(_MSG_SYNTHETIC_ONLY.format(field=name))
        if self.monthly_ghi_kwh_m2 is not None and self.station is not None:
            raise ValueError(_MSG_GHI_OR_STATION)
        return self


class User(Strict):
    id: Id
    name: str = ""
    kind: Literal["factory", "data_centre", "commercial", "hydrogen", "other"] = "factory"
    load: SeriesRef
    share: Fraction | None = Field(None, description="fixed share of green generation "
                                   "(allocation = fixed_shares)")
    priority: int | None = Field(None, ge=1, description="1 is served first "
                                 "(allocation = priority)")
    contracted_kw: NonNegative | None = Field(None, description="contracted green capacity "
                                              "(allocation = contracted_capacity)")


class PVPlant(Strict):
    id: Id
    name: str = ""
    capacity_kw_dc: Positive = Field(description="module nameplate, kWp")
    dc_ac_ratio: float = Field(PV_DEFAULTS.dc_ac_ratio, ge=0.8, le=2.0)
    tilt_deg: float = Field(ge=0, le=90)
    azimuth_deg: float = Field(PV_DEFAULTS.azimuth_deg, ge=0, lt=360, description="180 = south")
    losses_percent: Annotated[float, percent_field(1.0)] = Field(
        PV_DEFAULTS.losses_percent, ge=0, lt=100, description="PVWatts system losses in percent "
        "(14 = 14 %; 0 = none; a value between 0 and 1, such as 0.14, is refused as a fraction)")
    inverter_efficiency: Fraction = PV_DEFAULTS.inverter_efficiency
    gamma_pdc_per_k: float = Field(PV_DEFAULTS.gamma_pdc_per_k, ge=-0.01, le=0)
    mounting: Mounting = PV_DEFAULTS.mounting
    max_capacity_kw_dc: Positive | None = Field(None, description="upper bound for sizing "
                                                "(roof or land area)")


class WindPlant(Strict):
    id: Id
    name: str = ""
    capacity_kw: Positive
    capacity_factor: SeriesRef = Field(description="capacity factor series, unit = fraction")


class Battery(Strict):
    id: Id
    name: str = ""
    energy_kwh: Positive
    power_kw: Positive = Field(description="charge and discharge power at the terminals")
    charge_efficiency: Efficiency = 0.95
    discharge_efficiency: Efficiency = 0.95
    soc_min: Fraction = 0.05
    soc_max: Fraction = 0.95
    soc_initial: Fraction = 0.5
    grid_charging: bool = Field(False, description="may charge from the grid in the tariff's "
                                "cheapest period (in intervals without green energy left over); "
                                "grid energy stored stays grid energy (battery_colour_rule)")

    @model_validator(mode="after")
    def _soc_order(self) -> Battery:
        if self.soc_min >= self.soc_max:
            raise ValueError(f"soc_min ({self.soc_min}) must be below soc_max ({self.soc_max})")
        if not self.soc_min <= self.soc_initial <= self.soc_max:
            raise ValueError(f"soc_initial ({self.soc_initial}) must lie between soc_min "
                             f"({self.soc_min}) and soc_max ({self.soc_max})")
        return self


class Grid(Strict):
    connection_capacity_kw: Positive = Field(description="capacity of the grid connection point")
    import_limit_kw: Positive
    export_limit_kw: NonNegative = Field(0.0, description="feed-in cap at the connection point")
    reverse_flow_allowed: bool = Field(True, description="false: no export at all (provinces "
                                       "without a continuously running spot market)")
    voltage_kv: Positive = 10.0

    @model_validator(mode="after")
    def _within_connection(self) -> Grid:
        for name in ("import_limit_kw", "export_limit_kw"):
            if getattr(self, name) > self.connection_capacity_kw:
                raise ValueError(f"{name} ({getattr(self, name):g} kW) is above the "
                                 f"connection capacity ({self.connection_capacity_kw:g} kW)")
        return self


class TouWindow(Strict):
    period: str
    start: TimeOfDay = Field(description="HH:MM, inclusive")
    end: TimeOfDay = Field(description="HH:MM, exclusive; 24:00 = midnight")
    months: list[Annotated[int, Field(ge=1, le=12)]] | None = Field(
        None, description="restrict this window to some months of the season")

    def minutes(self) -> tuple[int, int]:
        return minute_of_day(self.start), minute_of_day(self.end)


class TouSeason(Strict):
    name: str
    months: list[Annotated[int, Field(ge=1, le=12)]]
    default_period: str = Field(description="period of every time not in a window")
    windows: list[TouWindow] = Field(default_factory=list, description="later windows override "
                                     "earlier ones")


class Tariff(Strict):
    currency: str = Field("CNY", pattern=r"^[A-Z]{3}$")
    name: str = ""
    source: str = ""
    prices_per_kwh: dict[str, NonNegative] = Field(description="price of each period")
    export_price_per_kwh: NonNegative = 0.0
    demand_charge_per_kw_month: NonNegative = Field(
        0.0, description="charge on each month's peak grid import power (basic charge by "
        "maximum demand, per kW and month); simulate reports it, settle bills it and the "
        "optimiser weighs it")
    seasons: list[TouSeason]

    @model_validator(mode="after")
    def _complete(self) -> Tariff:
        months = sorted(m for s in self.seasons for m in s.months)
        if months != list(range(1, 13)):
            raise ValueError(f"seasons must cover each month exactly once, got months {months}")
        for s in self.seasons:
            for p in [s.default_period, *(w.period for w in s.windows)]:
                if p not in self.prices_per_kwh:
                    raise ValueError(f"season {s.name!r} uses period {p!r} which has no price "
                                     f"(known: {', '.join(self.prices_per_kwh)})")
        return self

    def period_of(self, month: int, minute_of_day: int) -> str:
        season = next(s for s in self.seasons if month in s.months)
        period = season.default_period
        for w in season.windows:
            start, end = w.minutes()
            if (w.months is None or month in w.months) and start <= minute_of_day < end:
                period = w.period
        return period


class Product(Strict):
    sku: str = Field(min_length=1)
    name: str = ""
    cn_code: str = Field(description="8-digit Combined Nomenclature code, e.g. '7604 29 10'")
    user: str = Field(description="id of the user that makes it")
    electricity_kwh_per_t: NonNegative
    direct_emissions_t_per_t: NonNegative = 0.0
    annual_output_t: NonNegative
    declared_unit: str = Field(
        "t", min_length=1, description="unit of the product footprint: t, or e.g. kWh "
        "(battery energy) or kWp (PV modules) with declared_units_per_t")
    declared_units_per_t: NonNegative | None = Field(
        None, description="declared units per tonne of product (e.g. kWh of rated energy per "
                          "tonne of cells)")
    materials_t_co2e_per_t: NonNegative | None = Field(
        None, description="cradle-to-gate emissions of the purchased materials per tonne of "
                          "product; absent: the footprint is gate to gate and says so")
    materials_source: str = Field("", description="where materials_t_co2e_per_t comes from")

    @field_validator("cn_code")
    @classmethod
    def _cn(cls, value: str) -> str:
        digits = value.replace(" ", "").replace(".", "")
        if not re.fullmatch(r"\d{8}", digits):
            raise ValueError(f"CN code {value!r} is not 8 digits (write e.g. '7604 29 10' or "
                             "'76042910')")
        return digits


class Allocation(Strict):
    """How green energy is shared among users, interval by interval (docs/formats.md,
    "Allocation conventions")."""

    method: Literal["pro_rata", "fixed_shares", "priority", "contracted_capacity"] = Field(
        "pro_rata", description="pro_rata: in proportion to load; fixed_shares: in proportion to "
        "users' share, a capped user's leftover passed on to the others in proportion to their "
        "shares (water-filling); priority: priority 1 first, ties split pro rata to load; "
        "contracted_capacity: each user's contracted_kw × interval first, in the direct-supply "
        "round and again in the battery-discharge round, the rest pro rata")
    battery_colour_rule: Literal["pro_rata", "fifo"] = Field(
        "pro_rata", description="how battery discharge is split into green and grid origin; "
        "energy stored at the start of the year counts as grid energy")


class Policy(Strict):
    ruleset: str = Field("cn-ndrc-nea-2025-650", description="rule-set id or path")
    parameters: dict[str, str | float | int | bool] = Field(
        default_factory=dict, description="rule-set parameters and threshold what-ifs")
    check_date: date | None = Field(
        None, description="date the rules are checked at (effective dates, 2030 steps); default "
        "the later of the simulated year's last day and the rule set's in-force date")


class Carbon(Strict):
    grid_factor_year: int | None = Field(None, description="year of the grid emission factor; "
                                         "default the latest published")


class Scenario(Strict):
    """A park: site, time base, users, plants, storage, grid, tariff, products."""

    schema_version: Literal[1] = 1
    name: str
    description: str = ""
    site: Site
    time: TimeBase
    weather: Weather | None = None
    allocation: Allocation = Allocation()
    users: list[User] = Field(min_length=1)
    pv: list[PVPlant] = Field(default_factory=list)
    wind: list[WindPlant] = Field(default_factory=list)
    batteries: list[Battery] = Field(default_factory=list)
    grid: Grid
    tariff: Tariff
    products: list[Product] = Field(default_factory=list)
    policy: Policy = Policy()
    carbon: Carbon = Carbon()
    meters: list[Meter] = Field(default_factory=list, description="meters at the park's "
                                "boundaries (verification with meter data)")
    contracts: list[Contract] = Field(default_factory=list, description="PPAs and green supply "
                                      "agreements")
    installations: list[Installation] = Field(default_factory=list, description="CBAM "
                                              "installations and their production processes")
    optimize: OptimizationSpec | None = Field(None, description="what to size and optimise, "
                                              "with costs and targets")

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        errors: list[str] = []
        ids = [u.id for u in self.users] + [p.id for p in self.pv] + [w.id for w in self.wind] \
            + [b.id for b in self.batteries]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            errors.append(f"ids must be unique across users, plants and batteries: {dup}")
        user_ids = {u.id for u in self.users}
        for i, p in enumerate(self.products):
            if p.user not in user_ids:
                errors.append(f"products[{i}] ({p.sku}) references user {p.user!r}, which is not "
                              f"defined (users: {', '.join(sorted(user_ids))})")
        if self.pv and self.weather is None:
            errors.append("PV plants need a [weather] table")
        method = self.allocation.method
        need = {"fixed_shares": "share", "priority": "priority",
                "contracted_capacity": "contracted_kw"}.get(method)
        if need:
            missing = [u.id for u in self.users if getattr(u, need) is None]
            if missing:
                errors.append(f"allocation method {method!r} needs '{need}' on every user; "
                              f"missing for {missing}")
        if method == "fixed_shares":
            total = sum(u.share or 0.0 for u in self.users)
            if abs(total - 1.0) > 1e-6:
                errors.append(f"user shares must add up to 1, they add up to {total:g}")
        for extension in (_meters, _contracts, _installations, _optimization):
            errors.extend(extension.cross_check(self))
        if errors:
            raise ValueError("; ".join(errors))
        return self

    @property
    def user_ids(self) -> list[str]:
        return [u.id for u in self.users]
