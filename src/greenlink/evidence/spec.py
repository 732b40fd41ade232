"""The claim file a user writes (``greenlink evidence build --claim CLAIM.toml``).

Example::

    kind = "user_green_share"
    scenario = "park.toml"                 # relative to this file
    user = "alu_extruder"
    start = 2025-01-01                     # claim period [start, end), scenario time zone
    end = 2025-02-01
    flows = "metered/flows.parquet"        # optional: metered flows; default: simulate

    [topology]
    single_line_diagram = "sld/park-sld-rev3.pdf"   # hashed when the file exists
    single_line_diagram_sha256 = ""                 # or give the hash of a document held elsewhere
    description = "35 kV private line, PV → park substation → users"

    [contract]                               # optional
    id = "gsa-eu-profiles"
    document = "contracts/gsa.pdf"           # hashed when the file exists

    [certificates]                           # optional: cancel GCs in the registry for the claim
    registry = "sqlite:///greenlink-registry.sqlite"
    account = "park"
    purpose = "tenant_scope2"

A shipment claim names the installation and the shipment instead of user and period (the
period is the reporting period of the shipment's process — the whole flows period, as in the
CBAM accounts — and the user the installation's; the pack carries the process's period values,
the same for every shipment of the process)::

    kind = "shipment_electricity"
    scenario = "park.toml"
    installation = "alu_plant"
    shipment = "S00000"
    [topology]
    single_line_diagram = "JS-SLD-001 rev C"
    single_line_diagram_sha256 = "f6482e…"
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any, Literal

import pandas as pd

import greenlink
from greenlink import flows as flow_table
from greenlink.certificates.purposes import ConsumptionClaimPurpose
from greenlink.errors import InputError, Problem
from greenlink.evidence.claims import ContractRef, GreenShareRequest, Topology
from greenlink.evidence.embedded_see import EmbeddedInputs, inputs_from_accounts
from greenlink.evidence.shipment import ProcessPeriod, ShipmentInfo, ShipmentRequest
from greenlink.scenario.base import Strict
from greenlink.tomlfile import load_toml


class TopologySpec(Strict):
    single_line_diagram: str
    single_line_diagram_sha256: str = ""
    description: str = ""


class ContractSpec(Strict):
    id: str
    name: str = ""
    document: str = ""
    document_sha256: str = ""


class CertificatesSpec(Strict):
    registry: str = "sqlite:///greenlink-registry.sqlite"
    account: str
    purpose: ConsumptionClaimPurpose = "tenant_scope2"


class ClaimSpec(Strict):
    kind: Literal["user_green_share", "shipment_electricity"]
    scenario: str
    user: str = ""
    start: dt.date | dt.datetime | None = None
    end: dt.date | dt.datetime | None = None
    installation: str = ""
    shipment: str = ""
    flows: str | None = None
    topology: TopologySpec
    contract: ContractSpec | None = None
    certificates: CertificatesSpec | None = None


def _data_dir() -> Path:
    return Path(greenlink.__file__).parent / "data"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def data_versions(ruleset: str, base: Path | None = None) -> dict[str, str]:
    """SHA-256 of the shipped data the claim rests on: the rule set and the emission factors.

    ``ruleset`` is a shipped rule-set id or a path to a TOML file (relative to ``base``).
    """
    data = _data_dir()
    out = {"greenlink_version": greenlink.__version__, "ruleset_id": ruleset}
    shipped = data / "rulesets" / f"{ruleset}.toml"
    path = shipped if shipped.exists() else (base or Path.cwd()) / ruleset
    if path.exists():
        out["ruleset_sha256"] = file_sha256(path)
    factors = data / "carbon" / "emission_factors.csv"
    if factors.exists():
        out["carbon/emission_factors.csv"] = file_sha256(factors)
    return out


def _hash_ref(base: Path, ref: str, given: str, field: str, file: str) -> str:
    path = base / ref
    if path.is_file():
        digest = file_sha256(path)
        if given and given != digest:
            raise InputError(Problem(f"{ref} has SHA-256 {digest}, the claim file says {given}",
                                     file=file, location=field, expected="the same hash"))
        return digest
    if not given:
        raise InputError(Problem(f"{ref} not found and no hash given", file=file,
                                 location=field, expected=f"the file, or {field}_sha256"))
    return given


def _stamp(value: dt.date | dt.datetime, tz: str) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize(tz) if ts.tzinfo is None else ts.tz_convert(tz)


def load_claim_spec(path: Path) -> ClaimSpec:
    """Read and validate a claim file; every problem named with its line and field."""
    return load_toml(path, ClaimSpec, kind="claim file",
                     expected="a TOML claim file (docs/evidence.md)")


def _shipment_window(spec: ClaimSpec, sc: Any, base: Path,
                     file: str) -> tuple[str, pd.Timestamp, pd.Timestamp, Any]:
    """(user, start, end, (installation, shipment row, grid factor)) of a shipment claim."""
    from greenlink.carbon.batches import read_batches, read_shipments
    from greenlink.carbon.installations import find_installation, grid_for

    tz = sc.site.timezone
    inst = find_installation(sc, spec.installation)
    if not inst.shipments_file or not inst.batches_file:
        raise InputError(Problem(f"installation {inst.id!r} has no batches_file/shipments_file",
                                 file=file, location="installation"))
    scen_dir = (base / spec.scenario).parent
    ships = read_shipments(scen_dir / inst.shipments_file, tz, sheet=inst.shipments_sheet,
                           decimal=inst.decimal)
    row = ships[ships["shipment_id"] == spec.shipment]
    if row.empty:
        raise InputError(Problem(f"unknown shipment {spec.shipment!r}", file=file,
                                 location="shipment", expected=f"an id of {inst.shipments_file}"))
    batches = read_batches(scen_dir / inst.batches_file, tz, sheet=inst.batches_sheet,
                           decimal=inst.decimal)
    ids = [b for b in str(row["batches"].iat[0]).split(";") if b]
    mine = batches[batches["batch_id"].isin(ids)]
    if mine.empty:
        raise InputError(Problem(f"shipment {spec.shipment!r} names no known batch", file=file,
                                 location="shipment"))
    start = pd.Timestamp(mine["start"].min()).tz_convert(tz)
    end = pd.Timestamp(mine["end"].max()).tz_convert(tz)
    grid = grid_for(inst, sc.site.province, sc.carbon.grid_factor_year)  # as the accounts
    lines = sorted(set(mine["process"]))
    if len(lines) != 1:
        raise InputError(Problem(f"shipment {spec.shipment!r} mixes batches of lines {lines}",
                                 file=file, location="shipment",
                                 expected="batches of one process (one good)"))
    tonnes = float(row["tonnes"].to_numpy(dtype=float)[0])  # the shipment's own tonnes
    return inst.user, start, end, (inst, row.iloc[0], grid, tonnes, lines[0])


def _embedded_inputs(loaded: Any, flows: pd.DataFrame, inst: Any, process_id: str,
                     file: str) -> EmbeddedInputs:
    """Process inputs and precursor SEE of the shipment's line, from the CBAM accounts."""
    from greenlink.carbon.installations import account

    procs = {p.id: p for p in inst.processes}
    if process_id not in procs:
        raise InputError(Problem(f"batches name unknown line {process_id!r}", file=file,
                                 location="shipment", expected=f"one of {sorted(procs)}"))
    sc = loaded.scenario
    bare = inst.model_copy(update={"batches_file": None, "shipments_file": None})
    acc = account(bare, flows, province=sc.site.province, year=sc.carbon.grid_factor_year,
                  tz=sc.site.timezone, interval_minutes=float(sc.time.interval_minutes),
                  contract_pool=_contract_pool(loaded, flows))
    return inputs_from_accounts(procs[process_id], acc.see)


def _contract_pool(loaded: Any, flows: pd.DataFrame) -> list[Any]:
    from greenlink.carbon.installations import scenario_contract_pool

    sc = loaded.scenario
    return scenario_contract_pool(list(sc.installations), flows,
                                  float(sc.time.interval_minutes))


def _process_period(loaded: Any, flows: pd.DataFrame, inst: Any,
                    process_id: str) -> ProcessPeriod:
    """The shipment's process over the reporting period, with every claimant of its contract."""
    proc = next(p for p in inst.processes if p.id == process_id)
    pool = _contract_pool(loaded, flows)
    mine = [c for c in pool if c.claimant == f"{inst.id}/{process_id}"]
    claims = tuple(c for c in pool if mine and c.contract == mine[0].contract)
    return ProcessPeriod(inst.id, process_id, float(proc.activity_level_t),
                         None if proc.electricity_share is None
                         else float(proc.electricity_share),
                         None if proc.electricity_mwh is None else float(proc.electricity_mwh),
                         claims)


def request_for_spec(spec: ClaimSpec, base: Path, loaded: Any, flows: pd.DataFrame,
                     source: str, *, file: str = "claim") -> GreenShareRequest | ShipmentRequest:
    """The build request of a validated claim spec, given the loaded scenario and its flows.

    ``base`` is the folder the spec's relative paths start from (the claim file's folder);
    ``flows`` a flows table (index or column ``interval_start``); ``source`` ``"metered"`` or
    ``"simulated"``. Used by :func:`greenlink.workflows.evidence.request_from_spec` and by the
    demo pack (:mod:`greenlink.workflows.demo`).
    """
    sc = loaded.scenario
    tz = sc.site.timezone
    flows = flow_table.normalise(flows, tz)
    shipment_info = None
    if spec.kind == "shipment_electricity":
        from greenlink.carbon.installations import reporting_period

        shipment_info = _shipment_window(spec, sc, base, file)
        user = shipment_info[0]
        start, end = reporting_period(flows)  # the process's reporting period, as the accounts
        if start is None or end is None:
            raise InputError(Problem("no flows rows", file=file, location="flows"))
    else:
        user = spec.user
        if spec.start is None or spec.end is None:
            raise InputError(Problem("start and end are required for a user_green_share claim",
                                     file=file, location="start"))
        start, end = _stamp(spec.start, tz), _stamp(spec.end, tz)
    if user not in sc.user_ids:
        raise InputError(Problem(f"unknown user {user!r}", file=file, location="user",
                                 expected=f"one of {sc.user_ids}"))
    if not start < end:
        raise InputError(Problem("end is not after start", file=file, location="end"))
    # the flows must hold every interval of the claim period: a claim never rests on part of it
    first = start.ceil(pd.Timedelta(minutes=sc.time.interval_minutes))
    if first < end:
        flow_table.period_rows(flows, first, end, sc.time.interval_minutes,
                               what=f"the claim period {start.isoformat()} to {end.isoformat()}",
                               file=file)
    topo = Topology(spec.topology.single_line_diagram,
                    _hash_ref(base, spec.topology.single_line_diagram,
                              spec.topology.single_line_diagram_sha256,
                              "topology.single_line_diagram", file),
                    spec.topology.description)
    contract = None
    if spec.contract is not None:
        c = spec.contract
        digest = _hash_ref(base, c.document, c.document_sha256, "contract.document",
                           file) if c.document else ""
        contract = ContractRef(c.id, c.name, c.document, digest)
    request = GreenShareRequest(
        user_id=user, flows=flows, start=start, end=end,
        scenario_name=(base / spec.scenario).name,
        scenario_toml=(base / spec.scenario).read_text(encoding="utf-8"), timezone=tz,
        topology=topo, contract=contract, data_versions=data_versions(sc.policy.ruleset, base),
        flows_source=source)
    if spec.certificates is not None:
        from greenlink.certificates.db import open_registry
        from greenlink.evidence.build import with_registry_certificates

        registry = open_registry(spec.certificates.registry)
        request = with_registry_certificates(request, registry,
                                             account_id=spec.certificates.account,
                                             purpose=spec.certificates.purpose)
    if shipment_info is not None:
        inst, ship, grid, tonnes, process_id = shipment_info[3]
        info = ShipmentInfo(str(ship["shipment_id"]), str(ship["sku"]), str(ship["cn_code"]),
                            tonnes, inst.operator, inst.id)
        annex_ii = _annex_ii(str(ship["cn_code"]))
        embedded = _embedded_inputs(loaded, flows, inst, process_id, file)
        return ShipmentRequest(request, info, grid, tuple(inst.electricity_evidence), annex_ii,
                               embedded, _process_period(loaded, flows, inst, process_id))
    return request


def _annex_ii(cn_code: str) -> bool:
    """True when CBAM counts only direct emissions for the good (``cbam_goods.classify``)."""
    from greenlink.carbon.cbam_goods import classify
    from greenlink.errors import GreenlinkError

    try:
        return not classify(cn_code).indirect_emissions_counted
    except GreenlinkError:  # not a CBAM good: no Annex II reminder
        return False
