"""Claim kind ``shipment_electricity``: a shipment's electricity factor route and indirect SEE.

"Shipment *s* (``quantity_t`` of CN code *c*) was made with electricity of which ``green_mwh``
was hourly matched to the direct line; the electricity factor route is *r* (template code *k*,
IR 2025/2547 Annex II D.4.3 conditions met or the missing ones listed), factor ``ef`` t/MWh,
so its specific indirect embedded emissions are ``see_indirect = ef × E / Q`` t CO2e/t".

The pack holds the same raw tables as ``user_green_share`` (production, delivery, allocation,
hourly claim rows) over the hours the shipment's batches ran, plus ``claim.json``
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

from greenlink.carbon.emission_factor_routes import EfDecision, GridFactor, decide_factor
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
class ShipmentRequest:
    """A green-share request over the shipment's production hours plus the factor inputs."""

    green: GreenShareRequest
    shipment: ShipmentInfo
    grid: GridFactor
    evidence: tuple[ElectricityEvidence, ...]
    annex_ii_good: bool = False
    embedded: EmbeddedInputs | None = None


def decide(result: GreenShareResult, inputs: Mapping[str, Any]) -> EfDecision:
    """The factor decision from the recomputed matching and the pack's factor inputs."""
    grid = GridFactor(**inputs["grid"])
    evidence = [ElectricityEvidence.model_validate(e) for e in inputs["evidence"]]
    return decide_factor(result.load_kwh / 1000.0, result.matched_kwh / 1000.0, grid, evidence,
                         data_interval_minutes=float(inputs["data_interval_minutes"]),
                         flows_metered=bool(inputs["flows_metered"]),
                         annex_ii_good=bool(inputs["annex_ii_good"]))


def see_indirect(decision: EfDecision, quantity_t: float) -> float:
    """Specific indirect embedded emissions ``ef × E / Q`` [t CO2e per t of good]."""
    return decision.ef_t_per_mwh * decision.electricity_mwh / quantity_t


def cbam_figures(decision: EfDecision, shipment: Mapping[str, Any]) -> dict[str, Any]:
    """Electricity figures as the Commission's communication template holds them.

    Sheet ``D_Processes`` (version 2024-12-13, :mod:`greenlink.carbon.template`): electricity
    consumed L65 [MWh], emission factor L66 [t CO2/MWh], source of the factor L67 (template
    code ``D.4(a)``, ``D.4(b)``, ``D.4.3.1``, ``D.4.3.2`` or ``Mix``); plus the goods category
    and the specific values per tonne that ``Summary_Products`` shows.
    """
    from greenlink.carbon.template import goods_category

    q = float(shipment["quantity_t"])
    return {
        "template": "CBAM_Communication_template_for_installations_en_20241213.xlsx",
        "cn_code": str(shipment["cn_code"]),
        "goods_category": goods_category(str(shipment["cn_code"])),
        "D_Processes": {"L65_electricity_consumption_mwh": decision.electricity_mwh,
                        "L66_emission_factor_t_per_mwh": decision.ef_t_per_mwh,
                        "L67_emission_factor_source": decision.template_code},
        "production_t": q,
        "specific_electricity_mwh_per_t": decision.electricity_mwh / q,
        "see_indirect_t_per_t": see_indirect(decision, q),
    }


def shipment_statement(doc: Mapping[str, Any]) -> str:
    """The claim in one or two sentences, from ``claim.json``'s shipment, hourly-matched share,
    electricity factor and (when present) embedded emissions; the verifier regenerates it once
    those numbers are checked."""
    s, ef = doc["shipment"], doc["electricity_factor"]
    text = (f"Shipment {s['shipment_id']} ({s['quantity_t']:g} t {s['sku']}, CN {s['cn_code']}):"
            f" {doc['claimed']['hourly_matched_share']:.1%} hourly-matched green power; "
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
    inputs = {"grid": asdict(request.grid),
              "evidence": [e.model_dump(mode="json") for e in request.evidence],
              "data_interval_minutes": doc["period"]["interval_minutes"],
              "flows_metered": request.green.flows_source == "metered",
              "annex_ii_good": request.annex_ii_good}
    decision = decide(result, inputs)
    s = request.shipment
    see = see_indirect(decision, s.quantity_t)
    doc["kind"] = SHIPMENT
    doc["shipment"] = asdict(s)
    doc["electricity_factor"] = {
        "inputs": inputs,
        "route": decision.route, "template_code": decision.template_code,
        "ef_t_per_mwh": decision.ef_t_per_mwh, "electricity_mwh": decision.electricity_mwh,
        "green_mwh_claimed": decision.green_mwh_claimed, "reason": decision.reason,
        "missing_evidence": list(decision.missing_evidence),
        "warnings": list(decision.warnings),
        "see_indirect_t_per_t": see,
    }
    footprint = see
    comment = (f"shipment {s.shipment_id}: indirect (electricity) emissions only; direct and "
               "precursor emissions are not part of this evidence pack")
    if request.embedded is not None:
        extra, section = members_and_section(request.embedded, decision.electricity_mwh,
                                             decision.ef_t_per_mwh, s.quantity_t)
        members.update(extra)
        doc["embedded"] = section
        footprint = float(section["see_total_t_per_t"])
        comment = (f"shipment {s.shipment_id}: direct, indirect and precursor emissions "
                   "(cradle-to-gate per CBAM rules, rounded to 5 decimals)")
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
    members[CBAM_FILE] = json_bytes(cbam_figures(decision, doc["shipment"]))
    return members, result, doc


def recompute_shipment(members: Mapping[str, bytes]) -> GreenShareResult:
    """Recompute matching, factor route and SEE; raise at the first difference."""
    result = recompute_green_share(members)
    doc = json.loads(members[CLAIM_FILE])
    ef = doc.get("electricity_factor")
    if not isinstance(ef, Mapping) or "inputs" not in ef:
        raise fail(CLAIM_FILE, "field missing", field="electricity_factor.inputs")
    try:
        decision = decide(result, ef["inputs"])
        quantity = float(doc["shipment"]["quantity_t"])
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
        want_cbam = json.loads(json_bytes(cbam_figures(decision, doc["shipment"])))
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
                     embedded: EmbeddedInputs | None = None) -> ShipmentRequest:
    """Convenience constructor (keeps ``green`` frozen; certificates stay attached)."""
    return ShipmentRequest(replace(green), shipment, grid, evidence, annex_ii_good, embedded)
