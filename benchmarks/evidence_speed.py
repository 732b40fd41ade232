"""Speed of evidence packs: build and verify a year of 15-minute data of one installation.

A year at 15 minutes (35,040 intervals) of one user on a PV + wind park, claimed over the whole
year (8,760 hourly claim rows, far more than 1,000), with 1,000 cancelled certificate records.
Reports seconds to build (with and without the HTML/PDF summary) and to verify, against a
baseline measured in the same run: plain zip (DEFLATE, the pack's level) + SHA-256 of the same
member files. The same year as a shipment pack (factor route + direct/indirect/precursor SEE
recomputed), and the demo pack of the example park (one cement shipment, after its simulation).
Floor: build and verify each under 5 s; the demo pack under 5 s on top of the simulation.

    .venv/bin/python benchmarks/evidence_speed.py
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

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


def year_flows(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2025-01-01", "2026-01-01", freq="15min", tz=TZ, inclusive="left",
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
    flows = year_flows()
    index = pd.DatetimeIndex(flows.index)
    request = GreenShareRequest(
        user_id="plant", flows=flows, start=index[0], end=index[-1] + pd.Timedelta("15min"),
        scenario_name="park.toml", scenario_toml='name = "bench"\n', timezone=TZ,
        topology=Topology("sld/bench.pdf", "00" * 32), data_versions={"ruleset_id": "bench"},
        certificates=certificates(), certificate_context={"registry_chain_head_seq": 1})
    key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "pack.zip"
        t_build, built = best_of(3, lambda: build_green_share_pack(request, key, out))
        t_plain, _ = best_of(3, lambda: build_green_share_pack(
            request, key, Path(tmp) / "plain.zip", summaries=False))
        t_verify, report = best_of(3, lambda: verify_pack(out, key.public_key()))
        assert report.ok, report.failure
        members = read_pack(out)
        t_base = min(baseline_seconds(members) for _ in range(3))
        process = Process(id="mill", cn_code="7604 21 00", activity_level_t=24000.0,
                          electricity_share=1.0,
                          fuels=[{"name": "gas", "amount": 1.35, "unit": "Mm3",
                                  "ef_t_co2_per_unit": 2162.0}],
                          precursors=[{"precursor": "billet", "amount_t": 25300.0}])
        ship = ShipmentRequest(request, ShipmentInfo("S1", "ALU", "76042100", 24000.0),
                               GridFactor(0.5703, "bench"), (), embedded=EmbeddedInputs(
                                   process, False, (PrecursorRow("billet", "76012080",
                                                                 "default", 25300.0, 1.6, 6.8,
                                                                 6.8),)))
        sout = Path(tmp) / "shipment.zip"
        t_sbuild, _ = best_of(3, lambda: build_shipment_pack(ship, key, sout))
        t_sverify, sreport = best_of(3, lambda: verify_pack(sout, key.public_key()))
        assert sreport.ok, sreport.failure
        t_sim, t_demo = demo_seconds(Path(tmp) / "demo")
    rows = len(flows)
    print(f"intervals {rows:,} (15 min, one year); claim hours "
          f"{built.claim['claimed']['hours']:,}; certificates 1,000; pack "
          f"{len(built.data) / 1e6:.2f} MB, {built.files} files")
    print(f"baseline zip+sha256 of the same files: {t_base:.3f} s")
    for name, secs in (("build (with HTML+PDF summary)", t_build),
                       ("build (no summary)", t_plain), ("verify (recompute)", t_verify),
                       ("shipment build (year, SEE)", t_sbuild),
                       ("shipment verify (year, SEE)", t_sverify),
                       ("demo pack (build + verify)", t_demo)):
        verdict = "ok" if secs < FLOOR_S else "ABOVE FLOOR"
        print(f"{name:32s} {secs:6.3f} s  ×{secs / t_base:5.1f} baseline  "
              f"floor {FLOOR_S:.0f} s: {verdict}")

    print(f"(example park simulation before the demo pack: {t_sim:.2f} s, not counted)")


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
    assert result.ok, result.message
    return t1 - t0, time.perf_counter() - t1


if __name__ == "__main__":
    main()
