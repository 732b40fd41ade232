"""CBAM over HTTP: SEE with the electricity-factor route, liability grid vs direct connection,
exposure, PACT and the filled template; tenants see their own installation only, an importer
only the shipments addressed to it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from tests.service.conftest import EXAMPLE, Demo

P = "/api/v1/parks"


def _shipments_by_importer() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in sorted((EXAMPLE / "cbam").glob("*_shipments.csv")):
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
            out.setdefault(row["importer"], set()).add(f"{path.name}:{row['shipment_id']}")
    return out


def test_cbam_view_is_filtered_per_tenant(demo: Demo) -> None:
    c, park = demo.client, demo.park_id
    full = c.get(f"{P}/{park}/cbam", headers=demo.headers("operator")).json()
    ids = {i["id"]: i["user"] for i in full["installations"]}
    assert set(ids) == {"cement_plant", "alu_plant", "fastener_plant"}
    alu = c.get(f"{P}/{park}/cbam", headers=demo.headers("tenant")).json()
    assert [i["id"] for i in alu["installations"]] == ["alu_plant"]
    summary = c.get(f"{P}/{park}/result", headers=demo.headers("tenant")).json()["summary"]
    assert [i["id"] for i in summary["cbam"]["installations"]] == ["alu_plant"]
    see = c.get(f"{P}/{park}/cbam/alu_plant/see", headers=demo.headers("tenant")).json()
    assert {p["process"] for p in see["processes"]} == {"hollow_profiles", "solid_profiles"}
    assert all(p["ef_route"] for p in see["processes"]) and see["grid_factor"]["ef_t_per_mwh"] > 0
    assert c.get(f"{P}/{park}/cbam/alu_plant/see",
                 headers=demo.headers("steel_fasteners")).status_code == 404
    assert c.get(f"{P}/{park}/cbam", headers=demo.headers("importer")).status_code == 403


def test_liability_exposure_and_pact(demo: Demo) -> None:
    c, park = demo.client, demo.park_id
    liab = c.get(f"{P}/{park}/cbam/alu_plant/liability", headers=demo.headers("verifier")).json()
    years = [y["year"] for y in liab["per_year"]]
    assert years == sorted(years) and all(2026 <= y <= 2034 for y in years)
    per_year_total = sum(y["cost_grid_eur"] for y in liab["per_year"])
    assert abs(per_year_total - sum(s["cost_grid_eur"] for s in liab["shipments"])) < 1e-6 * max(
        1.0, per_year_total)
    # the direct connection never costs more than grid electricity
    assert all(s["cost_dc_eur"] <= s["cost_grid_eur"] + 1e-9 for s in liab["shipments"])
    exposure = c.get(f"{P}/{park}/cbam/alu_plant/exposure", headers=demo.headers("operator"),
                     params={"by": "customer"})
    assert exposure.status_code == 200 and len(exposure.json()) > 0
    pact = c.get(f"{P}/{park}/cbam/alu_plant/pact", headers=demo.headers("verifier"))
    assert pact.status_code == 200 and "attachment" in pact.headers["content-disposition"]
    footprints = pact.json()
    assert len(footprints) == 2 and all(f["specVersion"].startswith("2") for f in footprints)


def test_importer_sees_only_shipments_addressed_to_it(demo: Demo) -> None:
    expected = _shipments_by_importer()["Alu Import Europe GmbH"]
    got = demo.client.get("/api/v1/shipments", headers=demo.headers("importer"))
    assert got.status_code == 200
    rows = got.json()
    assert {r["importer"] for r in rows} == {"Alu Import Europe GmbH"}
    assert {f"alu_shipments.csv:{r['shipment_id']}" for r in rows} == expected
    everything = demo.client.get("/api/v1/shipments", headers=demo.headers("admin")).json()
    assert len(everything) == sum(len(v) for v in _shipments_by_importer().values())
    assert demo.client.get("/api/v1/shipments", headers=demo.headers("tenant")).status_code == 403


def test_template_fill_runs_as_a_job_and_downloads(demo: Demo) -> None:
    c, park = demo.client, demo.park_id
    url = f"{P}/{park}/cbam/alu_plant/template"
    assert c.get(url, headers=demo.headers("tenant")).status_code == 404  # not filled yet
    denied = c.post(f"{P}/{park}/jobs", headers=demo.headers("steel_fasteners"),
                    json={"kind": "cbam_template", "installation": "alu_plant"})
    assert denied.status_code == 404
    job = c.post(f"{P}/{park}/jobs", headers=demo.headers("tenant"),
                 json={"kind": "cbam_template", "installation": "alu_plant"})
    assert job.status_code == 202, job.text
    assert demo.ctx.runner is not None
    demo.ctx.runner.wait(job.json()["id"], timeout_s=120)
    done = c.get(f"/api/v1/jobs/{job.json()['id']}", headers=demo.headers("tenant")).json()
    assert done["status"] == "succeeded", done
    xlsx = c.get(url, headers=demo.headers("tenant"))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    # the park's result is still the simulation, not the template job
    result = c.get(f"{P}/{park}/result", headers=demo.headers("operator")).json()
    assert result["job_id"] == demo.job_id
    assert Path(demo.ctx.settings.data_dir).exists()


def test_cbam_and_shipment_pages(demo: Demo) -> None:
    page = demo.client.get(f"/parks/{demo.park_id}/cbam",
                           cookies=demo.cookies("alu_extruder"))
    assert page.status_code == 200
    assert 'id="inst-alu_plant"' in page.text and "cement_plant" not in page.text
    full = demo.client.get(f"/parks/{demo.park_id}/cbam",
                           cookies=demo.cookies("operator"))
    assert full.status_code == 200 and full.text.count('<section class="card" id="inst-') == 3
    assert full.text.count('class="liability"') == 3 and "Fill the Commission template" in full.text
    ships = demo.client.get("/shipments", cookies=demo.cookies("importer"))
    assert ships.status_code == 200 and "Alu Import Europe GmbH" in ships.text
    assert "Baustoffe" not in ships.text
