"""Claim kinds: what a pack asserts, which files it holds, and how a verifier recomputes it.

Kind ``user_green_share`` — "user *u* received an hourly-matched green share *s* over period
[start, end)". Its evidence, all inside the pack:

``data/generation.csv``
    per interval: park ``generation_kwh`` (available), ``curtailed_kwh``,
    ``battery_charge_green_kwh``, ``battery_discharge_green_kwh``, ``export_kwh`` and every
    ``<gen_id>.generation_kwh`` (docs/formats.md columns).
``data/delivery.csv``
    per interval: park ``load_kwh`` and the user's ``<u>.load_kwh``, ``<u>.grid_kwh``.
``data/allocation.csv``
    per interval: ``green_to_load_kwh`` and the user's allocated ``<u>.green_kwh``.
``claim_hours.csv``
    the claimed numbers per clock hour: ``load_kwh``, ``supply_kwh`` (a_u,h), ``matched_kwh``.
``claim.json``
    the claim: totals, period, user, scenario snapshot hash, topology, contract, data versions.

Recomputation (kpis.md, ``greenlink.policy.kpis.hourly_green_supply_kwh``): with produced =
generation − curtailed, park supply ``a_h = Σ_h(produced − charge_green + discharge_green)``,
``surplus_h = max(a_h − Σ_h green_to_load, 0)``, user supply
``a_u,h = Σ_h green_u + (load_u,h / load_h) · surplus_h`` and
``matched_u,h = min(a_u,h, load_u,h)``; the claimed share is ``Σ matched ÷ Σ load_u``.

The flows table comes in through :func:`greenlink.flows.normalise` into the scenario's zone; a
clock hour is a local clock hour of that zone (:func:`greenlink.flows.hour_key`), whatever zone
the table's index was in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.evidence.manifest import sha256_hex
from greenlink.evidence.pack import unsafe_name
from greenlink.evidence.tables import (
    fail,
    first_mismatch,
    iso_strings,
    read_table,
    round_table,
    table_bytes,
)
from greenlink.policy.kpis import hourly_green_supply_kwh
from greenlink.units import SHARE_TOLERANCE

GREEN_SHARE = "user_green_share"
CLAIM_FILE = "claim.json"
HOURS_FILE = "claim_hours.csv"
GENERATION_FILE = "data/generation.csv"
DELIVERY_FILE = "data/delivery.csv"
ALLOCATION_FILE = "data/allocation.csv"
TIME = flows.INTERVAL_START
HOUR = "hour_start"

GENERATION_COLUMNS = [flows.GENERATION_KWH, flows.CURTAILED_KWH, flows.BATTERY_CHARGE_GREEN_KWH,
                      flows.BATTERY_DISCHARGE_GREEN_KWH, flows.EXPORT_KWH]
#: Columns of the claimed hours: the user's load, its green supply a_u,h, the matched energy.
SUPPLY = "supply_kwh"
MATCHED = "matched_kwh"
HOUR_COLUMNS = [flows.LOAD_KWH, SUPPLY, MATCHED]
#: Every ``<gen_id>.generation_kwh`` column ends in this.
_GENERATOR_SUFFIX = flows.generator_generation("")
#: Tolerances of the comparison claimed vs recomputed: energy [kWh] and shares [-].
TOL_KWH = 2e-6
TOL_SHARE = SHARE_TOLERANCE
#: Physical consistency tolerance per interval [kWh] (rounding of three 6-decimal values).
TOL_PHYSICAL_KWH = 5e-6


@dataclass(frozen=True)
class Topology:
    """The direct-link topology evidence: single-line diagram reference and its SHA-256."""

    single_line_diagram: str
    single_line_diagram_sha256: str
    description: str = ""


@dataclass(frozen=True)
class ContractRef:
    """The off-take contract: id, name and the SHA-256 of its signed document."""

    contract_id: str
    name: str = ""
    document: str = ""
    document_sha256: str = ""


@dataclass(frozen=True)
class GreenShareRequest:
    """Everything needed to build a ``user_green_share`` pack.

    Attributes
    ----------
    user_id
        The user whose green share is claimed.
    flows
        A flows table (docs/formats.md), DatetimeIndex ``interval_start`` tz-aware, simulated
        (``greenlink.workflows.run.run_scenario``) or metered (``greenlink.metering``).
    start, end
        Claim period ``[start, end)``, tz-aware.
    scenario_name, scenario_toml
        The scenario file's name and its exact text (snapshot).
    timezone
        IANA zone of the scenario (hours are clock hours in it).
    topology, contract
        Direct-link topology and off-take contract references.
    data_versions
        Shipped data files used (name → SHA-256), rule-set id, greenlink version.
    flows_source
        ``"simulated"`` or ``"metered"``.
    certificates
        Optional EnergyTag GC records cancelled for the claim (one row per bundle).
    certificate_context
        Optional registry facts (audit-chain head ...), copied into ``claim.json``.
    registry_claim
        Optional :class:`greenlink.evidence.build.RegistryClaim`: certificates the build
        cancels in the registry, in the transaction that commits once the pack is complete.
    """

    user_id: str
    flows: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    scenario_name: str
    scenario_toml: str
    timezone: str
    topology: Topology
    contract: ContractRef | None = None
    data_versions: Mapping[str, str] = field(default_factory=dict)
    flows_source: str = "simulated"
    certificates: pd.DataFrame | None = None
    certificate_context: Mapping[str, Any] = field(default_factory=dict)
    registry_claim: Any = None


@dataclass(frozen=True)
class GreenShareResult:
    """The recomputed (or claimed) numbers of a green-share claim."""

    hours: pd.DataFrame  # index hour_start (tz-aware, the scenario's zone), HOUR_COLUMNS
    load_kwh: float
    green_kwh: float
    matched_kwh: float
    hourly_matched_share: float
    green_share_of_consumption: float


def _share(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def _generator_names(names: Iterable[str]) -> list[str]:
    return sorted(c for c in names if c.endswith(_GENERATOR_SUFFIX))


def generator_columns(table: pd.DataFrame) -> list[str]:
    """``<gen_id>.generation_kwh`` columns of a flows table, sorted."""
    return _generator_names(table.columns)


def green_share(table: pd.DataFrame, user_id: str, tz: str) -> GreenShareResult:
    """Hourly matching of one user from a (period-cut) flows table.

    Parameters
    ----------
    table
        Interval rows with the park columns of :data:`GENERATION_COLUMNS`, ``load_kwh``,
        ``green_to_load_kwh`` and the user's ``load_kwh``/``green_kwh`` [kWh per interval];
        ``interval_start`` as index or column, in any zone (normalised into ``tz``).
    user_id, tz
        The user; the scenario's zone, whose local clock hours
        (:func:`greenlink.flows.hour_key`) are matched.
    """
    table = flows.normalise(table, tz)
    # the table's index is in tz, so the KPI's clock hours are tz's; labelled by their instants
    hourly = hourly_green_supply_kwh(table, user_id)
    times = flows.time_index(table)
    index = flows.hour_key(times, tz).unique().as_unit(times.unit).rename(HOUR)
    if len(index) != len(hourly):
        raise ValueError(f"{len(hourly)} clock hours from the KPI, {len(index)} local clock "
                         f"hours of {tz} (a daylight-saving hour counted twice?)")
    load = hourly[flows.LOAD_KWH].to_numpy()
    supply = hourly[SUPPLY].to_numpy()
    matched = np.minimum(supply, load)
    hours = pd.DataFrame({flows.LOAD_KWH: load, SUPPLY: supply, MATCHED: matched}, index=index)
    load_kwh = float(table[flows.user_load(user_id)].sum())
    green_kwh = float(table[flows.user_green(user_id)].sum())
    matched_kwh = float(matched.sum())
    return GreenShareResult(hours, load_kwh, green_kwh, matched_kwh,
                            _share(matched_kwh, float(load.sum())), _share(green_kwh, load_kwh))


def _delivery_columns(user_id: str) -> list[str]:
    return [flows.LOAD_KWH, flows.user_load(user_id), flows.user_grid(user_id)]


def _allocation_columns(user_id: str) -> list[str]:
    return [flows.GREEN_TO_LOAD_KWH, flows.user_green(user_id)]


def _evidence_tables(table: pd.DataFrame, user_id: str) -> dict[str, pd.DataFrame]:
    gen_cols = GENERATION_COLUMNS + generator_columns(table)
    return {
        GENERATION_FILE: table[gen_cols],
        DELIVERY_FILE: table[_delivery_columns(user_id)],
        ALLOCATION_FILE: table[_allocation_columns(user_id)],
    }


def cut_period(table: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Rows with ``start ≤ interval_start < end``, every float rounded to the pack resolution."""
    index = flows.time_index(table)
    rows = table.loc[(index >= start) & (index < end)]
    return round_table(rows)


def green_share_statement(user_id: str, share: float, start: str, end: str) -> str:
    """The claim in one sentence; the verifier regenerates it from the checked numbers."""
    return (f"User {user_id} received {share:.2%} hourly-matched green power from {start} to "
            f"{end} over the direct line.")


def claim_document(request: GreenShareRequest, result: GreenShareResult,
                   interval_minutes: float) -> dict[str, Any]:
    """The ``claim.json`` body: the claim, every number in it, and its references."""
    doc: dict[str, Any] = {
        "kind": GREEN_SHARE,
        "statement": green_share_statement(request.user_id, result.hourly_matched_share,
                                           request.start.isoformat(), request.end.isoformat()),
        "user_id": request.user_id,
        "period": {"start": request.start.isoformat(), "end": request.end.isoformat(),
                   "timezone": request.timezone, "interval_minutes": interval_minutes},
        "flows_source": request.flows_source,
        "claimed": {
            flows.USER_LOAD_KWH: round(result.load_kwh, 6),
            flows.USER_GREEN_KWH: round(result.green_kwh, 6),
            "hourly_matched_kwh": round(result.matched_kwh, 6),
            "hourly_matched_share": result.hourly_matched_share,
            "green_share_of_consumption": result.green_share_of_consumption,
            "hours": len(result.hours),
        },
        "method": ("hourly matching (24/7 CFE): share = Σ_h min(a_u,h, load_u,h) / Σ_h "
                   "load_u,h, a_u,h = user green + load-share of the park's undelivered green "
                   "supply in the clock hour (greenlink.policy.kpis.hourly_green_supply_kwh)"),
        "scenario": {"file": scenario_member(request.scenario_name),
                     "sha256": sha256_hex(request.scenario_toml.encode("utf-8"))},
        "topology": {"single_line_diagram": request.topology.single_line_diagram,
                     "single_line_diagram_sha256": request.topology.single_line_diagram_sha256,
                     "description": request.topology.description},
        "contract": None if request.contract is None else {
            "id": request.contract.contract_id, "name": request.contract.name,
            "document": request.contract.document,
            "document_sha256": request.contract.document_sha256},
        "data_versions": dict(sorted(request.data_versions.items())),
    }
    if request.certificates is not None:
        doc["certificates"] = {"file": CERTIFICATES_FILE,
                               "count": len(request.certificates),
                               "total_wh": int(request.certificates["quantity_wh"].sum()),
                               **dict(request.certificate_context)}
    return doc


CERTIFICATES_FILE = "certificates/cancelled.csv"
#: EnergyTag GC bundle fields every certificate row carries (EnergyTag GC Scheme Standard).
CERTIFICATE_COLUMNS = ["bundle_id", "device_id", "energy_source", "production_start",
                       "production_end", "bundle_id_range_start", "bundle_id_range_end",
                       "quantity_wh", "status", "beneficiary", "purpose"]


def certificate_bytes(table: pd.DataFrame) -> bytes:
    """CSV bytes of the certificate records (sorted by device and id range); the required
    :data:`CERTIFICATE_COLUMNS` first, then any further EnergyTag fields in their order."""
    missing = [c for c in CERTIFICATE_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"certificate table lacks {missing}")
    extra = [c for c in table.columns if c not in CERTIFICATE_COLUMNS]
    out = table[CERTIFICATE_COLUMNS + extra].sort_values(
        ["device_id", "bundle_id_range_start"]).reset_index(drop=True)
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def build_green_share(request: GreenShareRequest) -> tuple[dict[str, bytes], GreenShareResult,
                                                            dict[str, Any]]:
    """Member files (path → bytes) of a green-share pack, the result and the claim document.

    The request's flows table is normalised into the scenario's zone first, so the pack (time
    stamps included) does not depend on the zone the table came in.
    """
    table = cut_period(flows.normalise(request.flows, request.timezone), request.start,
                       request.end)
    if table.empty:
        raise ValueError("no flows rows in the claim period")
    index = flows.time_index(table)
    interval_minutes = float((index[1] - index[0]).total_seconds() / 60) if len(index) > 1 else 60.0
    result = green_share(table, request.user_id, request.timezone)
    hours = round_table(result.hours)
    stamps = iso_strings(index)
    members = {path: table_bytes(frame, TIME, stamps)
               for path, frame in _evidence_tables(table, request.user_id).items()}
    members[HOURS_FILE] = table_bytes(hours, HOUR)
    doc = claim_document(request, result, interval_minutes)
    members[CLAIM_FILE] = json_bytes(doc)
    members[doc["scenario"]["file"]] = request.scenario_toml.encode("utf-8")
    if request.certificates is not None:
        members[CERTIFICATES_FILE] = certificate_bytes(request.certificates)
    return members, result, doc


def json_bytes(body: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, 2-space indent, trailing newline)."""
    text = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return (text + "\n").encode()


# ---------------------------------------------------------------------------------------------
# verification: recompute from the raw tables


def _claim(members: Mapping[str, bytes]) -> dict[str, Any]:
    if CLAIM_FILE not in members:
        raise fail(CLAIM_FILE, "missing from the pack")
    try:
        doc = json.loads(members[CLAIM_FILE].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise fail(CLAIM_FILE, f"not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise fail(CLAIM_FILE, "not a JSON object")
    return doc


def _get(doc: Mapping[str, Any], path: str) -> Any:
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise fail(CLAIM_FILE, "field missing", field=path)
        node = node[part]
    return node


def read_claim(members: Mapping[str, bytes]) -> dict[str, Any]:
    """The claim document of a pack (raises a failure naming ``claim.json``)."""
    return _claim(members)


def _same_index(ref: pd.DatetimeIndex, other: pd.DatetimeIndex, file: str) -> None:
    if len(ref) != len(other):
        raise fail(file, f"{len(other)} rows, the generation table has {len(ref)}",
                   row=min(len(ref), len(other)) + 1, field=TIME)
    bad = np.flatnonzero(ref.asi8 != other.asi8)
    if len(bad):
        raise fail(file, f"time stamp differs from {GENERATION_FILE}: {other[bad[0]]}",
                   row=int(bad[0]) + 1, field=TIME)


def _physical_checks(table: pd.DataFrame, u: str) -> None:
    green_col, grid_col = flows.user_green(u), flows.user_grid(u)
    green = table[green_col].to_numpy()
    load = table[flows.user_load(u)].to_numpy()
    grid = table[grid_col].to_numpy()
    to_load = table[flows.GREEN_TO_LOAD_KWH].to_numpy()
    checks = [
        (ALLOCATION_FILE, green_col, green < -TOL_PHYSICAL_KWH, "negative green energy"),
        (ALLOCATION_FILE, green_col, green > load + TOL_PHYSICAL_KWH,
         f"green energy above the user's load in {DELIVERY_FILE}"),
        (ALLOCATION_FILE, green_col, green > to_load + TOL_PHYSICAL_KWH,
         "user green energy above the park's green_to_load_kwh"),
        (DELIVERY_FILE, grid_col, np.abs(green + grid - load) > TOL_PHYSICAL_KWH,
         "green_kwh + grid_kwh ≠ load_kwh for the user"),
    ]
    for file, column, bad, message in checks:
        rows = np.flatnonzero(bad)
        if len(rows):
            raise fail(file, message, row=int(rows[0]) + 1, field=column)


def recompute_green_share(members: Mapping[str, bytes]) -> GreenShareResult:
    """Recompute a ``user_green_share`` claim from the pack's raw tables and compare.

    Raises :class:`~greenlink.evidence.tables.PackFailure` at the first difference, naming the
    file, row and field.
    """
    doc = _claim(members)
    u = str(_get(doc, "user_id"))
    tz = str(_get(doc, "period.timezone"))
    for path in (GENERATION_FILE, DELIVERY_FILE, ALLOCATION_FILE, HOURS_FILE):
        if path not in members:
            raise fail(path, "missing from the pack")
    gen_head = members[GENERATION_FILE].split(b"\n", 1)[0].decode("utf-8", "replace")
    gen_cols = GENERATION_COLUMNS + _generator_names(gen_head.split(","))
    gen = read_table(members[GENERATION_FILE], GENERATION_FILE, TIME, gen_cols, tz)
    dlv = read_table(members[DELIVERY_FILE], DELIVERY_FILE, TIME, _delivery_columns(u), tz)
    alloc = read_table(members[ALLOCATION_FILE], ALLOCATION_FILE, TIME, _allocation_columns(u),
                       tz)
    ref = pd.DatetimeIndex(gen.index)
    _same_index(ref, pd.DatetimeIndex(dlv.index), DELIVERY_FILE)
    _same_index(ref, pd.DatetimeIndex(alloc.index), ALLOCATION_FILE)
    start = pd.Timestamp(_get(doc, "period.start"))
    end = pd.Timestamp(_get(doc, "period.end"))
    outside = np.flatnonzero((ref < start) | (ref >= end))
    if len(outside):
        raise fail(GENERATION_FILE, f"interval outside the claim period [{start}, {end})",
                   row=int(outside[0]) + 1, field=TIME)
    step = np.diff(ref.asi8)
    if len(step) and (step <= 0).any():
        row = int(np.flatnonzero(step <= 0)[0]) + 2
        raise fail(GENERATION_FILE, "time stamps not strictly increasing", row=row, field=TIME)
    gen_sum = gen[_generator_names(gen_cols)].sum(axis=1)
    if len(gen_sum.index) and len(gen_cols) > len(GENERATION_COLUMNS):
        rows = np.flatnonzero(np.abs(gen_sum.to_numpy() - gen[flows.GENERATION_KWH].to_numpy())
                              > TOL_PHYSICAL_KWH * len(gen_cols))
        if len(rows):
            raise fail(GENERATION_FILE, "park generation ≠ sum of the generators",
                       row=int(rows[0]) + 1, field=flows.GENERATION_KWH)
    table = pd.concat([gen, dlv, alloc], axis=1)
    _physical_checks(table, u)
    result = green_share(table, u, tz)
    claimed = read_table(members[HOURS_FILE], HOURS_FILE, HOUR, HOUR_COLUMNS, tz)
    got = result.hours
    if len(claimed) != len(got):
        raise fail(HOURS_FILE, f"{len(claimed)} hours claimed, the data give {len(got)}",
                   row=min(len(claimed), len(got)) + 1, field=HOUR)
    bad_hour = np.flatnonzero(pd.DatetimeIndex(claimed.index).as_unit("ns").asi8
                              != pd.DatetimeIndex(got.index).as_unit("ns").asi8)
    if len(bad_hour):
        raise fail(HOURS_FILE, f"hour {claimed.index[bad_hour[0]]} is not the data's "
                   f"{got.index[bad_hour[0]]}", row=int(bad_hour[0]) + 1, field=HOUR)
    for col in HOUR_COLUMNS:
        i = first_mismatch(claimed[col].to_numpy(), got[col].to_numpy(), TOL_KWH)
        if i is not None:
            raise fail(HOURS_FILE, f"claimed {claimed[col].iloc[i]:.6f}, recomputed "
                       f"{got[col].iloc[i]:.6f} kWh", row=i + 1, field=col)
    totals = {flows.USER_LOAD_KWH: (result.load_kwh, TOL_KWH * len(table)),
              flows.USER_GREEN_KWH: (result.green_kwh, TOL_KWH * len(table)),
              "hourly_matched_kwh": (result.matched_kwh, TOL_KWH * len(table)),
              "hourly_matched_share": (result.hourly_matched_share, TOL_SHARE),
              "green_share_of_consumption": (result.green_share_of_consumption, TOL_SHARE)}
    for name, (value, tol) in totals.items():
        claimed_value = _get(doc, f"claimed.{name}")
        try:
            number = float(claimed_value)
        except (TypeError, ValueError):
            raise fail(CLAIM_FILE, f"not a number: {claimed_value!r}",
                       field=f"claimed.{name}") from None
        if not abs(number - value) <= tol:
            raise fail(CLAIM_FILE, f"claimed {number!r}, recomputed {value!r}",
                       field=f"claimed.{name}")
    scen = str(_get(doc, "scenario.file"))
    if scen not in members:
        raise fail(scen, "scenario snapshot missing from the pack")
    if sha256_hex(members[scen]) != _get(doc, "scenario.sha256"):
        raise fail(CLAIM_FILE, f"does not match the SHA-256 of {scen}", field="scenario.sha256")
    return result


def scenario_member(file_name: str) -> str:
    """The pack member of the scenario file: ``scenario/<its name in NFC>``, or
    ``scenario/scenario.toml`` when that name is not a safe member name (``aux.toml``,
    ``park:2025.toml`` …), so that any scenario file can be packed."""
    import unicodedata

    member = f"scenario/{unicodedata.normalize('NFC', file_name)}"
    return member if unsafe_name(member) is None else "scenario/scenario.toml"
