"""The demo's evidence pack: one shipment of the example park, signed and verified offline.

:func:`build_demo_shipment_pack` is what ``greenlink demo`` calls after its simulation. It
needs no registry (no ``[certificates]``: nothing is cancelled) and no key set up beforehand:
a throwaway Ed25519 key is generated inside ``out_dir`` (replaced on every run), so the pack's
content is deterministic except for the signer key, its signature and the manifest line of
``signer.pub``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from greenlink.errors import InputError, Problem
from greenlink.evidence.build import build_shipment_pack
from greenlink.evidence.shipment import ShipmentRequest
from greenlink.evidence.spec import ClaimSpec, TopologySpec, request_for_spec
from greenlink.evidence.verify import VerifyReport, verify_pack
from greenlink.scenario.load import LoadedScenario
from greenlink.signing.keys import (
    PRIVATE_NAME,
    PUBLIC_NAME,
    generate_key,
    load_private_key,
    load_public_key,
    rotate_key,
)

#: Folder (inside ``out_dir``) of the throwaway demo key.
DEMO_KEY_DIR = "demo_key"


@dataclass(frozen=True)
class DemoPackResult:
    """Outcome of the demo pack: verified or not, one line to print, and the details."""

    ok: bool
    message: str
    fingerprint: str
    public_key: Path
    statement: str
    report: VerifyReport


def _throwaway_key(key_dir: Path) -> None:
    if (key_dir / PRIVATE_NAME).exists():
        rotate_key(key_dir)
    else:
        generate_key(key_dir)


def build_demo_shipment_pack(loaded: LoadedScenario, flows: pd.DataFrame, out_dir: Path, *,
                             installation_id: str = "cement_plant",
                             shipment_id: str | None = None) -> tuple[Path, DemoPackResult]:
    """Build, sign and verify the evidence pack of one shipment of the example park.

    Parameters
    ----------
    loaded : LoadedScenario
        The scenario (with ``[[installations]]`` and their batches/shipments files).
    flows : DataFrame
        Its flows table (docs/formats.md; index or column ``interval_start``), e.g.
        ``run_scenario(loaded).flows``; marked ``simulated`` in the pack.
    out_dir : Path
        Folder written: ``shipment_<installation>_<shipment>.zip`` and ``demo_key/`` (a
        throwaway key pair; ``demo_key/signing_key.pub`` is the key to verify with).
    installation_id, shipment_id : str
        Which shipment (default: the cement plant's first shipment).

    Returns
    -------
    (Path, DemoPackResult)
        The pack path and the outcome of ``verify_pack(pack, public key)``.

    Raises
    ------
    InputError
        Unknown installation or shipment, or an installation without shipments.
    """
    from greenlink.carbon.batches import read_shipments
    from greenlink.carbon.installations import find_installation

    sc = loaded.scenario
    inst = find_installation(sc, installation_id)
    scen_dir = Path(loaded.path).parent
    if not inst.shipments_file or not inst.electricity_evidence:
        raise InputError(Problem(f"installation {inst.id!r} has no shipments or no electricity "
                                 "evidence", location=f"installations.{inst.id}",
                                 expected="shipments_file and [[electricity_evidence]]"))
    if shipment_id is None:
        ships = read_shipments(scen_dir / inst.shipments_file, sc.site.timezone,
                               sheet=inst.shipments_sheet, decimal=inst.decimal)
        shipment_id = str(ships["shipment_id"].iat[0])
    ev = inst.electricity_evidence[0]
    spec = ClaimSpec(kind="shipment_electricity", scenario=str(Path(loaded.path).resolve()),
                     installation=inst.id, shipment=shipment_id,
                     topology=TopologySpec(single_line_diagram=ev.single_line_diagram or "",
                                           single_line_diagram_sha256=(
                                               ev.single_line_diagram_sha256 or ""),
                                           description=f"{ev.route}: {ev.source}"))
    request = request_for_spec(spec, scen_dir, loaded, flows, "simulated",
                               file="demo shipment claim")
    if not isinstance(request, ShipmentRequest):  # pragma: no cover - kind fixed above
        raise TypeError("expected a shipment request")
    out_dir.mkdir(parents=True, exist_ok=True)
    key_dir = out_dir / DEMO_KEY_DIR
    _throwaway_key(key_dir)
    pack = out_dir / f"shipment_{inst.id}_{shipment_id}.zip"
    built = build_shipment_pack(request, load_private_key(key_dir), pack)
    public = key_dir / PUBLIC_NAME
    report = verify_pack(pack, load_public_key(public.read_bytes(), str(public)))
    if report.ok:
        message = (f"evidence pack {pack.name}: PASS (signature {built.fingerprint}, "
                   f"{report.files_checked} files hashed, claim recomputed)")
    else:
        message = f"evidence pack {pack.name}: FAIL: {report.failure}"
    return pack, DemoPackResult(report.ok, message, built.fingerprint, public,
                                str(built.claim.get("statement", "")), report)
