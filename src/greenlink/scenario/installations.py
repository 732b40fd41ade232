"""A CBAM installation with its production processes (issue: carbon accounting and CBAM).

Extension module of the scenario: the models here are referenced by
:class:`greenlink.scenario.model.Scenario`; :func:`cross_check` adds the checks that need the
whole scenario.

One installation belongs to one park user (the factory). Each production process has an
activity level (tonnes of the good in the reporting period), directly attributable emissions
(fuels × emission factors, process emissions, or a measured total), measurable heat,
electricity (a metered sub-meter total, or an allocation key on the user's metered consumption)
and the precursors it consumes (made in another process of the installation, or purchased
with actual-and-verified or default embedded emissions). The evidence for an actual electricity
emission factor (IR 2025/2547 Annex II D.4.3) is part of the installation.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from greenlink.scenario.base import Fraction, Id, NonNegative, Strict


class Fuel(Strict):
    """A fuel or input material burnt in a process: emissions = amount × ef × (1 − biomass)."""

    name: str = Field(min_length=1)
    amount: NonNegative = Field(description="amount in the reporting period, in `unit`")
    unit: str = Field("t", description="unit of `amount` (t, TJ, 1000 Nm3 ...)")
    ef_t_co2_per_unit: NonNegative = Field(description="emission factor, t CO2 per `unit`")
    biomass_fraction: Fraction = 0.0
    source: str = Field("", description="where the emission factor comes from")


class PrecursorUse(Strict):
    """Precursor consumed by a process: another process of this installation or a purchase."""

    precursor: Id = Field(description="id of a process of this installation or of a "
                                      "purchased precursor")
    amount_t: NonNegative = Field(description="tonnes consumed in the reporting period")


class Process(Strict):
    """A production process (template sheet D_Processes)."""

    id: Id
    name: str = ""
    cn_code: str = Field(description="8-digit CN code of the good the process makes")
    activity_level_t: NonNegative = Field(description="tonnes produced in the reporting period")
    fuels: list[Fuel] = Field(default_factory=list)
    process_emissions_t: NonNegative = Field(0.0, description="process (non-combustion) CO2e")
    measured_emissions_t: NonNegative | None = Field(
        None, description="measured (CEMS) directly attributable emissions; replaces fuels "
                          "and process emissions")
    heat_imported_tj: NonNegative = 0.0
    heat_ef_t_per_tj: NonNegative = Field(0.0, description="EF of imported measurable heat")
    heat_exported_tj: NonNegative = 0.0
    heat_export_ef_t_per_tj: NonNegative = 0.0
    electricity_mwh: NonNegative | None = Field(
        None, description="metered sub-meter total for the period; when absent, "
                          "`electricity_share` × the user's metered consumption")
    electricity_share: Fraction | None = Field(
        None, description="allocation key: share of the user's consumption")
    electricity_meter: str | None = Field(None, description="sub-meter id, for the audit")
    precursors: list[PrecursorUse] = Field(default_factory=list)


class PurchasedPrecursor(Strict):
    """A precursor bought from outside the installation (template sheet E_PurchPrec)."""

    id: Id
    name: str = ""
    cn_code: str
    country: str = Field("CN", description="ISO 3166-1 alpha-2 country of production")
    data: Literal["actual", "default"] = "default"
    see_direct_t_per_t: NonNegative | None = Field(
        None, description="actual specific direct embedded emissions (needs verification)")
    see_indirect_t_per_t: NonNegative | None = None
    electricity_mwh_per_t: NonNegative | None = None
    verification_report: str | None = Field(
        None, description="verification report by a verifier accredited under DR 2025/2551 "
                          "covering the production period; required for actual data")


class ElectricityEvidence(Strict):
    """Evidence for an actual electricity emission factor (IR 2025/2547 Annex II D.4.3)."""

    route: Literal["direct_technical_link", "ppa"]
    source: str = Field(description="generating plant (a `pv`/`wind` id of the park)")
    ef_t_per_mwh: NonNegative = Field(0.0, description="EF of the source's electricity")
    single_line_diagram: str | None = Field(None, description="drawing reference")
    single_line_diagram_sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    meter_interval_minutes: int | None = Field(
        None, gt=0, description="measurement period of production and delivery meters")
    production_meter: str | None = None
    delivery_meter: str | None = None
    offtake_contract: str | None = Field(None, description="contract or intra-company "
                                                           "off-take agreement reference")
    offtake_contracted_mwh: NonNegative | None = Field(
        None, description="electricity the contract requires to be delivered in the period")
    ppa_contract: str | None = None
    grid_connection_proof: str | None = Field(
        None, description="TSO/authority document proving a physical grid connection (PPA)")


class GridFactorInput(Strict):
    """The grid emission factor the user supplies (e.g. China's value), with its source."""

    ef_t_per_mwh: NonNegative
    source: str = Field(min_length=1)
    commission_default: bool = Field(
        False, description="true if this is the value of IR 2025/2621 Annex II (template "
                           "D.4(a)); false for other publicly available data (D.4(b))")


class Installation(Strict):
    """A CBAM installation (template sheet A_InstData) run by one park user."""

    id: Id
    name: str = ""
    user: Id = Field(description="the park user whose metered consumption feeds the processes")
    country: str = "CN"
    operator: str = ""
    address: str = ""
    unlocode: str = ""
    reporting_year: int | None = Field(None, ge=2023, le=2100)
    grid_factor: GridFactorInput | None = Field(
        None, description="grid EF; default: the MEE provincial factor as public data")
    electricity_evidence: list[ElectricityEvidence] = Field(default_factory=list)
    processes: list[Process] = Field(default_factory=list)
    purchased_precursors: list[PurchasedPrecursor] = Field(default_factory=list)
    batches_file: str | None = Field(None, description="production batches: CSV (UTF-8, GBK or "
                                     "GB18030), xlsx or Parquet")
    batches_sheet: str | None = Field(None, description="xlsx: the batches worksheet (default: "
                                      "the first)")
    shipments_file: str | None = Field(None, description="shipments: CSV (UTF-8, GBK or GB18030), "
                                       "xlsx or Parquet")
    shipments_sheet: str | None = Field(None, description="xlsx: the shipments worksheet "
                                        "(default: the first)")
    decimal: Literal[".", ","] = Field(".", description="',' when the batches and shipments files "
                                       "are written with decimal commas")
    importer: str = Field("", description="EU importer (declarant) of the shipments")


def cross_check(scenario: Any) -> list[str]:
    """Problems that involve other parts of the scenario.

    Checks: the installation's user exists; process and precursor ids are unique and every
    precursor reference resolves; evidence names a generator of the park.
    """
    errors: list[str] = []
    users = {u.id for u in getattr(scenario, "users", [])}
    plants = {p.id for p in getattr(scenario, "pv", [])} | {
        w.id for w in getattr(scenario, "wind", []) or []}
    seen: set[str] = set()
    for i, inst in enumerate(getattr(scenario, "installations", [])):
        where = f"installations[{i}] ({inst.id})"
        if inst.id in seen:
            errors.append(f"{where}: duplicate installation id")
        seen.add(inst.id)
        if users and inst.user not in users:
            errors.append(f"{where} references user {inst.user!r}, which is not defined "
                          f"(users: {', '.join(sorted(users))})")
        ids = [p.id for p in inst.processes] + [p.id for p in inst.purchased_precursors]
        dupes = sorted({x for x in ids if ids.count(x) > 1})
        if dupes:
            errors.append(f"{where}: duplicate process/precursor ids {dupes}")
        for p in inst.processes:
            for use in p.precursors:
                if use.precursor not in ids:
                    errors.append(f"{where}.processes ({p.id}) consumes unknown precursor "
                                  f"{use.precursor!r} (known: {', '.join(sorted(ids))})")
        for ev in inst.electricity_evidence:
            if plants and ev.source not in plants:
                errors.append(f"{where}.electricity_evidence names source {ev.source!r}, "
                              f"not a plant of the park ({', '.join(sorted(plants))})")
    return errors
