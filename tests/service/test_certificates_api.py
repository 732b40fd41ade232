"""Meter files → validation report → certificates over HTTP: issue, holdings, transfer, claim,
verify, export; tenants see and act on their own account only; every change is audited."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from greenlink.service.models import AuditEvent, MeterIngest
from tests.service.conftest import Demo

CST = timezone(timedelta(hours=8))
P = "/api/v1/parks"
ROOFTOP_KWH, GROUND_MWH, ALU_KWH = 1000.0, 5.0, 2500.0  # per 15 minutes, daytime


def meter_csv(days: int = 2) -> bytes:
    """Long layout, 15-minute readings from 2025-06-01 (+08:00): both PV plants 08:00–16:00,
    the five users' loads all day. ``gen_ground`` is in MWh with interval-ending labels (as the
    scenario declares). Constant values: the ``stuck`` check reports them."""
    start = datetime(2025, 6, 1, tzinfo=CST)
    lines = ["timestamp,meter_id,value"]
    users = ["alu_extruder", "steel_fasteners", "cement_grinding", "battery_cells",
             "data_centre"]
    for k in range(days * 96):
        t = start + timedelta(minutes=15 * k)
        day = 8 <= t.hour < 16
        lines.append(f"{t.isoformat()},gen_rooftops,{ROOFTOP_KWH if day else 0.0}")
        lines.append(f"{(t + timedelta(minutes=15)).isoformat()},gen_ground,"
                     f"{GROUND_MWH if day else 0.0}")
        for u in users:
            lines.append(f"{t.isoformat()},load_{u},{ALU_KWH if u == 'alu_extruder' else 300.0}")
    return ("\n".join(lines) + "\n").encode()


def gec_files() -> list[tuple[str, tuple[str, bytes, str]]]:
    """The park's GEC issuance of June 2025 (100 GEC per plant) and its mapping."""
    from tests.certificates.conftest import GEC_MAPPING

    records = "device,month,from,to\n" + "".join(
        f"{d},2025-06,GEC{d.upper()}202506T000001,GEC{d.upper()}202506T000100\n"
        for d in ("rooftops", "ground"))
    return [("records", ("gec.csv", records.encode(), "text/csv")),
            ("mapping", ("gec.toml", GEC_MAPPING.encode(), "text/plain"))]


def park_registry(demo: Demo) -> object:
    """The park's registry as the service opens it (its operator's key)."""
    from greenlink.service import certificates
    from greenlink.service.models import Park
    from greenlink.service.parks import ParkScope

    with demo.ctx.sessions() as s:
        park = s.get(Park, demo.park_id)
    return certificates.registry_of(ParkScope(park, None), demo.ctx.settings.registry_key_dir)


def _ingest(demo: Demo, content: bytes, name: str = "meters.csv") -> object:
    return demo.client.post(f"{P}/{demo.park_id}/meter-files", headers=demo.headers("operator"),
                            files=[("files", (name, content, "text/csv"))])


def test_meter_ingest_report_issue_transfer_claim_verify(demo: Demo) -> None:
    c, park = demo.client, demo.park_id
    # a bad file is rejected and nothing is stored
    with demo.ctx.sessions() as s:
        before = len(list(s.scalars(select(MeterIngest))))
    bad = _ingest(demo, b"timestamp,meter_id,value\n2025-06-01T00:00:00+08:00,no_such_meter,1\n")
    assert bad.status_code == 422 and "no_such_meter" in bad.text
    with demo.ctx.sessions() as s:
        assert len(list(s.scalars(select(MeterIngest)))) == before

    r = _ingest(demo, meter_csv())
    assert r.status_code == 201, r.text
    ingest = r.json()
    assert ingest["readings"] == 2 * 96 * 7 and ingest["issues"] > 0
    report = c.get(f"{P}/{park}/meter-files/{ingest['id']}", headers=demo.headers("verifier"))
    assert report.status_code == 200
    checks = {i["check"] for i in report.json()["report"]["issues"]}
    assert "stuck" in checks  # the constant readings: the same value >= 8 intervals in a row
    own = c.get(f"{P}/{park}/meter-files/{ingest['id']}", headers=demo.headers("tenant")).json()
    assert set(own["report"]["per_meter"]) <= {"load_alu_extruder", "line_alu_extruder_1",
                                               "line_alu_extruder_2"}
    assert all(i["meter_id"].endswith(("alu_extruder", "_1", "_2"))
               for i in own["report"]["issues"])

    # issue: 8 daytime hours × 2 days × 2 plants, each hour 4 quarter-hours
    issued = c.post(f"{P}/{park}/certificates/issue", headers=demo.headers("operator"))
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["bundles"] == 8 * 2 * 2
    assert body["wh"] == round(8 * 2 * 4 * (ROOFTOP_KWH + GROUND_MWH * 1000) * 1000)
    again = c.post(f"{P}/{park}/certificates/issue", headers=demo.headers("operator")).json()
    assert again["bundles"] == 0 and again["skipped_already_issued"] >= body["bundles"]
    assert c.post(f"{P}/{park}/certificates/issue",
                  headers=demo.headers("tenant")).status_code == 403

    held = c.get(f"{P}/{park}/certificates", headers=demo.headers("operator"),
                 params={"account_id": "park", "limit": 1000}).json()
    assert sum(t["wh"] for t in held["totals"] if t["status"] == "Active") == body["wh"]
    rooftop = next(b for b in held["bundles"] if b["device_id"] == "rooftops")
    assert rooftop["bundle_quantity"] == 4 * ROOFTOP_KWH * 1000

    # transfer half of one bundle to alu_extruder; only alu_extruder sees it
    half = rooftop["bundle_quantity"] // 2
    moved = c.post(f"{P}/{park}/certificates/{rooftop['id']}/transfer",
                   headers=demo.headers("operator"),
                   json={"to_account": "alu_extruder", "quantity_wh": half})
    assert moved.status_code == 200, moved.text
    mine = c.get(f"{P}/{park}/certificates", headers=demo.headers("tenant")).json()
    assert [b["id"] for b in mine["bundles"]] == [moved.json()["bundle_id"]]
    assert mine["bundles"][0]["bundle_quantity"] == half
    other = c.get(f"{P}/{park}/certificates", headers=demo.headers("steel_fasteners")).json()
    assert other["bundles"] == []
    assert c.get(f"{P}/{park}/certificates", headers=demo.headers("steel_fasteners"),
                 params={"account_id": "alu_extruder"}).status_code == 404
    # neither the operator (it acts on the park account) nor another tenant can claim
    # alu_extruder's bundle; alu_extruder claims it for itself
    by_operator = c.post(f"{P}/{park}/certificates/{moved.json()['bundle_id']}/cancel",
                         headers=demo.headers("operator"),
                         json={"purpose": "sold_as_certificate", "beneficiary": "buyer-1"})
    assert by_operator.status_code == 422
    stolen = c.post(f"{P}/{park}/certificates/{moved.json()['bundle_id']}/cancel",
                    headers=demo.headers("steel_fasteners"), json={"purpose": "tenant_scope2"})
    assert stolen.status_code == 422
    # Chinese certificates: nothing is claimable before the month's GECs are imported
    pending = c.post(f"{P}/{park}/certificates/{moved.json()['bundle_id']}/cancel",
                     headers=demo.headers("tenant"), json={"purpose": "tenant_scope2"})
    assert pending.status_code == 422 and "GEC pending" in pending.text, pending.text
    assert c.post(f"{P}/{park}/certificates/gec", headers=demo.headers("tenant"),
                  files=gec_files()).status_code == 403
    imported = c.post(f"{P}/{park}/certificates/gec", headers=demo.headers("operator"),
                      files=gec_files())
    assert imported.status_code == 200, imported.text
    assert imported.json()["gec_by_status"] == {"issued": 2 * 100}
    claim = c.post(f"{P}/{park}/certificates/{moved.json()['bundle_id']}/cancel",
                   headers=demo.headers("tenant"), json={"purpose": "tenant_scope2"})
    assert claim.status_code == 200, claim.text
    # half of a 4 MWh hour: 2 MWh on the first two GECs of the month
    assert claim.json()["gec_serial_text"] == ("GECROOFTOPS202506T000001–"
                                               "GECROOFTOPS202506T000002")
    assert claim.json()["gec_serials"][0]["from"] == "GECROOFTOPS202506T000001"
    again = c.post(f"{P}/{park}/certificates/{moved.json()['bundle_id']}/cancel",
                   headers=demo.headers("tenant"), json={"purpose": "tenant_scope2"})
    assert again.status_code == 200 and again.json()["replayed"]  # the first result
    assert again.json()["claim_id"] == claim.json()["claim_id"]
    mine = c.get(f"{P}/{park}/certificates", headers=demo.headers("tenant")).json()
    assert mine["bundles"][0]["certificate_bundle_status"] == "Claimed"
    assert mine["bundles"][0]["beneficiary"] == "alu_extruder"
    listed = c.get(f"{P}/{park}/certificates/claims", headers=demo.headers("tenant")).json()
    assert [x["claim_id"] for x in listed] == [claim.json()["claim_id"]]

    ground = next(b for b in held["bundles"] if b["device_id"] == "ground")
    # a sale names a registered account (the buyer's), never free text
    unknown = c.post(f"{P}/{park}/certificates/{ground['id']}/cancel",
                     headers=demo.headers("operator"),
                     json={"purpose": "sold_as_certificate", "beneficiary": "buyer-1"})
    assert unknown.status_code == 422 and "not a registered account" in unknown.text
    park_registry(demo).add_account("buyer-1", "a buyer outside the park")
    sold = c.post(f"{P}/{park}/certificates/{ground['id']}/cancel",
                  headers=demo.headers("operator"),
                  json={"purpose": "sold_as_certificate", "beneficiary": "buyer-1"})
    assert sold.status_code == 200, sold.text
    assert sold.json()["gec_serials"][0]["tradable"]  # sold on tradable GECs only

    v = c.get(f"{P}/{park}/certificates/verify", headers=demo.headers("verifier")).json()
    assert v["ok"] and v["trusted"] and v["bundles"] >= body["bundles"] and v["problems"] == []
    export = c.get(f"{P}/{park}/certificates/export", headers=demo.headers("verifier"))
    assert export.status_code == 200 and "attachment" in export.headers["content-disposition"]
    bundles = export.json()["bundles"]
    assert {"issuance_id", "certificate_bundle_status", "bundle_quantity"} <= set(bundles[0])

    with demo.ctx.sessions() as s:
        actions = set(s.scalars(select(AuditEvent.action)))
    assert {"meter.ingest", "cert.issue", "cert.transfer", "cert.cancel",
            "cert.gec_import"} <= actions


def test_certificates_page_by_role(demo: Demo) -> None:
    page = demo.client.get(f"/parks/{demo.park_id}/certificates",
                           cookies=demo.cookies("verifier"))
    assert page.status_code == 200
    assert 'id="verify"' in page.text and 'action="/parks' not in page.text
    importer = demo.client.get(f"/parks/{demo.park_id}/certificates",
                               cookies=demo.cookies("importer"))
    assert importer.status_code == 403
