"""The evidence workflow: a claim file → its scenario and flows (metered file, checked, or
simulated) → a build request for :func:`greenlink.evidence.build.build_pack`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from greenlink.errors import InputError, Problem
from greenlink.evidence.build import BuiltPack, build_pack
from greenlink.evidence.claims import GreenShareRequest
from greenlink.evidence.pack import MIB, PackLimits
from greenlink.evidence.shipment import ShipmentRequest
from greenlink.evidence.spec import ClaimSpec, load_claim_spec, request_for_spec
from greenlink.evidence.verify import VerifyReport, verify_pack
from greenlink.scenario.load import LoadedScenario, load_scenario
from greenlink.workflows.flows_source import read_scenario_flows
from greenlink.workflows.run import run_scenario


def claim_users(spec: ClaimSpec, loaded: LoadedScenario) -> list[str]:
    """The scenario users a claim is about (a shipment claim: its installation's user)."""
    if spec.kind == "shipment_electricity":
        installation = {i.id: i for i in loaded.scenario.installations}.get(spec.installation)
        return [installation.user] if installation is not None else []
    return [spec.user] if spec.user in loaded.scenario.user_ids else []


def request_from_spec(path: Path) -> GreenShareRequest | ShipmentRequest:
    """Turn a claim file into a build request (simulates the scenario unless flows are given)."""
    spec = load_claim_spec(path)
    base = path.parent
    loaded = load_scenario(base / spec.scenario)
    file = str(path)
    if spec.flows:
        flows_path = base / spec.flows
        if not flows_path.is_file():
            raise InputError(Problem("flows file not found", file=file, location="flows"))
        table = read_scenario_flows(loaded, flows_path, users=claim_users(spec, loaded))
        source = "metered"
    else:
        table = run_scenario(loaded).flows
        source = "simulated"
    return request_for_spec(spec, base, loaded, table, source, file=file)


def build_from_claim_file(claim: Path, key_dir: Path, out: Path) -> BuiltPack:
    """``greenlink evidence build``: the claim file's request, signed with the operator's key
    from ``key_dir`` and written to ``out`` (certificates claimed with the pack, or nothing)."""
    from greenlink.signing.keys import load_private_key

    return build_pack(request_from_spec(claim), load_private_key(key_dir), out)


def verify_pack_file(pack: Path, public_key: Any | None, against: list[Path],
                     trusted: Mapping[str, str], *, max_member_mb: float, max_pack_mb: float,
                     max_ratio: float) -> VerifyReport:
    """``greenlink evidence verify``: the pack checked offline against the keys the verifier
    trusts, with the reader's limits in MiB."""
    limits = PackLimits(max_member_bytes=int(max_member_mb * MIB),
                        max_pack_bytes=int(max_pack_mb * MIB), max_ratio=max_ratio)
    return verify_pack(pack, public_key, against, trusted=dict(trusted), limits=limits)
