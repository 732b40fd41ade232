"""``greenlink keys`` and ``greenlink evidence`` through Typer's CliRunner."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from greenlink.cli.evidence_cmd import evidence_app, keys_app
from tests.evidence.conftest import tiny_day_15min

runner = CliRunner()
EXAMPLE = (Path(__file__).parents[2] / "src" / "greenlink" / "examples" / "jiangsu_park"
           / "park.toml")


def _claim_file(tmp_path: Path) -> Path:
    (tmp_path / "sld.pdf").write_bytes(b"%PDF-1.4 single-line diagram")
    flows = tiny_day_15min().rename(columns=lambda c: c.replace("u.", "alu_extruder."))
    flows.reset_index().to_parquet(tmp_path / "flows.parquet", index=False)
    claim = tmp_path / "claim.toml"
    claim.write_text("""kind = "user_green_share"
scenario = "{EXAMPLE}"
user = "alu_extruder"
start = 2025-01-01
end = 2025-01-02
flows = "flows.parquet"
[topology]
single_line_diagram = "sld.pdf"
""".replace("{EXAMPLE}", EXAMPLE.as_posix()), encoding="utf-8")
    return claim


def test_keys_generate_show_rotate(tmp_path: Path) -> None:
    kd = str(tmp_path / "keys")
    out = runner.invoke(keys_app, ["generate", "--key-dir", kd])
    assert out.exit_code == 0 and "SHA256:" in out.output
    again = runner.invoke(keys_app, ["generate", "--key-dir", kd])
    assert again.exit_code == 2 and "rotate" in again.output
    rot = runner.invoke(keys_app, ["rotate", "--key-dir", kd])
    assert rot.exit_code == 0 and "retired" in rot.output
    shown = runner.invoke(keys_app, ["show", "--key-dir", kd])
    assert shown.exit_code == 0
    assert "retired" in shown.output and "active" in shown.output


def test_build_and_verify_from_a_claim_file(tmp_path: Path) -> None:
    claim = _claim_file(tmp_path)
    kd = str(tmp_path / "keys")
    assert runner.invoke(keys_app, ["generate", "--key-dir", kd]).exit_code == 0
    pack = tmp_path / "pack.zip"
    built = runner.invoke(evidence_app, ["build", "--claim", str(claim), "--out", str(pack),
                                         "--key-dir", kd])
    assert built.exit_code == 0, built.output
    with zipfile.ZipFile(pack) as zf:
        doc = json.loads(zf.read("claim.json"))
    assert doc["flows_source"] == "metered"
    assert doc["claimed"]["hourly_matched_share"] == 0.5625
    ok = runner.invoke(evidence_app, ["verify", str(pack), "--key",
                                      str(tmp_path / "keys" / "signing_key.pub")])
    assert ok.exit_code == 0 and "PASS" in ok.output
    as_json = runner.invoke(evidence_app, ["verify", str(pack), "--json"])
    body = json.loads(as_json.output)  # no --key, empty keyring: untrusted, exit 3 (was ok)
    assert as_json.exit_code == 3 and body["status"] == "UNTRUSTED"
    assert not body["ok"] and not body["key_trusted"]
    # tamper one meter value inside the zip: exit 1 and the file named
    with zipfile.ZipFile(pack) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members["data/generation.csv"] = members["data/generation.csv"].replace(
        b"5.000000", b"6.000000", 1)
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    bad = runner.invoke(evidence_app, ["verify", str(tmp_path / "bad.zip")])
    assert bad.exit_code == 1 and "data/generation.csv" in bad.output


def test_build_refuses_a_missing_key_and_a_bad_claim(tmp_path: Path) -> None:
    claim = _claim_file(tmp_path)
    out = runner.invoke(evidence_app, ["build", "--claim", str(claim), "--out",
                                       str(tmp_path / "p.zip"), "--key-dir",
                                       str(tmp_path / "none")])
    assert out.exit_code == 2 and "keys generate" in out.output
    assert not (tmp_path / "p.zip").exists()
    (tmp_path / "bad.toml").write_text('kind = "user_green_share"\nuser = "alu_extruder"\n')
    kd = str(tmp_path / "keys")
    runner.invoke(keys_app, ["generate", "--key-dir", kd])
    out = runner.invoke(evidence_app, ["build", "--claim", str(tmp_path / "bad.toml"), "--out",
                                       str(tmp_path / "p.zip"), "--key-dir", kd])
    assert out.exit_code == 2 and "scenario" in out.output


def test_build_with_registry_refuses_second_pack_and_against_flags(tmp_path: Path) -> None:
    import shutil

    from tests.evidence.test_registry_link import _registry

    _registry(tmp_path, [20_000, 2_000])
    claim = _claim_file(tmp_path)
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    claim.write_text(claim.read_text() + f'[certificates]\nregistry = "{url}"\n'
                     'account = "park"\n', encoding="utf-8")
    kd = str(tmp_path / "keys")
    runner.invoke(keys_app, ["generate", "--key-dir", kd])
    first = runner.invoke(evidence_app, ["build", "--claim", str(claim), "--out",
                                         str(tmp_path / "a.zip"), "--key-dir", kd])
    assert first.exit_code == 0, first.output
    second = runner.invoke(evidence_app, ["build", "--claim", str(claim), "--out",
                                          str(tmp_path / "b.zip"), "--key-dir", kd])
    assert second.exit_code == 2 and "second pack" in second.output
    assert not (tmp_path / "b.zip").exists()
    shutil.copy(tmp_path / "a.zip", tmp_path / "a-copy.zip")
    flagged = runner.invoke(evidence_app, ["verify", str(tmp_path / "a.zip"), "--against",
                                           str(tmp_path / "a-copy.zip")])
    assert flagged.exit_code == 1
    assert "also claimed" in flagged.output and "certificates/cancelled.csv" in flagged.output


def test_shipment_pack_of_the_example_park(tmp_path: Path) -> None:
    """The demo: one shipment of the example park, built (simulated flows) and verified."""
    claim = tmp_path / "shipment.toml"
    claim.write_text(f'''kind = "shipment_electricity"
scenario = "{EXAMPLE.as_posix()}"
installation = "cement_plant"
shipment = "S00000"
[topology]
single_line_diagram = "JS-SLD-001 rev C"
single_line_diagram_sha256 = "{'f6482ed3dd6b7eb9f8385fdee8d20956ceda236713be8bc24acc456d07836162'}"
''', encoding="utf-8")
    kd = str(tmp_path / "keys")
    runner.invoke(keys_app, ["generate", "--key-dir", kd])
    out = runner.invoke(evidence_app, ["build", "--claim", str(claim), "--out",
                                       str(tmp_path / "s.zip"), "--key-dir", kd])
    assert out.exit_code == 0, out.output
    with zipfile.ZipFile(tmp_path / "s.zip") as zf:
        doc = json.loads(zf.read("claim.json"))
        pact = json.loads(zf.read("interop/pact_product_footprint.json"))
    ef = doc["electricity_factor"]
    assert doc["kind"] == "shipment_electricity" and doc["shipment"]["cn_code"] == "25232900"
    assert ef["template_code"] in ("D.4.3.1", "Mix", "D.4(a)", "D.4(b)")
    assert 0.0 <= ef["ef_t_per_mwh"] <= ef["inputs"]["grid"]["ef_t_per_mwh"]
    assert pact["pcf"]["declaredUnit"] == "kilogram"
    emb = doc["embedded"]  # direct + indirect + precursors, every input in the pack
    assert emb["process"]["id"] == "grinding" and not emb["annex_ii"]
    assert pact["pcf"]["pCfExcludingBiogenic"] == f"{emb['see_total_t_per_t']:.5f}"
    ok = runner.invoke(evidence_app, ["verify", str(tmp_path / "s.zip"), "--key",
                                      str(tmp_path / "keys" / "signing_key.pub")])
    assert ok.exit_code == 0 and "PASS" in ok.output
