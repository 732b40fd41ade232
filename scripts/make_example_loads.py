"""Generate seeded, realistic 15-minute load profiles for the Jiangsu example park.

Usage::

    python scripts/make_example_loads.py --seed 2025 \\
        --out src/greenlink/examples/jiangsu_park/series/loads.csv

Output: CSV with ``interval_start`` (ISO 8601, +08:00, interval-beginning, 15 min; 35,040 rows
for 2025) followed by one ``<user_id>_kw`` column per user: average power over the interval in
kW, one decimal. The output is deterministic: the same seed gives byte-identical files. Each
user draws from its own generator ``default_rng([seed, user_key])``, so changing one profile
never changes the others.

Park: five users near Nanjing (Asia/Shanghai), calendar year 2025. All numbers are synthetic
but chosen to be plausible for Jiangsu industry; they are *not* metered data.

Profiles (one pure function per plant type, ``f(index, rng) -> kW ndarray``)
-----------------------------------------------------------------------------
``alu_extruder_kw`` -- aluminium extrusion, ~6 MW peak, ~30 GWh/a.
    Base 0.9 MW (ageing ovens, compressors, cooling water, lighting) plus production up to
    4.0 MW (billet induction/gas heaters, die ovens, hydraulic presses, pullers, saws).
    Mon-Fri three 8-h shifts (day 1.00, evening 0.92, night 0.70 -- only the large press runs
    at night), Saturday two shifts (08-24 h), Sunday day shift only at 50 %. Shift handovers
    (00/08/16 h) and the 11:30-12:30 meal break dip. Summer adds up to 0.25 MW of cooling.
    Day-to-day order-book variation (sd 4 %).
``steel_fasteners_kw`` -- bolts/nuts, ~3 MW peak, ~15 GWh/a.
    Mesh-belt quench-and-temper furnaces 1.0 MW run 24/7 (also Sundays, 85 %); during the
    Spring Festival shutdown they are cooled down (holding 15 %). Cold heading/thread rolling
    0.9 MW and machining 0.45 MW on two shifts 08-24 h Mon-Sat (Sunday: none). Auxiliaries
    0.25 MW day / 0.15 MW night.
``cement_grinding_kw`` -- cement grinding station, ~8 MW peak, ~25 GWh/a.
    Two ball mills (A 4.4 MW, B 2.7 MW incl. separator and fans) and 0.15-0.4 MW auxiliaries.
    Daily mill running hours follow the Jiangsu construction season (low Jan/Feb and in the
    summer heat/plum-rain season, high Mar-May and Sep-Nov). Hours are placed by TOU
    priority: valley first, then flat (extending the valley blocks), the peak only as a last
    resort; on ~3 % of the high-season days a low cement silo forces running through the peak.
    Jiangsu 2025 TOU: Jun-Aug and Dec-Feb peak 14-22 h, valley 00-06 h and 11-13 h;
    Mar-May and Sep-Nov peak 15-22 h, valley 02-06 h and 10-14 h; the rest flat.
``battery_cells_kw`` -- Li-ion cell plant, ~5 MW peak, ~35 GWh/a.
    Dry rooms/HVAC 1.55 MW (dehumidification rises with outdoor temperature/humidity),
    formation and grading 1.0 MW (batch cycling: slow oscillation plus noise), utilities
    (chillers, compressed air, N2) 0.35 MW, and production lines 1.2 MW on 2 x 12-h shifts
    (08/20 h handover dips, meal breaks). High 24/7 base (~75 % of peak); Sunday lines 90 %.
``data_centre_kw`` -- ~4 MW IT design capacity, ~35 GWh/a.
    IT load 74 -> 80 % of capacity over the year (racks filling), +-2.5 % diurnal (evening
    high), -1 % at weekends. Facility power = IT x PUE(T) with PUE 1.22 below 8 degC rising to
    ~1.4 at 32 degC. T is a seasonal + diurnal Nanjing proxy (annual mean 15.8 degC, Jan ~3,
    Jul ~28, +-4 degC day/night) plus a seeded daily weather anomaly. No holidays or outages
    (UPS/generators ride through).

Calendar and disturbances (factories)
-------------------------------------
* Weekly: most Jiangsu factories work six days; Saturday and Sunday levels as above
  (cement: Sunday demand 90 %, public holidays 60 %; fasteners: Saturday forming 90 %).
* Public holidays 2025: 1 Jan; Spring Festival 28 Jan-4 Feb; Qingming 4-6 Apr; Labour Day
  1-5 May; Dragon Boat 31 May-2 Jun; National Day/Mid-Autumn 1-8 Oct. Holiday days run like
  a reduced Sunday. Official make-up working days (26 Jan, 8 Feb, 27 Apr, 28 Sep, 11 Oct) are
  normal working days. The data centre ignores the calendar.
* Spring Festival: a longer factory shutdown (e.g. aluminium 25 Jan-9 Feb, cement 20 Jan-
  10 Feb) with a ramp-down day before and two ramp-up days after.
* Planned maintenance: a few fixed days per plant (see ``MAINTENANCE``).
* Noise: multiplicative AR(1) at 15-min scale (phi 0.8-0.95, a few percent) on each
  component, plus daily production-level noise.
* Unplanned outages: Poisson (1-4 per year per plant), 2-16 h, load falls to a plant-specific
  standby level and ramps back over ~2 h.

Functions accept any tz-aware 15-min ``DatetimeIndex`` (e.g. one month) so they can be reused
and tested cheaply; the outage count scales with the covered span.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.signal import lfilter

TZ = "Asia/Shanghai"
STEP_H = 0.25

HOLIDAYS_2025: tuple[tuple[str, str], ...] = (
    ("2025-01-01", "2025-01-01"),
    ("2025-01-28", "2025-02-04"),  # Spring Festival
    ("2025-04-04", "2025-04-06"),  # Qingming
    ("2025-05-01", "2025-05-05"),  # Labour Day
    ("2025-05-31", "2025-06-02"),  # Dragon Boat
    ("2025-10-01", "2025-10-08"),  # National Day + Mid-Autumn
)
MAKEUP_WORKDAYS_2025: tuple[str, ...] = (
    "2025-01-26",
    "2025-02-08",
    "2025-04-27",
    "2025-09-28",
    "2025-10-11",
)

# Extended Spring Festival shutdowns (inclusive) per factory.
SPRING_SHUTDOWN: dict[str, tuple[str, str]] = {
    "alu_extruder": ("2025-01-25", "2025-02-09"),
    "steel_fasteners": ("2025-01-24", "2025-02-09"),
    "cement_grinding": ("2025-01-20", "2025-02-10"),
    "battery_cells": ("2025-01-26", "2025-02-05"),
}

# Planned maintenance stops: (first day, number of days).
MAINTENANCE: dict[str, tuple[tuple[str, int], ...]] = {
    "alu_extruder": (("2025-07-21", 3), ("2025-11-17", 2)),
    "steel_fasteners": (("2025-08-11", 4),),
    "cement_grinding": (("2025-03-17", 3), ("2025-08-04", 4)),
    "battery_cells": (("2025-08-25", 3),),
}

# Stable per-user keys for the generator: never reorder or reuse.
USER_KEYS: dict[str, int] = {
    "alu_extruder": 1,
    "steel_fasteners": 2,
    "cement_grinding": 3,
    "battery_cells": 4,
    "data_centre": 5,
}


# --------------------------------------------------------------------------------------------
# Time base and calendar helpers
# --------------------------------------------------------------------------------------------
def make_index(start: str = "2025-01-01", end: str = "2026-01-01") -> pd.DatetimeIndex:
    """15-min interval-beginning index in Asia/Shanghai, ``start`` inclusive, ``end`` exclusive."""
    return pd.date_range(start, end, freq="15min", tz=TZ, inclusive="left")


def _local(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    if index.tz is None:
        raise ValueError("index must be tz-aware")
    return index.tz_convert(TZ)


def hour_of_day(index: pd.DatetimeIndex) -> np.ndarray:
    """Local clock hour as float (e.g. 13.75)."""
    idx = _local(index)
    return np.asarray(idx.hour + idx.minute / 60.0, dtype=float)


def day_grid(index: pd.DatetimeIndex) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Unique local days (tz-naive midnights) and, per interval, the position of its day."""
    days_naive = _local(index).tz_localize(None).normalize()
    days, inverse = np.unique(days_naive.values, return_inverse=True)
    return pd.DatetimeIndex(days), inverse


def _date_set(ranges: tuple[tuple[str, str], ...]) -> set[pd.Timestamp]:
    out: set[pd.Timestamp] = set()
    for a, b in ranges:
        out.update(pd.date_range(a, b, freq="D"))
    return out


def day_kind(days: pd.DatetimeIndex, user: str) -> np.ndarray:
    """Per day: 'work', 'sat', 'sun', 'holiday', 'shutdown' or 'maint' for a factory user."""
    holidays = _date_set(HOLIDAYS_2025)
    makeup = {pd.Timestamp(d) for d in MAKEUP_WORKDAYS_2025}
    shut = _date_set((SPRING_SHUTDOWN[user],)) if user in SPRING_SHUTDOWN else set()
    maint = _date_set(
        tuple(
            (s, str((pd.Timestamp(s) + pd.Timedelta(days=n - 1)).date()))
            for s, n in MAINTENANCE.get(user, ())
        )
    )
    kinds = []
    for d in days:
        if d in maint:
            kinds.append("maint")
        elif d in shut:
            kinds.append("shutdown")
        elif d in holidays:
            kinds.append("holiday")
        elif d in makeup or d.day_of_week < 5:
            kinds.append("work")
        elif d.day_of_week == 5:
            kinds.append("sat")
        else:
            kinds.append("sun")
    return np.array(kinds)


def shutdown_ramp(days: pd.DatetimeIndex, user: str) -> np.ndarray:
    """Daily production factor around the Spring Festival shutdown (1 elsewhere)."""
    f = np.ones(len(days))
    if user not in SPRING_SHUTDOWN:
        return f
    start, end = (pd.Timestamp(x) for x in SPRING_SHUTDOWN[user])
    ramp = {
        start - pd.Timedelta(days=1): 0.7,
        end + pd.Timedelta(days=1): 0.5,
        end + pd.Timedelta(days=2): 0.8,
    }
    for i, d in enumerate(days):
        f[i] = ramp.get(d, 1.0)
    return f


def tou_period(index: pd.DatetimeIndex) -> np.ndarray:
    """Jiangsu 2025 general industrial TOU period per interval: 'peak', 'flat' or 'valley'."""
    idx = _local(index)
    h = np.asarray(idx.hour)
    summer_winter = np.isin(np.asarray(idx.month), [6, 7, 8, 12, 1, 2])
    peak = np.where(summer_winter, (h >= 14) & (h < 22), (h >= 15) & (h < 22))
    valley = np.where(
        summer_winter,
        (h < 6) | ((h >= 11) & (h < 13)),
        ((h >= 2) & (h < 6)) | ((h >= 10) & (h < 14)),
    )
    return np.where(peak, "peak", np.where(valley, "valley", "flat"))


def temperature_proxy(index: pd.DatetimeIndex) -> np.ndarray:
    """Outdoor temperature proxy for Nanjing in degC (seasonal + diurnal cosine, no noise)."""
    idx = _local(index)
    doy = np.asarray(idx.day_of_year, dtype=float) + hour_of_day(index) / 24.0
    seasonal = 15.8 - 12.3 * np.cos(2 * np.pi * (doy - 18.0) / 365.25)
    diurnal = 4.0 * np.cos(2 * np.pi * (hour_of_day(index) - 14.5) / 24.0)
    return seasonal + diurnal


# --------------------------------------------------------------------------------------------
# Stochastic helpers
# --------------------------------------------------------------------------------------------
def ar1_noise(n: int, phi: float, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Stationary zero-mean AR(1) series with marginal standard deviation ``sigma``."""
    e = rng.standard_normal(n) * sigma * np.sqrt(1.0 - phi**2)
    x0 = rng.standard_normal() * sigma
    y, _ = lfilter([1.0], [1.0, -phi], e, zi=[phi * x0])
    return np.asarray(y)


def outage_factor(
    n: int,
    rng: np.random.Generator,
    per_year: float,
    min_h: float = 2.0,
    max_h: float = 16.0,
    ramp_h: float = 2.0,
) -> np.ndarray:
    """Availability in [0, 1] per interval: 0 during unplanned outages, linear ramp back."""
    f = np.ones(n)
    k = rng.poisson(per_year * n * STEP_H / 8760.0)
    ramp_n = max(1, round(ramp_h / STEP_H))
    for _ in range(k):
        start = int(rng.integers(0, n))
        dur = round(rng.uniform(min_h, max_h) / STEP_H)
        stop = min(n, start + dur)
        f[start:stop] = 0.0
        r = np.arange(1, ramp_n + 1) / (ramp_n + 1)
        seg = slice(stop, min(n, stop + ramp_n))
        f[seg] = np.minimum(f[seg], r[: seg.stop - seg.start])
    return f


def apply_outages(load: np.ndarray, standby: float, avail: np.ndarray) -> np.ndarray:
    """Blend the load towards ``standby`` kW where availability < 1."""
    floor = np.minimum(load, standby)
    return floor + (load - floor) * avail


def _finish(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _in(h: np.ndarray, a: float, b: float) -> np.ndarray:
    return (h >= a) & (h < b)


# --------------------------------------------------------------------------------------------
# Plant profiles
# --------------------------------------------------------------------------------------------
def alu_extruder_kw(index: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """Aluminium extrusion: 3 shifts Mon-Sat, 2 on Sunday, ~6 MW peak."""
    user = "alu_extruder"
    h = hour_of_day(index)
    days, di = day_grid(index)
    kind = day_kind(days, user)[di]
    n = len(index)

    shift = np.select([h < 8, h < 16], [0.70, 1.00], 0.92)
    shift = np.where(_in(h % 8, 0, 0.5), shift * 0.55, shift)  # handovers 00/08/16 h
    shift = np.where(_in(h, 11.5, 12.5), shift * 0.85, shift)  # meal break
    level = np.select(
        [kind == "work", kind == "sat", kind == "sun", kind == "holiday"],
        [shift, 0.96 * shift * _in(h, 8, 24), 0.5 * shift * _in(h, 8, 16), 0.35 * shift],
        0.0,
    )
    daily = rng.normal(1.0, 0.04, len(days)) * shutdown_ramp(days, user)
    production = 4000.0 * level * daily[di] * (1.0 + ar1_noise(n, 0.85, 0.04, rng))

    cooling = 250.0 * np.clip((temperature_proxy(index) - 20.0) / 12.0, 0.0, 1.0)
    base_level = np.where(np.isin(kind, ["shutdown", "maint"]), 0.35, 1.0)
    base = (900.0 + cooling) * base_level * (1.0 + ar1_noise(n, 0.9, 0.03, rng))

    load = apply_outages(production + base, 300.0, outage_factor(n, rng, per_year=3.0))
    return _finish(load)


def steel_fasteners_kw(index: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """Fasteners: 24/7 heat-treatment furnaces, heading and machining on 2 shifts, ~3 MW peak."""
    user = "steel_fasteners"
    h = hour_of_day(index)
    days, di = day_grid(index)
    kind = day_kind(days, user)[di]
    n = len(index)
    ramp = shutdown_ramp(days, user)[di]

    furnace_level = np.select(
        [kind == "sun", kind == "holiday", kind == "shutdown", kind == "maint"],
        [0.85, 0.7, 0.15, 0.05],
        1.0,
    )
    furnace = 1000.0 * furnace_level * np.maximum(ramp, 0.6)
    furnace = furnace * (1.0 + ar1_noise(n, 0.95, 0.04, rng))

    two_shift = _in(h, 8, 24) & ~_in(h % 8, 0, 0.5) & ~_in(h, 11.5, 12.25) & ~_in(h, 17.5, 18)
    day_level = np.select([kind == "work", kind == "sat", kind == "holiday"], [1.0, 0.9, 0.3], 0.0)
    daily = rng.normal(1.0, 0.06, len(days))[di]
    forming = (900.0 + 450.0) * two_shift * day_level * ramp * daily
    forming = forming * (1.0 + ar1_noise(n, 0.8, 0.08, rng))

    aux = np.where(_in(h, 7.5, 24), 250.0, 150.0)
    aux = np.where(np.isin(kind, ["shutdown", "maint"]), 120.0, aux)

    load = apply_outages(furnace + forming + aux, 200.0, outage_factor(n, rng, per_year=2.0))
    return _finish(load)


# Priority of the 96 quarter-hours for scheduling cement mills (lower rank = run first).
def _slot_priority(summer_winter: bool) -> np.ndarray:
    def q(a: float, b: float) -> list[int]:
        return list(range(int(a * 4), int(b * 4)))

    if summer_winter:
        order = q(0, 6) + q(11, 13) + q(6, 11) + q(22, 24) + q(13, 14) + q(14, 22)
    else:
        order = q(2, 6) + q(10, 14) + q(6, 10) + q(0, 2) + q(22, 24) + q(14, 15) + q(15, 22)
    rank = np.empty(96, dtype=int)
    rank[np.array(order)] = np.arange(96)
    return rank


CEMENT_MONTHLY_DEMAND = np.array(
    [0.80, 0.70, 1.00, 1.10, 1.10, 0.95, 0.85, 0.85, 1.05, 1.10, 1.15, 1.00]
)


def cement_grinding_kw(index: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """Cement grinding: two ball mills scheduled into valley/flat TOU hours, ~8 MW peak."""
    user = "cement_grinding"
    idx = _local(index)
    h = hour_of_day(index)
    days, di = day_grid(index)
    kinds = day_kind(days, user)
    n = len(index)
    nd = len(days)

    demand = CEMENT_MONTHLY_DEMAND[days.month - 1] * shutdown_ramp(days, user)
    demand = demand * np.select([kinds == "sun", kinds == "holiday"], [0.9, 0.6], 1.0)
    demand = np.where(np.isin(kinds, ["shutdown", "maint"]), 0.0, demand)
    hours_a = np.clip(11.0 * demand * rng.normal(1.0, 0.12, nd), 0.0, 16.0)
    hours_b = np.clip(7.5 * demand * rng.normal(1.0, 0.15, nd), 0.0, 12.0)
    silo_low = (rng.random(nd) < 0.03) & (demand >= 1.0)
    hours_a = np.where(silo_low, 20.0, hours_a)
    hours_b = np.where(silo_low, 18.0, hours_b)

    sw_day = np.isin(days.month, [6, 7, 8, 12, 1, 2])
    rank = np.where(sw_day[di], _slot_priority(True)[(h * 4).astype(int)], 0)
    rank = np.where(~sw_day[di], _slot_priority(False)[(h * 4).astype(int)], rank)
    on_a = rank < np.round(hours_a * 4)[di]
    on_b = rank < np.round(hours_b * 4)[di]

    def mill(on: np.ndarray, kw: float) -> np.ndarray:
        starting = on & ~np.concatenate([[False], on[:-1]])
        p = kw * on * (1.0 + ar1_noise(n, 0.85, 0.03, rng))
        return np.where(starting, 0.6 * p, p)

    mills = mill(on_a, 4400.0) + mill(on_b, 2700.0)
    aux = np.where(on_a | on_b, 400.0, 150.0)
    aux = np.where(np.isin(kinds[di], ["maint"]) & _in(h, 8, 18), 500.0, aux)
    aux = aux + 50.0 * _in(np.asarray(idx.hour), 8, 17)  # packing/offices
    load = apply_outages(mills + aux, 120.0, outage_factor(n, rng, per_year=4.0))
    return _finish(load)


def battery_cells_kw(index: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """Li-ion cells: 24/7 dry rooms and formation, 2 x 12-h production shifts, ~5 MW peak."""
    user = "battery_cells"
    h = hour_of_day(index)
    days, di = day_grid(index)
    kind = day_kind(days, user)[di]
    n = len(index)
    t = np.arange(n) * STEP_H

    temp = temperature_proxy(index)
    dry_rooms = 1550.0 * (1.0 + 0.18 * np.clip((temp - 15.0) / 15.0, -0.3, 1.0))
    dry_rooms = dry_rooms * (1.0 + ar1_noise(n, 0.95, 0.02, rng))

    form_level = np.select([kind == "shutdown", kind == "maint"], [0.6, 0.5], 1.0)
    cycling = 1.0 + 0.06 * np.sin(2 * np.pi * t / 5.5) + ar1_noise(n, 0.9, 0.05, rng)
    formation = 1000.0 * form_level * cycling

    line_shape = np.where(_in(h % 12, 8, 8.5), 0.75, 1.0)  # 08:00 / 20:00 handovers
    line_shape = np.where(_in(h, 11.5, 12.5) | _in(h, 23.5, 24) | _in(h, 0, 0.5), 0.9, line_shape)
    line_shape = line_shape * np.where(_in(h, 8, 20), 1.03, 0.97)
    line_level = np.select(
        [kind == "sun", kind == "holiday", kind == "shutdown", kind == "maint"],
        [0.9, 0.8, 0.3, 0.0],
        1.0,
    )
    daily = rng.normal(1.0, 0.04, len(days)) * np.maximum(shutdown_ramp(days, user), 0.6)
    lines = 1200.0 * line_shape * line_level * daily[di] * (1.0 + ar1_noise(n, 0.85, 0.05, rng))

    utilities = 350.0 * (1.0 + ar1_noise(n, 0.9, 0.03, rng))
    load = dry_rooms + formation + lines + utilities
    load = apply_outages(load, 1900.0, outage_factor(n, rng, per_year=1.0, max_h=8.0))
    return _finish(load)


def data_centre_kw(index: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """Data centre: ~4 MW IT capacity x PUE(outdoor temperature proxy), nearly flat."""
    idx = _local(index)
    h = hour_of_day(index)
    days, di = day_grid(index)
    n = len(index)

    year_frac = (np.asarray(idx.day_of_year, dtype=float) - 1.0) / 365.0
    utilisation = 0.74 + 0.06 * year_frac
    diurnal = 1.0 + 0.025 * np.cos(2 * np.pi * (h - 20.0) / 24.0)
    weekend = np.where(np.asarray(idx.day_of_week) >= 5, 0.99, 1.0)
    it = 4000.0 * utilisation * diurnal * weekend * (1.0 + ar1_noise(n, 0.95, 0.01, rng))

    anomaly = ar1_noise(len(days), 0.7, 2.5, rng)[di]
    temp = temperature_proxy(index) + anomaly
    pue = 1.22 + 0.0055 * np.maximum(temp - 8.0, 0.0) + 0.0004 * np.maximum(temp - 22.0, 0.0) ** 2
    pue = pue * (1.0 + ar1_noise(n, 0.9, 0.005, rng))
    return _finish(it * pue)


PROFILES: dict[str, Callable[[pd.DatetimeIndex, np.random.Generator], np.ndarray]] = {
    "alu_extruder": alu_extruder_kw,
    "steel_fasteners": steel_fasteners_kw,
    "cement_grinding": cement_grinding_kw,
    "battery_cells": battery_cells_kw,
    "data_centre": data_centre_kw,
}


# --------------------------------------------------------------------------------------------
# Assembly and output
# --------------------------------------------------------------------------------------------
def generate_loads(seed: int, index: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    """All users' loads in kW (rounded to 0.1 kW), indexed by interval start."""
    index = make_index() if index is None else _local(index)
    data = {}
    for user, fn in PROFILES.items():
        rng = np.random.default_rng([seed, USER_KEYS[user]])
        data[f"{user}_kw"] = np.round(fn(index, rng), 1) + 0.0  # +0.0 clears -0.0
    frame = pd.DataFrame(data, index=index)
    frame.index.name = "interval_start"
    return frame


def write_csv(frame: pd.DataFrame, out: Path) -> None:
    """Write with ISO 8601 timestamps (+08:00) and fixed float formatting (byte-stable)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    table = frame.copy()
    table.index = pd.Index([t.isoformat() for t in frame.index], name="interval_start")
    table.to_csv(out, float_format="%.1f", lineterminator="\n")


def summarise(frame: pd.DataFrame) -> str:
    lines = [f"{'column':<22}{'GWh/a':>9}{'peak kW':>10}{'mean kW':>10}{'min kW':>9}"]
    for col in frame.columns:
        s = frame[col]
        gwh = s.sum() * STEP_H / 1e6
        lines.append(f"{col:<22}{gwh:>9.2f}{s.max():>10.1f}{s.mean():>10.1f}{s.min():>9.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("src/greenlink/examples/jiangsu_park/series/loads.csv"),
    )
    args = parser.parse_args(argv)
    frame = generate_loads(args.seed)
    write_csv(frame, args.out)
    print(f"wrote {len(frame)} rows to {args.out}")
    print(summarise(frame))


if __name__ == "__main__":
    main()
