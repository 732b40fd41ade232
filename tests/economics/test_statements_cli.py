"""Renderers (JSON/HTML/PDF), atomic output, the settle and contracts whatif commands."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from greenlink.cli.settle_cmd import contracts_app, settle_app
from greenlink.economics import statements as st_mod
from greenlink.economics.settlement import settle
from greenlink.economics.statements import write_settlement
from greenlink.economics.whatif import compare_contracts, read_variant, with_contracts
from greenlink.errors import InputError

from .conftest import TINY_CONTRACTS, TINY_TOML, tiny_fees, tiny_flows, tiny_scenario

runner = CliRunner()


def test_statement_files_per_tenant_and_contract(tmp_path):
    s = settle(tiny_flows(), tiny_scenario(), "2025-01", fees=tiny_fees())
    files = write_settlement(s, tmp_path)
    names = {p.relative_to(tmp_path / "2025-01").as_posix() for p in files}
    for base in ("tenants/a", "tenants/b", "contracts/wind-a", "contracts/park-b", "buyers"):
        assert {f"{base}.json", f"{base}.html", f"{base}.pdf"} <= names
    data = json.loads((tmp_path / "2025-01" / "tenants" / "a.json").read_text())
    assert Decimal(data["total"]) == s.statement("a").total
    assert sum(Decimal(ln["amount"]) for ln in data["lines"]) == Decimal(data["total"])
    assert data["meters_kwh"]["load_kwh"] == data["energy_lines_kwh"]
    contract = json.loads((tmp_path / "2025-01" / "contracts" / "park-b.json").read_text())
    assert {ln["tenant"] for ln in contract["lines"]} == {"b"}
    html = (tmp_path / "2025-01" / "tenants" / "b.html").read_text()
    assert f"{s.statement('b').total:,}" in html and "<script" not in html
    assert (tmp_path / "2025-01" / "tenants" / "a.pdf").read_bytes().startswith(b"%PDF")
    buyers = json.loads((tmp_path / "2025-01" / "buyers.json").read_text())
    assert buyers["periods"][0]["buyer_country"] == "DE"


def test_failed_write_leaves_previous_month_untouched(tmp_path, monkeypatch):
    s = settle(tiny_flows(), tiny_scenario(), "2025-01", fees=tiny_fees())
    write_settlement(s, tmp_path, ("json",))
    before = (tmp_path / "2025-01" / "tenants" / "a.json").read_text()

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(st_mod, "statement_pdf", broken)
    with pytest.raises(RuntimeError):
        write_settlement(s, tmp_path)
    assert (tmp_path / "2025-01" / "tenants" / "a.json").read_text() == before
    assert not (tmp_path / "2025-01" / "tenants" / "a.html").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["2025-01"]


def _tiny_files(tmp_path):
    scenario = tmp_path / "park.toml"
    scenario.write_text(TINY_TOML.format(contracts=TINY_CONTRACTS, currency="CNY"))
    flows = tmp_path / "flows.parquet"
    tiny_flows().reset_index().to_parquet(flows)
    return scenario, flows


def test_settle_command(tmp_path):
    scenario, flows = _tiny_files(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(settle_app, [str(scenario), "--month", "2025-02", "--flows",
                                        str(flows), "--out", str(out), "--format", "json,html"])
    assert result.exit_code == 0, result.output
    assert (out / "2025-02" / "tenants" / "a.json").is_file()
    assert not (out / "2025-02" / "tenants" / "a.pdf").exists()
    csv = tmp_path / "flows.csv"
    frame = tiny_flows().reset_index()
    frame["interval_start"] = frame["interval_start"].map(lambda t: t.isoformat())
    frame.to_csv(csv, index=False)
    result = runner.invoke(settle_app, [str(scenario), "--month", "2025-01", "--flows", str(csv),
                                        "--out", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--month", "2025-04"], "no meter data for 2025-04"),
    (["--month", "April"], "is not a month"),
    (["--month", "2025-01", "--format", "docx"], "unknown formats"),
    (["--month", "2025-01", "--fees-as-of", "soon"], "is not a date"),
])
def test_settle_command_bad_input_exits_2(tmp_path, args, message):
    scenario, flows = _tiny_files(tmp_path)
    result = runner.invoke(settle_app, [str(scenario), "--flows", str(flows), "--out",
                                        str(tmp_path / "out"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "out" / "2025-04").exists()


def test_whatif_variants_and_battery_value(tmp_path):
    sc = tiny_scenario()
    flows = tiny_flows()
    service = """
[[contracts]]
type = "battery_service"
id = "bs"
battery = "bess"
price_per_kwh = 0.1
term = { start = 2025-01-01, end = 2025-12-31 }
"""
    variant = tmp_path / "with_service.toml"
    variant.write_text(TINY_CONTRACTS + service)
    variants = {"scenario": sc, "none": with_contracts(sc, []),
                "service": read_variant(variant, sc)}
    table = compare_contracts(flows, variants, flows_without_battery=flows, fees=tiny_fees())
    assert len(table) == 6 and set(table["variant"]) == {"scenario", "none", "service"}
    row = table.set_index(["variant", "tenant"])
    # same flows with and without battery: the value is minus the battery service fees,
    # a: 60 green kWh/h × (11/110 from the battery) × 0.1 over 59 days
    assert row.loc[("service", "a"), "battery_value"] == pytest.approx(-60 * 0.1 * 0.1 * 24 * 59)
    assert row.loc[("scenario", "a"), "battery_value"] == 0
    assert row.loc[("none", "b"), "shortfall_kwh"] == 0
    assert row.loc[("scenario", "b"), "shortfall_share"] == pytest.approx(30 / 80)
    assert row.loc[("scenario", "b"), "months_with_shortfall"] == 2
    bad = tmp_path / "bad.toml"
    bad.write_text('[[contracts]]\ntype = "ppa"\nid = "x"\n')
    with pytest.raises(InputError, match=r"contracts\[0\]\.seller: Field required"):
        read_variant(bad, sc)


def test_whatif_command_json(tmp_path):
    scenario, flows = _tiny_files(tmp_path)
    result = runner.invoke(contracts_app, ["whatif", str(scenario), "--flows", str(flows),
                                           "--no-battery", "--json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert {r["variant"] for r in records} == {"scenario", "no_contracts"}
    result = runner.invoke(contracts_app, ["whatif", str(scenario), "--flows", str(flows)])
    assert result.exit_code == 2 and "needs simulated flows" in result.output


def test_contracts_list_command(tmp_path):
    scenario, _ = _tiny_files(tmp_path)
    result = runner.invoke(contracts_app, ["list", str(scenario)])
    assert result.exit_code == 0, result.output
    assert "wind-a" in result.output and "pay_as_produced share 0.25" in result.output
