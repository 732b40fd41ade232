"""Speed of evidence packs: build and verify a year of 15-minute data of one installation.

A year at 15 minutes (35,040 intervals) of one user on a PV + wind park, claimed over the whole
year (8,760 hourly claim rows, far more than 1,000), with 1,000 cancelled certificate records.
Reports seconds to build (with and without the HTML/PDF summary) and to verify, against a
baseline measured in the same run: plain zip (DEFLATE, the pack's level) + SHA-256 of the same
member files. The same year as a shipment pack (factor route + direct/indirect/precursor SEE
recomputed), and the demo pack of the example park (one cement shipment, after its simulation).
Floor: build and verify each under 5 s; the demo pack under 5 s on top of the simulation.
Checks (exit 1 when one fails): every pack verifies against the signing key, the claim has one
row per clock hour of the period, and the shipment's ``annex_ii`` flags are the CN code's CBAM
status (``carbon.cbam_goods.classify``: aluminium counts direct emissions only).

    .venv/bin/python benchmarks/evidence_speed.py [--smoke]

``--smoke``: one month instead of a year, 90 certificates, one timing per figure (seconds).
Last line: ``build_ratio=<build / baseline> verify_ratio=<…> shipment_build_ratio=<…>
shipment_verify_ratio=<…> build_s=<…> verify_s=<…> demo_s=<…>``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from greenlink.carbon.cbam_goods import classify
from greenlink.carbon.emission_factor_routes import GridFactor
from greenlink.evidence.build import build_green_share_pack, build_shipment_pack
from greenlink.evidence.claims import GreenShareRequest, Topology
from greenlink.evidence.embedded_see import EmbeddedInputs, PrecursorRow
from greenlink.evidence.pack import COMPRESS_LEVEL, read_pack
from greenlink.evidence.shipment import ShipmentInfo, ShipmentRequest
from greenlink.evidence.verify import verify_pack
from greenlink.scenario.installations import Process

TZ = "Asia/Shanghai"
FLOOR_S = 5.0


def check(ok: bool, what: str) -> None:
    """Stop with exit status 1 when a correctness check fails."""
    if not ok:
        print(f"CHECK FAILED: {what}", file=sys.stderr)
        raise SystemExit(1)


def year_flows(seed: int = 1, end: str = "2026-01-01") -> pd.DataFrame:
    """15-minute flows from 1 January 2025 to ``end`` (a year by default)."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2025-01-01", end, freq="15min", tz=TZ, inclusive="left",
                          name="interval_start")
    n = len(index)
    hour = index.hour.to_numpy() + index.minute.to_numpy() / 60
    pv = np.clip(np.sin((hour - 6) / 12 * np.pi), 0, None) * 5000 * rng.uniform(0.3, 1, n)
    wind = rng.uniform(0, 800, n)
    gen = pv + wind
    load = 2500 + rng.uniform(-300, 300, n)
    to_load = np.minimum(gen, load)
    charge = np.minimum(gen - to_load, 500.0)
    return pd.DataFrame({
        "generation_kwh": gen, "load_kwh": load, "green_to_load_kwh": to_load,
        "curtailed_kwh": np.zeros(n), "battery_charge_green_kwh": charge,
        "battery_discharge_green_kwh": np.zeros(n), "export_kwh": gen - to_load - charge,
        "pv.generation_kwh": pv, "wind.generation_kwh": wind,
        "plant.load_kwh": load, "plant.green_kwh": to_load, "plant.grid_kwh": load - to_load,
    }, index=index)


def certificates(n: int = 1000) -> pd.DataFrame:
    starts = pd.date_range("2025-01-01 10:00", periods=n, freq="8h", tz=TZ)
    q = 100_000
    return pd.DataFrame({
        "bundle_id": np.arange(1, n + 1), "device_id": "pv", "energy_source": "solar",
        "production_start": [t.isoformat() for t in starts],
        "production_end": [(t + pd.Timedelta(hours=1)).isoformat() for t in starts],
        "bundle_id_range_start": np.arange(n) * q + 1,
        "bundle_id_range_end": (np.arange(n) + 1) * q, "quantity_wh": q, "status": "Claimed",
        "beneficiary": "plant", "purpose": "tenant_scope2"})


def baseline_seconds(members: dict[str, bytes]) -> float:
    t0 = time.perf_counter()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as zf:
        for name in sorted(members):
            zf.writestr(name, members[name])
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}
    assert len(digests) == len(members)
    return time.perf_counter() - t0


def best_of(repeat: int, fn):  # type: ignore[no-untyped-def]
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true",
                        help="one month, 90 certificates, one timing each (seconds)")
    args = parser.parse_args()
    repeat = 1 if args.smoke else 3
    flows = year_flows(end="2025-02-01" if args.smoke else "2026-01-01")
    index = pd.DatetimeIndex(flows.index)
    n_certs = 90 if args.smoke else 1000  # one every 8 h, all inside the period
    request = GreenShareRequest(
        user_id="plant", flows=flows, start=index[0], end=index[-1] + pd.Timedelta("15min"),
        scenario_name="park.toml", scenario_toml='name = "bench"\n', timezone=TZ,
        topology=Topology("sld/bench.pdf", "00" * 32), data_versions={"ruleset_id": "bench"},
        certificates=certificates(n_certs), certificate_context={"registry_chain_head_seq": 1})
    key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pack.zip"
        t_build, built = best_of(repeat, lambda: build_green_share_pack(request, key, out))
        plain = Path(tmp) / "plain.zip"
        t_plain, _ = best_of(repeat, lambda: build_green_share_pack(
            request, key, plain, summaries=False))
        t_verify, report = best_of(repeat, lambda: verify_pack(out, key.public_key()))
        check(report.ok, f"green-share pack does not verify: {report.failure}")
        plain_report = verify_pack(plain, key.public_key())
        check(plain_report.ok, f"pack without summary does not verify: {plain_report.failure}")
        hours = len(flows) // 4
        check(built.claim["claimed"]["hours"] == hours,
              f"claim has {built.claim['claimed']['hours']} hours, the period {hours}")
        members = read_pack(out)
        t_base = min(baseline_seconds(members) for _ in range(repeat))
        # aluminium extrusion (CN 7604 21 00, from billets of unwrought aluminium 7601 20 80):
        # an Annex II good, CBAM counts its direct emissions only; the claim must say so
        cn_code, precursor_cn = "76042100", "76012080"
        annex_ii = not classify(cn_code).indirect_emissions_counted
        check(annex_ii, f"CN {cn_code} (aluminium) should be an Annex II good")
        process = Process(id="mill", cn_code="7604 21 00", activity_level_t=24000.0,
                          electricity_share=1.0,
                          fuels=[{"name": "gas", "amount": 1.35, "unit": "Mm3",
                                  "ef_t_co2_per_unit": 2162.0}],
                          precursors=[{"precursor": "billet", "amount_t": 25300.0}])
        # the billet's counted indirect part follows its own CBAM status (aluminium: none)
        billet_counted = 6.8 if classify(precursor_cn).indirect_emissions_counted else 0.0
        billet = PrecursorRow("billet", precursor_cn, "default", 25300.0, 1.6, 6.8,
                              billet_counted)
        ship = ShipmentRequest(request, ShipmentInfo("S1", "ALU", cn_code, 24000.0),
                               GridFactor(0.5703, "bench"), (), annex_ii_good=annex_ii,
                               embedded=EmbeddedInputs(process, annex_ii, (billet,)))
        sout = Path(tmp) / "shipment.zip"
        t_sbuild, sbuilt = best_of(repeat, lambda: build_shipment_pack(ship, key, sout))
        t_sverify, sreport = best_of(repeat, lambda: verify_pack(sout, key.public_key()))
        check(sreport.ok, f"shipment pack does not verify: {sreport.failure}")
        check(sbuilt.claim["embedded"]["annex_ii"] is True
              and sbuilt.claim["electricity_factor"]["inputs"]["annex_ii_good"] is True,
              "shipment claim does not mark aluminium as an Annex II good")
        t_sim, t_demo = demo_seconds(Path(tmp) / "demo")
    rows = len(flows)
    period = "one month" if args.smoke else "one year"
    print(f"intervals {rows:,} (15 min, {period}); claim hours "
          f"{built.claim['claimed']['hours']:,}; certificates {n_certs:,}; pack "
          f"{len(built.data) / 1e6:.2f} MB, {built.files} files")
    print(f"baseline zip+sha256 of the same files: {t_base:.3f} s")
    figures = (("build (with HTML+PDF summary)", t_build),
               ("build (no summary)", t_plain), ("verify (recompute)", t_verify),
               ("shipment build (SEE)", t_sbuild), ("shipment verify (SEE)", t_sverify),
               ("demo pack (build + verify)", t_demo))
    for name, secs in figures:
        verdict = "ok" if secs < FLOOR_S else "ABOVE FLOOR"
        print(f"{name:32s} {secs:6.3f} s  ×{secs / t_base:5.1f} baseline  "
              f"floor {FLOOR_S:.0f} s: {verdict}")
    print(f"(example park simulation before the demo pack: {t_sim:.2f} s, not counted)")
    print(f"build_ratio={t_build / t_base:.2f} verify_ratio={t_verify / t_base:.2f} "
          f"shipment_build_ratio={t_sbuild / t_base:.2f} "
          f"shipment_verify_ratio={t_sverify / t_base:.2f} build_s={t_build:.3f} "
          f"verify_s={t_verify:.3f} demo_s={t_demo:.3f}")


def demo_seconds(out_dir: Path) -> tuple[float, float]:
    """Seconds to simulate the example park, then to build + verify its demo shipment pack."""
    from greenlink.scenario.load import load_scenario
    from greenlink.workflows.demo import build_demo_shipment_pack
    from greenlink.workflows.run import run_scenario

    example = Path(__file__).parents[1] / "src/greenlink/examples/jiangsu_park/park.toml"
    t0 = time.perf_counter()
    loaded = load_scenario(example)
    flows = run_scenario(loaded).flows
    t1 = time.perf_counter()
    _, result = build_demo_shipment_pack(loaded, flows, out_dir)
    check(result.ok, f"demo pack: {result.message}")
    return t1 - t0, time.perf_counter() - t1


if __name__ == "__main__":
    main()
