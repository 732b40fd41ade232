"""Claim kind ``shipment_electricity``: a shipment's electricity factor route and indirect SEE.

"Shipment *s* (``quantity_t`` of CN code *c*) is a product of process *p*; over its reporting
period the process used electricity ``E`` of which ``green_mwh`` was delivered over the direct
line hour by hour; the electricity factor route is *r* (template code *k*, IR 2025/2547 Annex II
D.4.3 conditions met or the missing ones listed), factor ``ef`` t/MWh, so the specific indirect
embedded emissions are ``see_indirect = ef × E / AL`` t CO2e/t" — the **period value of the
process** (IR 2025/2547 Art 9(2): attribution per production process over the reporting period,
not per consignment), the same in the pack of every shipment of that process and period.

With ``ShipmentRequest.process`` set (always, from a claim file and the demo), the pack's period
is the process's reporting period (the whole flows period), ``E`` is the process's part of the
user's metered consumption (its allocation key × the user's load, or its sub-meter total), the
green part the same share of the user's delivered green energy (allocation table), capped by the
process's share of its contract (:func:`greenlink.carbon.emission_factor_routes.share_contracts`
over every process drawing on it: the other claimants are stated in ``claim.json``, this
process's own claim is recomputed from the tables), and ``AL`` the process's activity level.
Without it (a bare request), the period is the request's and the shipment is taken as the whole
production of the user over it (``E`` = the user's load, green = its hourly-matched energy,
``AL`` = the shipment's tonnes).

The pack holds the same raw tables as ``user_green_share`` (production, delivery, allocation,
hourly claim rows) over that period, plus ``claim.json``
``electricity_factor`` (inputs: D.4.3 evidence, grid factor, data interval, metered or not;
outputs: route, code, factor, missing evidence), a PACT ``ProductFootprint`` JSON
(``interop/pact_product_footprint.json``) of the electricity part, and the electricity figures
of the Commission's CBAM communication template (``interop/cbam_template_figures.json``).

With process inputs (``ShipmentRequest.embedded``, always set by a claim file) the pack also
holds the shipment's specific embedded emissions — direct, indirect and precursors — and every
input to recompute them (:mod:`greenlink.evidence.embedded_see`: ``embedded/fuels.csv``,
``embedded/precursors.csv``, ``claim.json`` ``embedded``); the PACT footprint is then the total.

Verification recomputes the hourly matching from the raw tables, then re-runs
:func:`greenlink.carbon.emission_factor_routes.decide_factor` on the pack's inputs and compares
route, template code, factor and SEE, then recomputes the embedded emissions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import pandas as pd

from greenlink.carbon.emission_factor_routes import (
    ContractClaim,
    EfDecision,
    GridFactor,
    decide_factor,
    share_contracts,
)
from greenlink.carbon.pact import product_footprint
from greenlink.evidence.claims import (
    CLAIM_FILE,
    GreenShareRequest,
    GreenShareResult,
    build_green_share,
    json_bytes,
    recompute_green_share,
)
from greenlink.evidence.embedded_see import EmbeddedInputs, members_and_section, verify_section
from greenlink.evidence.tables import fail
from greenlink.scenario.installations import ElectricityEvidence

SHIPMENT = "shipment_electricity"
PACT_FILE = "interop/pact_product_footprint.json"
CBAM_FILE = "interop/cbam_template_figures.json"
TOL_EF = 1e-9


@dataclass(frozen=True)
class ShipmentInfo:
    """The shipment: id, SKU, CN code, tonnes, and the company issuing the footprint."""

    shipment_id: str
    sku: str
    cn_code: str
    quantity_t: float
    company_name: str = ""
    company_id: str = ""


@dataclass(frozen=True)
class ProcessPeriod:
    """The process that made the shipment, over its reporting period (the pack's period).

    ``electricity_share`` (allocation key on the user's load) or ``electricity_mwh`` (sub-meter
    total) as in the scenario; ``contract_claims``: every process of the scenario drawing on the
    contract this process's evidence names (its own entry included), with their matched MWh.
    """

    installation: str
    process: str
    activity_level_t: float
    electricity_share: float | None = None
    electricity_mwh: float | None = None
    contract_claims: tuple[ContractClaim, ...] = ()

    @property
    def claimant(self) -> str:
        return f"{self.installation}/{self.process}"

    def to_json(self) -> dict[str, Any]:
        return {"installation": self.installation, "process": self.process,
                "activity_level_t": self.activity_level_t,
                "electricity_share": self.electricity_share,
                "electricity_mwh": self.electricity_mwh,
                "contract_claims": [asdict(c) for c in self.contract_claims]}

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ProcessPeriod:
        share, mwh = body.get("electricity_share"), body.get("electricity_mwh")
        return cls(str(body["installation"]), str(body["process"]),
                   float(body["activity_level_t"]),
                   None if share is None else float(share), None if mwh is None else float(mwh),
                   tuple(ContractClaim(str(c["claimant"]), str(c["contract"]),
                                       float(c["matched_mwh"]),
                                       None if c.get("contracted_mwh") is None
                                       else float(c["contracted_mwh"]))
                         for c in body.get("contract_claims") or ()))


@dataclass(frozen=True)
class ShipmentRequest:
    """A green-share request over the process's reporting period plus the factor inputs."""

    green: GreenShareRequest
    shipment: ShipmentInfo
    grid: GridFactor
    evidence: tuple[ElectricityEvidence, ...]
    annex_ii_good: bool = False
    embedded: EmbeddedInputs | None = None
    process: ProcessPeriod | None = None


@dataclass(frozen=True)
class PeriodBasis:
    """Electricity of the process over the period and the quantity the SEE is per."""

    electricity_mwh: float
    green_mwh: float
    quantity_t: float
    contract_share_mwh: float | None
    contract_claimants: int


def period_basis(result: GreenShareResult, inputs: Mapping[str, Any],
                 shipment_t: float) -> PeriodBasis:
    """The process's electricity, green energy and activity over the pack's period (module
    docstring), from the recomputed tables and the pack's inputs."""
    body = inputs.get("process")
    if body is None:  # a bare request: the shipment is the user's whole production
        return PeriodBasis(result.load_kwh / 1000.0, result.matched_kwh / 1000.0, shipment_t,
                           None, 1)
    proc = ProcessPeriod.from_json(body)
    load = result.load_kwh / 1000.0
    if proc.electricity_mwh is not None:
        el = proc.electricity_mwh
        share = el / load if load else 0.0
    else:
        share = float(proc.electricity_share or 0.0)
        el = share * load
    green = share * result.green_kwh / 1000.0
    claims = [c if c.claimant != proc.claimant else replace(c, matched_mwh=green)
              for c in proc.contract_claims]
    mine = [c for c in claims if c.claimant == proc.claimant]
    shares = share_contracts(claims) if mine else {}
    n = sum(1 for c in claims if mine and c.contract == mine[0].contract) or 1
    return PeriodBasis(el, green, proc.activity_level_t, shares.get(proc.claimant), n)


def decide(result: GreenShareResult, inputs: Mapping[str, Any],
           shipment_t: float = 1.0) -> tuple[EfDecision, PeriodBasis]:
    """The factor decision from the recomputed tables and the pack's factor inputs."""
    grid = GridFactor(**inputs["grid"])
    evidence = [ElectricityEvidence.model_validate(e) for e in inputs["evidence"]]
    basis = period_basis(result, inputs, shipment_t)
    decision = decide_factor(basis.electricity_mwh, basis.green_mwh, grid, evidence,
                             data_interval_minutes=float(inputs["data_interval_minutes"]),
                             flows_metered=bool(inputs["flows_metered"]),
                             annex_ii_good=bool(inputs["annex_ii_good"]),
                             contract_share_mwh=basis.contract_share_mwh,
                             contract_claimants=basis.contract_claimants)
    return decision, basis


def see_indirect(decision: EfDecision, quantity_t: float) -> float:
    """Specific indirect embedded emissions ``ef × E / AL`` [t CO2e per t of good] (``AL``: the
    process's activity level over the period)."""
    return decision.ef_t_per_mwh * decision.electricity_mwh / quantity_t


def cbam_figures(decision: EfDecision, shipment: Mapping[str, Any],
                 production_t: float | None = None) -> dict[str, Any]:
    """Electricity figures as the Commission's communication template holds them.

    Sheet ``D_Processes`` (version 2024-12-13, :mod:`greenlink.carbon.template`): electricity
    consumed L65 [MWh], emission factor L66 [t CO2/MWh], source of the factor L67 (template
    code ``D.4(a)``, ``D.4(b)``, ``D.4.3.1``, ``D.4.3.2`` or ``Mix``) of the process over the
    period, its production (L16); plus the goods category and the specific values per tonne
    that ``Summary_Products`` shows.
    """
    from greenlink.carbon.template import goods_category

    q = float(production_t if production_t is not None else shipment["quantity_t"])
    return {
        "template": "CBAM_Communication_template_for_installations_en_20241213.xlsx",
        "cn_code": str(shipment["cn_code"]),
        "goods_category": goods_category(str(shipment["cn_code"])),
        "D_Processes": {"L16_production_t": q,
                        "L65_electricity_consumption_mwh": decision.electricity_mwh,
                        "L66_emission_factor_t_per_mwh": decision.ef_t_per_mwh,
                        "L67_emission_factor_source": decision.template_code},
        "production_t": q,
        "shipment_t": float(shipment["quantity_t"]),
        "specific_electricity_mwh_per_t": decision.electricity_mwh / q,
        "see_indirect_t_per_t": see_indirect(decision, q),
    }


def shipment_statement(doc: Mapping[str, Any]) -> str:
    """The claim in one or two sentences, from ``claim.json``'s shipment, hourly-matched share,
    electricity factor and (when present) embedded emissions; the verifier regenerates it once
    those numbers are checked."""
    s, ef = doc["shipment"], doc["electricity_factor"]
    proc = ef.get("inputs", {}).get("process")
    period = doc.get("period", {})
    if proc is not None:
        basis = (f"period value of process {proc['process']} over "
                 f"{str(period.get('start', ''))[:10]} – {str(period.get('end', ''))[:10]} "
                 "(IR 2025/2547 Art 9(2)), the same for every shipment of the process: ")
    else:
        basis = ""
    text = (f"Shipment {s['shipment_id']} ({s['quantity_t']:g} t {s['sku']}, CN {s['cn_code']}):"
            f" {basis}{doc['claimed']['hourly_matched_share']:.1%} hourly-matched green power; "
            f"electricity factor {ef['ef_t_per_mwh']:.4f} t/MWh by route {ef['route']} "
            f"({ef['template_code']}); indirect emissions {ef['see_indirect_t_per_t']:.4f} "
            "t CO2e/t.")
    emb = doc.get("embedded")
    if emb is not None:
        text += (f" Specific embedded emissions {emb['see_direct_t_per_t']:.5f} direct + "
                 f"{emb['see_indirect_t_per_t']:.5f} indirect (precursors included) = "
                 f"{float(emb['see_total_t_per_t']):.5f} t CO2e/t; CBAM counts "
                 f"{emb['see_counted_t_per_t']:.5f} t CO2e/t.")
    return text


def build_shipment(request: ShipmentRequest) -> tuple[dict[str, bytes], GreenShareResult,
                                                      dict[str, Any]]:
    """Member files of a shipment pack, the matching result and the claim document."""
    members, result, doc = build_green_share(request.green)
    inputs: dict[str, Any] = {
        "grid": asdict(request.grid),
        "evidence": [e.model_dump(mode="json") for e in request.evidence],
        "data_interval_minutes": doc["period"]["interval_minutes"],
        "flows_metered": request.green.flows_source == "metered",
        "annex_ii_good": request.annex_ii_good}
    if request.process is not None:
        inputs["process"] = request.process.to_json()
    s = request.shipment
    decision, basis = decide(result, inputs, s.quantity_t)
    see = see_indirect(decision, basis.quantity_t)
    doc["kind"] = SHIPMENT
    doc["shipment"] = asdict(s)
    doc["electricity_factor"] = {
        "inputs": inputs,
        "route": decision.route, "template_code": decision.template_code,
        "ef_t_per_mwh": decision.ef_t_per_mwh, "electricity_mwh": decision.electricity_mwh,
        "green_mwh_claimed": decision.green_mwh_claimed, "reason": decision.reason,
        "missing_evidence": list(decision.missing_evidence),
        "warnings": list(decision.warnings),
        "green_mwh_matched": basis.green_mwh, "activity_level_t": basis.quantity_t,
        "see_indirect_t_per_t": see,
    }
    footprint = see
    comment = (f"shipment {s.shipment_id}: indirect (electricity) emissions only; direct and "
               "precursor emissions are not part of this evidence pack")
    if request.embedded is not None:
        extra, section = members_and_section(request.embedded, decision.electricity_mwh,
                                             decision.ef_t_per_mwh, basis.quantity_t)
        members.update(extra)
        doc["embedded"] = section
        footprint = float(section["see_total_t_per_t"])
        comment = (f"shipment {s.shipment_id}: direct, indirect and precursor emissions "
                   "(cradle-to-gate per CBAM rules, period value of the process, rounded to 5 "
                   "decimals)")
    doc["statement"] = shipment_statement(doc)
    members[CLAIM_FILE] = json_bytes(doc)
    end = pd.Timestamp(request.green.end).to_pydatetime()
    pact = product_footprint(
        company_name=s.company_name, company_id=s.company_id or "operator",
        product_id=s.sku, product_name=s.sku, cn_code=s.cn_code, footprint_kg_per_kg=footprint,
        electricity_kg_per_kg=see, green_share=result.hourly_matched_share,
        period_start=pd.Timestamp(request.green.start).to_pydatetime(), period_end=end,
        comment=comment, created=end)
    members[PACT_FILE] = json_bytes(pact)
    members[CBAM_FILE] = json_bytes(cbam_figures(decision, doc["shipment"], basis.quantity_t))
    return members, result, doc


def recompute_shipment(members: Mapping[str, bytes]) -> GreenShareResult:
    """Recompute matching, factor route and SEE; raise at the first difference."""
    result = recompute_green_share(members)
    doc = json.loads(members[CLAIM_FILE])
    ef = doc.get("electricity_factor")
    if not isinstance(ef, Mapping) or "inputs" not in ef:
        raise fail(CLAIM_FILE, "field missing", field="electricity_factor.inputs")
    try:
        decision, basis = decide(result, ef["inputs"], float(doc["shipment"]["quantity_t"]))
        quantity = basis.quantity_t
        _check_own_claim(ef["inputs"], basis)
    except (KeyError, TypeError, ValueError) as exc:
        raise fail(CLAIM_FILE, f"factor inputs unreadable: {exc}",
                   field="electricity_factor.inputs") from exc
    expected: dict[str, Any] = {"route": decision.route, "template_code": decision.template_code,
                "missing_evidence": list(decision.missing_evidence)}
    for name, value in expected.items():
        if ef.get(name) != value:
            raise fail(CLAIM_FILE, f"claimed {ef.get(name)!r}, recomputed {value!r}",
                       field=f"electricity_factor.{name}")
    numbers: dict[str, float] = {"ef_t_per_mwh": decision.ef_t_per_mwh,
               "green_mwh_claimed": decision.green_mwh_claimed,
               "see_indirect_t_per_t": see_indirect(decision, quantity)}
    if "green_mwh_matched" in ef:  # packs built since period values (older packs lack them)
        numbers["green_mwh_matched"] = basis.green_mwh
        numbers["activity_level_t"] = basis.quantity_t
    for name, number in numbers.items():
        claimed = ef.get(name)
        if not isinstance(claimed, int | float) or abs(float(claimed) - number) > TOL_EF * max(
                1.0, abs(number)):
            raise fail(CLAIM_FILE, f"claimed {claimed!r}, recomputed {number!r}",
                       field=f"electricity_factor.{name}")
    if "embedded" in doc:
        verify_section(members, doc["embedded"], decision.electricity_mwh, decision.ef_t_per_mwh,
                       quantity)
    if CBAM_FILE in members:
        want_cbam = json.loads(json_bytes(cbam_figures(decision, doc["shipment"], quantity)))
        got_cbam = json.loads(members[CBAM_FILE])
        for field_path, value in _flatten(want_cbam):
            node: Any = got_cbam
            for part in field_path.split("."):
                node = node.get(part) if isinstance(node, Mapping) else None
            same = (abs(float(node) - value) <= TOL_EF * max(1.0, abs(value))
                    if isinstance(value, float) and isinstance(node, int | float)
                    else node == value)
            if not same:
                raise fail(CBAM_FILE, f"{node!r} is not the recomputed {value!r}",
                           field=field_path)
    if PACT_FILE in members:
        pact = json.loads(members[PACT_FILE])
        total = numbers["see_indirect_t_per_t"]
        if "embedded" in doc:
            total = float(doc["embedded"]["see_total_t_per_t"])  # checked just above
        want = f"{total:.5f}"
        if pact.get("pcf", {}).get("pCfExcludingBiogenic") != want:
            raise fail(PACT_FILE, f"pCfExcludingBiogenic is not the recomputed {want}",
                       field="pcf.pCfExcludingBiogenic")
    return result


def _check_own_claim(inputs: Mapping[str, Any], basis: PeriodBasis) -> None:
    """This process's stated claim on its contract must be the green energy the tables give
    (the other claimants are stated: they lie outside this pack)."""
    body = inputs.get("process")
    if body is None:
        return
    proc = ProcessPeriod.from_json(body)
    for c in proc.contract_claims:
        if c.claimant == proc.claimant and abs(c.matched_mwh - basis.green_mwh) > TOL_EF * max(
                1.0, basis.green_mwh):
            raise fail(CLAIM_FILE, f"claimed {c.matched_mwh!r} MWh on contract {c.contract}, "
                       f"the tables give {basis.green_mwh!r}",
                       field="electricity_factor.inputs.process.contract_claims")


def _flatten(body: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in body.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.extend(_flatten(value, path + "."))
        else:
            out.append((path, value))
    return out


def shipment_request(green: GreenShareRequest, shipment: ShipmentInfo, grid: GridFactor,
                     evidence: tuple[ElectricityEvidence, ...] = (),
                     annex_ii_good: bool = False,
                     embedded: EmbeddedInputs | None = None,
                     process: ProcessPeriod | None = None) -> ShipmentRequest:
    """Convenience constructor (keeps ``green`` frozen; certificates stay attached)."""
    return ShipmentRequest(replace(green), shipment, grid, evidence, annex_ii_good, embedded,
                           process)
