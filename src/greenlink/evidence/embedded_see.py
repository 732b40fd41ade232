"""A shipment's specific embedded emissions (direct, indirect, precursors) inside a pack.

The shipment's good is made by one process of the installation. Its specific embedded
emissions (SEE) follow :mod:`greenlink.carbon.embedded` (Reg 2023/956 Annex IV; IR 2025/2547
Annex II), with the indirect own part taken from the shipment's electricity and factor route
(:mod:`greenlink.evidence.shipment`):

* ``DirEm`` = :func:`greenlink.carbon.embedded.direct_emissions` of the process (measured, or
  ``Σ fuel × EF × (1 − biomass)`` + process emissions, ± measurable heat) [t CO2e];
* precursor parts ``P_dir = Σ m_i × SEE_dir,i``, ``P_ind = Σ m_i × SEE_ind,i``,
  ``P_cnt = Σ m_i × SEE_cnt,i`` [t CO2e] (``SEE_cnt,i`` = the indirect part CBAM counts);
* ``SEE_dir = (DirEm + P_dir) / AL``; ``SEE_ind = EF × E / Q + P_ind / AL``;
  ``SEE_counted = SEE_dir + (0 if Annex II good else EF × E / Q) + P_cnt / AL``
  [t CO2e/t], where ``AL`` is the process's activity level (t per reporting period), ``E`` the
  shipment's electricity [MWh], ``EF`` its factor [t/MWh] and ``Q`` its tonnes;
* reported rounded half-up to 5 decimals (:func:`greenlink.carbon.embedded.round_see`).

Pack members: ``embedded/fuels.csv`` (one row per fuel with its ``emissions_t``),
``embedded/precursors.csv`` (one row per precursor use with its SEE and ``direct_t`` /
``indirect_t`` / ``counted_t``), and ``claim.json`` ``embedded`` (process inputs, totals and the
rounded SEE). Verification recomputes every row and every figure from these raw inputs plus
the electricity and factor recomputed from the meter tables.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from greenlink.carbon.cbam_goods import classify
from greenlink.carbon.embedded import GoodSee, direct_emissions, round_see
from greenlink.errors import GreenlinkError
from greenlink.evidence.tables import fail
from greenlink.scenario.installations import Fuel, Process

FUELS_FILE = "embedded/fuels.csv"
PRECURSORS_FILE = "embedded/precursors.csv"
FUEL_COLUMNS = ("fuel", "amount", "unit", "ef_t_co2_per_unit", "biomass_fraction", "emissions_t")
PRECURSOR_COLUMNS = ("precursor", "cn_code", "data", "amount_t", "see_direct_t_per_t",
                     "see_indirect_t_per_t", "indirect_counted_t_per_t", "direct_t",
                     "indirect_t", "counted_t")
#: Process fields copied into ``claim.json`` ``embedded.process`` (besides fuels/precursors).
PROCESS_FIELDS = ("id", "cn_code", "activity_level_t", "process_emissions_t",
                  "measured_emissions_t", "heat_imported_tj", "heat_ef_t_per_tj",
                  "heat_exported_tj", "heat_export_ef_t_per_tj")
#: Relative tolerance on per-row tonnes (the CSV holds ``repr`` floats: exact round trip).
TOL_REL = 1e-9


@dataclass(frozen=True)
class PrecursorRow:
    """One precursor use: tonnes consumed in the period and the precursor's SEE [t CO2e/t]."""

    precursor: str
    cn_code: str
    data: str
    amount_t: float
    see_direct_t_per_t: float
    see_indirect_t_per_t: float
    indirect_counted_t_per_t: float


@dataclass(frozen=True)
class EmbeddedInputs:
    """Everything needed to recompute the shipment's SEE apart from electricity and factor."""

    process: Process
    annex_ii: bool
    precursors: tuple[PrecursorRow, ...]


@dataclass(frozen=True)
class ShipmentSee:
    """The shipment's SEE (unrounded, t CO2e/t) and the totals behind them (t CO2e)."""

    direct_emissions_t: float
    precursor_direct_t: float
    precursor_indirect_t: float
    precursor_counted_t: float
    see_direct_t_per_t: float
    see_indirect_own_t_per_t: float
    see_indirect_precursors_t_per_t: float
    see_indirect_t_per_t: float
    see_counted_t_per_t: float

    def rounded(self) -> dict[str, float]:
        """SEE as reported: half-up at 5 decimals (IR 2025/2547 Annex II A.1(8))."""
        return {"see_direct_t_per_t": round_see(self.see_direct_t_per_t),
                "see_indirect_t_per_t": round_see(self.see_indirect_t_per_t),
                "see_indirect_own_t_per_t": round_see(self.see_indirect_own_t_per_t),
                "see_indirect_precursors_t_per_t": round_see(
                    self.see_indirect_precursors_t_per_t),
                "see_total_t_per_t": round_see(self.see_direct_t_per_t
                                               + self.see_indirect_t_per_t),
                "see_counted_t_per_t": round_see(self.see_counted_t_per_t)}


def inputs_from_accounts(process: Process, see: Mapping[str, GoodSee]) -> EmbeddedInputs:
    """The pack inputs of one process, precursor SEE taken from the installation's accounts
    (:func:`greenlink.carbon.embedded.installation_see`: purchased precursors with their
    actual or default values, own precursor processes recursively)."""
    rows = []
    for use in process.precursors:
        prec = see[use.precursor]
        rows.append(PrecursorRow(prec.id, prec.cn_code, prec.data, float(use.amount_t),
                                 prec.see_direct_t_per_t, prec.see_indirect_t_per_t,
                                 prec.indirect_counted_t_per_t))
    return EmbeddedInputs(process, see[process.id].annex_ii, tuple(rows))


def fuel_emissions_t(fuel: Fuel) -> float:
    """``amount × EF × (1 − biomass)`` [t CO2], as :func:`direct_emissions` computes it."""
    return fuel.amount * fuel.ef_t_co2_per_unit * (1.0 - fuel.biomass_fraction)


def compute(inputs: EmbeddedInputs, electricity_mwh: float, ef_t_per_mwh: float,
            quantity_t: float) -> ShipmentSee:
    """The shipment's SEE (module docstring) from the inputs, its electricity and factor."""
    dir_em, _ = direct_emissions(inputs.process, inputs.process.id)
    p_dir = sum(r.amount_t * r.see_direct_t_per_t for r in inputs.precursors)
    p_ind = sum(r.amount_t * r.see_indirect_t_per_t for r in inputs.precursors)
    p_cnt = sum(r.amount_t * r.indirect_counted_t_per_t for r in inputs.precursors)
    al = float(inputs.process.activity_level_t)
    own = ef_t_per_mwh * electricity_mwh / quantity_t
    see_dir = (dir_em + p_dir) / al
    see_ind = own + p_ind / al
    counted = see_dir + (0.0 if inputs.annex_ii else own) + p_cnt / al
    return ShipmentSee(dir_em, p_dir, p_ind, p_cnt, see_dir, own, p_ind / al, see_ind, counted)


def _csv(columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([repr(float(v)) if isinstance(v, float) else v for v in row])
    return buf.getvalue().encode("utf-8")


def members_and_section(inputs: EmbeddedInputs, electricity_mwh: float, ef_t_per_mwh: float,
                        quantity_t: float) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The two CSV members and the ``claim.json`` ``embedded`` section."""
    proc = inputs.process
    fuels = [(f.name, float(f.amount), f.unit, float(f.ef_t_co2_per_unit),
              float(f.biomass_fraction), fuel_emissions_t(f)) for f in proc.fuels]
    precs = [(r.precursor, r.cn_code, r.data, r.amount_t, r.see_direct_t_per_t,
              r.see_indirect_t_per_t, r.indirect_counted_t_per_t,
              r.amount_t * r.see_direct_t_per_t, r.amount_t * r.see_indirect_t_per_t,
              r.amount_t * r.indirect_counted_t_per_t) for r in inputs.precursors]
    see = compute(inputs, electricity_mwh, ef_t_per_mwh, quantity_t)
    section = {
        "process": {k: getattr(proc, k) for k in PROCESS_FIELDS},
        "annex_ii": inputs.annex_ii,
        "fuels_file": FUELS_FILE, "precursors_file": PRECURSORS_FILE,
        "method": ("SEE_dir = (DirEm + Σ m_i SEE_dir,i)/AL; SEE_ind = EF × E/Q + Σ m_i "
                   "SEE_ind,i/AL; counted = SEE_dir + (EF × E/Q unless Annex II) + Σ m_i "
                   "SEE_cnt,i/AL; rounded half-up to 5 decimals (greenlink.carbon.embedded)"),
        "direct_emissions_t": see.direct_emissions_t,
        "precursor_direct_t": see.precursor_direct_t,
        "precursor_indirect_t": see.precursor_indirect_t,
        "precursor_counted_t": see.precursor_counted_t,
        **see.rounded(),
    }
    return {FUELS_FILE: _csv(FUEL_COLUMNS, fuels),
            PRECURSORS_FILE: _csv(PRECURSOR_COLUMNS, precs)}, section


def _rows(members: Mapping[str, bytes], file: str,
          columns: tuple[str, ...]) -> list[dict[str, str]]:
    if file not in members:
        raise fail(file, "missing from the pack")
    try:
        reader = csv.DictReader(io.StringIO(members[file].decode("utf-8")))
        rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise fail(file, f"not a readable CSV table: {exc}") from exc
    for col in columns:
        if col not in (reader.fieldnames or []):
            raise fail(file, "column missing", field=col)
    return rows


def _number(row: Mapping[str, str], file: str, i: int, col: str) -> float:
    try:
        value = float(row[col])
    except (TypeError, ValueError):
        raise fail(file, f"not a number: {row[col]!r}", row=i, field=col) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise fail(file, f"not a finite number: {row[col]!r}", row=i, field=col)
    return value


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= TOL_REL * max(1.0, abs(b))


def read_inputs(members: Mapping[str, bytes], section: Mapping[str, Any]) -> EmbeddedInputs:
    """Rebuild the inputs from the pack, checking every row's derived tonnes on the way."""
    fuels = []
    for i, row in enumerate(_rows(members, FUELS_FILE, FUEL_COLUMNS), start=1):
        try:
            fuel = Fuel(name=row["fuel"], unit=row["unit"],
                        amount=_number(row, FUELS_FILE, i, "amount"),
                        ef_t_co2_per_unit=_number(row, FUELS_FILE, i, "ef_t_co2_per_unit"),
                        biomass_fraction=_number(row, FUELS_FILE, i, "biomass_fraction"))
        except ValidationError as exc:
            err = exc.errors()[0]
            raise fail(FUELS_FILE, err["msg"], row=i,
                       field=str(err["loc"][0]) if err["loc"] else None) from None
        claimed = _number(row, FUELS_FILE, i, "emissions_t")
        if not _same(claimed, fuel_emissions_t(fuel)):
            raise fail(FUELS_FILE, f"claimed {claimed!r}, recomputed {fuel_emissions_t(fuel)!r} "
                       "t CO2 (amount × EF × (1 − biomass))", row=i, field="emissions_t")
        fuels.append(fuel)
    precs = []
    for i, row in enumerate(_rows(members, PRECURSORS_FILE, PRECURSOR_COLUMNS), start=1):
        values = {c: _number(row, PRECURSORS_FILE, i, c) for c in PRECURSOR_COLUMNS[3:]}
        r = PrecursorRow(row["precursor"], row["cn_code"], row["data"], values["amount_t"],
                         values["see_direct_t_per_t"], values["see_indirect_t_per_t"],
                         values["indirect_counted_t_per_t"])
        for col, want in (("direct_t", r.amount_t * r.see_direct_t_per_t),
                          ("indirect_t", r.amount_t * r.see_indirect_t_per_t),
                          ("counted_t", r.amount_t * r.indirect_counted_t_per_t)):
            if not _same(values[col], want):
                raise fail(PRECURSORS_FILE, f"claimed {values[col]!r}, recomputed {want!r} "
                           "t CO2e (amount_t × SEE)", row=i, field=col)
        precs.append(r)
    body = section.get("process")
    if not isinstance(body, Mapping):
        raise fail("claim.json", "field missing", field="embedded.process")
    try:
        proc = Process.model_validate({**{k: body.get(k) for k in PROCESS_FIELDS},
                                       "fuels": [f.model_dump() for f in fuels]})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise fail("claim.json", err["msg"], field=f"embedded.process.{where}") from None
    if proc.activity_level_t <= 0:
        raise fail("claim.json", "activity level must be positive",
                   field="embedded.process.activity_level_t")
    annex_ii = section.get("annex_ii")
    try:
        want = not classify(proc.cn_code).indirect_emissions_counted
    except GreenlinkError as exc:
        raise fail("claim.json", f"not a CBAM good: {exc}",
                   field="embedded.process.cn_code") from None
    if annex_ii is not want:
        raise fail("claim.json", f"claimed {annex_ii!r}, but CN {proc.cn_code} is "
                   f"{'' if want else 'not '}an Annex II good (indirect emissions "
                   f"{'not ' if want else ''}counted)", field="embedded.annex_ii")
    return EmbeddedInputs(proc, want, tuple(precs))


def verify_section(members: Mapping[str, bytes], section: Any, electricity_mwh: float,
                   ef_t_per_mwh: float, quantity_t: float) -> None:
    """Recompute the ``embedded`` section; raise :class:`PackFailure` at the first difference.

    Totals are compared to a relative 1e-9; the SEE must equal the recomputed value rounded to
    5 decimals exactly.
    """
    if not isinstance(section, Mapping):
        raise fail("claim.json", "field missing", field="embedded")
    see = compute(read_inputs(members, section), electricity_mwh, ef_t_per_mwh, quantity_t)
    totals = {"direct_emissions_t": see.direct_emissions_t,
              "precursor_direct_t": see.precursor_direct_t,
              "precursor_indirect_t": see.precursor_indirect_t,
              "precursor_counted_t": see.precursor_counted_t}
    for name, value in totals.items():
        claimed = section.get(name)
        if not isinstance(claimed, int | float) or not _same(float(claimed), value):
            raise fail("claim.json", f"claimed {claimed!r}, recomputed {value!r} t CO2e",
                       field=f"embedded.{name}")
    for name, value in see.rounded().items():
        claimed = section.get(name)
        if not isinstance(claimed, int | float) or float(claimed) != value:
            raise fail("claim.json", f"claimed {claimed!r}, recomputed {value:.5f} t CO2e/t",
                       field=f"embedded.{name}")

