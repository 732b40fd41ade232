# ruff: noqa: F811  (db_url, pg_server, pg_url: fixtures imported from the registry tests)
"""Adversary: a tenant (or a careless operator) trying to claim more green energy than there is.

One test per attack class of the outside review, each on SQLite and PostgreSQL where the
registry is involved directly: over-claiming above the hourly metered consumption with every
purpose (``storage_charge`` too) or for a beneficiary without consumption; beneficiaries as case
or white-space variants or free text; ``cbam claim`` run twice, and another claim over the same
Wh; a multi-hour claim failing in its last hour; storage (charging into a device that is not a
storage device, a discharge claimed twice); China's GECs (transferred away, cancelled for
someone else, non-tradable sold, not imported yet); and every entry point (CLI, API, web form,
library) refusing the same hostile input the same way.

Every claim path ends in one registry function (``Registry.claim``); these tests drive the
entry points as a user would (``Registry.cancel``, ``storage_charge``, ``storage_discharge``,
``carbon.claims.cancel_for_claims``, the ``greenlink`` CLI, the REST API, the dashboard form).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from typer.testing import CliRunner

from greenlink.certificates.db import open_registry
from greenlink.certificates.purposes import CLAIM_PURPOSES, STORAGE_CHARGE
from greenlink.certificates.registry import Registry, RegistryError
from greenlink.cli.registry_cmd import registry_app
from greenlink.errors import GreenlinkError
from greenlink.signing.keys import generate_key
from tests.certificates.conftest import (  # noqa: F401
    claim_ready,
    db_url,
    gec_issued,
    hours,
    park,
    pg_server,
    pg_url,
)
from tests.certificates.test_gec import MAPPING, write

H0 = datetime(2025, 6, 1, tzinfo=UTC)  # 08:00 in China: a June hour
RUNNER = CliRunner()


@pytest.fixture(autouse=True)
def operator_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The operator's key folder (GREENLINK_KEY_DIR); the verifier's keyring is empty."""
    key_dir = tmp_path / "operator-keys"
    generate_key(key_dir)
    monkeypatch.setenv("GREENLINK_KEY_DIR", str(key_dir))
    monkeypatch.setenv("GREENLINK_KEYRING", str(tmp_path / "no-keyring.json"))
    return key_dir


def state(reg: Registry) -> tuple[dict[str, int], int]:
    """Wh per bundle status and the number of events: what an attack must leave unchanged."""
    b = reg.bundles()
    leaves = b[b["certificate_bundle_status"] != "Bundle Split"]
    wh = leaves.groupby("certificate_bundle_status")["bundle_quantity"].sum()
    return {str(k): int(v) for k, v in wh.items()}, reg.events()


def refused(fn: Any, *args: Any, match: str, **kw: Any) -> str:
    with pytest.raises(RegistryError, match=match) as info:
        fn(*args, **kw)
    return str(info.value)


def tenant_park(url: str, wh: list[int], *, consumption: int = 700) -> tuple[Registry, int]:
    """The test park (accounts park, alu, steel; devices pv and the battery bess), bundles of
    ``wh`` from H0, June's GECs imported, alu consuming and bess charging ``consumption`` Wh in
    each of those hours."""
    reg, meta = park(url)
    reg.issue(hours("pv", wh), metadata_id=meta)
    claim_ready(reg, users=("alu", "bess"), periods=len(wh), wh=consumption)
    return reg, meta


# ------------------------------------------------------------------ 1. over-claiming the hour


@pytest.mark.parametrize("purpose", CLAIM_PURPOSES)
def test_no_purpose_claims_above_the_hourly_consumption(db_url: str, purpose: str) -> None:
    reg, _ = tenant_park(db_url, [1000, 1000])
    before = state(reg)
    who = "bess" if purpose == STORAGE_CHARGE else "alu"  # storage: the battery's charging
    refused(reg.cancel, 1, beneficiary=who, purpose=purpose, match="consumed 700 Wh")
    if purpose == STORAGE_CHARGE:
        refused(reg.storage_charge, "bess", [1], match="consumed 700 Wh")
    assert state(reg) == before
    # up to the consumption it goes through, and the hour is then used up for every purpose
    done = reg.cancel(2, beneficiary=who, purpose=purpose, quantity_wh=700)
    assert int(reg.bundles().set_index("id").loc[done, "bundle_quantity"]) == 700
    rest = int(reg.bundles(status="Active").query("bundle_quantity == 300")["id"].iat[0])
    for other in CLAIM_PURPOSES:
        if (other == STORAGE_CHARGE) == (purpose == STORAGE_CHARGE):
            refused(reg.cancel, rest, beneficiary=who, purpose=other, quantity_wh=1,
                    match="700 Wh are claimed already")
    assert reg.verify().ok


def test_no_claim_for_a_beneficiary_without_registered_consumption(db_url: str) -> None:
    reg, _ = tenant_park(db_url, [1000, 1000, 1000])
    # steel is a registered account, but no consumption of it is registered: refused
    msg = refused(reg.cancel, 1, beneficiary="steel", purpose="tenant_scope2",
                  match="no metered consumption registered")
    assert "steel" in msg
    # alu's consumption is registered for hours 0-2 only: an hour without it is refused too
    reg.issue(hours("pv", [500], start="2025-06-01 05:00"), metadata_id=1)
    refused(reg.cancel, 4, beneficiary="alu", purpose="shipment",
            match="no metered consumption registered for the hour")
    assert state(reg)[0] == {"Active": 3500} and reg.verify().ok


def test_a_sale_is_capped_for_park_users_and_bounded_by_tradable_gecs_outside(
        db_url: str) -> None:
    """docs/registry.md, "sold_as_certificate and the cap": a sale to a park user is a claim
    like any other (capped); a sale to a buyer outside the park (a registered account without
    consumption here) moves the attribute out, bounded by the bundles and the tradable GECs."""
    reg, _ = tenant_park(db_url, [1000, 1000])
    refused(reg.cancel, 1, beneficiary="alu", purpose="sold_as_certificate",
            match="consumed 700 Wh")
    refused(reg.cancel, 1, beneficiary="buyer", purpose="sold_as_certificate",
            match="not a registered account or user")  # free text: no
    reg.add_account("buyer", "Buyer outside the park")
    sold = reg.cancel(1, beneficiary="buyer", purpose="sold_as_certificate")
    assert reg.bundles().set_index("id").loc[sold, "beneficiary"] == "buyer"
    refused(reg.cancel, 2, beneficiary="park", purpose="sold_as_certificate",
            account_id="park", match="not a sale")


# --------------------------------------------------------------- 2. beneficiary variants


@pytest.mark.parametrize("name", ["ALU", "Alu", "alu ", " alu", "alu\n", "a\u200blu", "al u",
                                  "aluminium smelter next door", "ａｌｕ"])
def test_beneficiaries_are_registered_ids_exactly(db_url: str, name: str) -> None:
    reg, _ = tenant_park(db_url, [1000])
    before = state(reg)
    msg = refused(reg.cancel, 1, beneficiary=name, purpose="tenant_scope2",
                  match="registered account or user|white space|control characters")
    assert repr(name) in msg
    assert state(reg) == before
    assert reg.cancel(1, beneficiary="alu", purpose="tenant_scope2", quantity_wh=700)


def test_registering_a_case_variant_of_an_account_is_refused(db_url: str) -> None:
    reg, _ = park(db_url)
    refused(reg.add_account, "ALU", match="only in case")
    refused(reg.add_account, "alu ", match="white space")


# ------------------------------------------------------------ 3. the same claim twice (ids)


def test_the_same_claim_twice_changes_nothing_another_over_the_same_wh_names_the_first(
        db_url: str) -> None:
    reg, _ = tenant_park(db_url, [1000])
    first = reg.cancel(1, beneficiary="alu", purpose="tenant_scope2", quantity_wh=400)
    after = state(reg)
    again = reg.cancel(1, beneficiary="alu", purpose="tenant_scope2", quantity_wh=400)
    assert again == first and state(reg) == after  # the first result; nothing written
    (claim_id,) = set(reg.claims()["claim_id"])
    msg = refused(reg.cancel, 1, beneficiary="alu", purpose="shipment", quantity_wh=400,
                  match="Bundle Split, not Active")
    assert claim_id in msg and "another claim over the same Wh" in msg
    msg = refused(reg.cancel, first, beneficiary="alu", purpose="tenant_scope2",
                  claim_id="mine-too", match="not Active")
    assert claim_id in msg
    # a claim id names one claim: the same id for other content is refused
    rest = int(reg.bundles(status="Active")["id"].iat[0])
    refused(reg.cancel, rest, beneficiary="alu", purpose="tenant_scope2", quantity_wh=100,
            claim_id=claim_id, match="used already by another claim")
    assert state(reg) == after and reg.verify().ok


@pytest.fixture(scope="module")
def small_cement_park(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The example park with its cement plant's first two daily batches (no shipments) and the
    flows of its first three days (simulated once)."""
    from greenlink.cli.main import example_dir
    from greenlink.workflows.run import run_scenario

    tmp = tmp_path_factory.mktemp("cement")
    shutil.copytree(example_dir(), tmp / "park")
    run = run_scenario(tmp / "park" / "park.toml")
    batches = tmp / "park" / "cbam" / "cement_batches.csv"
    batches.write_text("".join(batches.read_text().splitlines(True)[:3]))
    scenario = tmp / "park" / "park.toml"
    scenario.write_text(scenario.read_text().replace(
        'shipments_file = "cbam/cement_shipments.csv"\n', ""))
    run.flows.iloc[:96 * 3].reset_index().to_parquet(tmp / "flows.parquet", index=False)
    return scenario, tmp / "flows.parquet"


def test_cbam_claim_twice_changes_nothing_and_a_rival_claim_is_refused(
        small_cement_park: tuple[Path, Path], tmp_path: Path) -> None:
    from greenlink.cli.cbam_cmd import cbam_app

    scenario, flows = small_cement_park
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    reg = open_registry(url)
    reg.add_account("park")
    reg.add_device("ground", account_id="park", energy_source="solar",
                   technology_type="photovoltaic", capacity_kw=5000)
    meta = reg.add_metadata(country_of_issuance="CN", connected_grid_identification="JS",
                            issuing_body="test", issue_market_zone="JS")
    start = pd.Timestamp("2025-01-01", tz="Asia/Shanghai")
    reg.issue(pd.DataFrame({"device_id": "ground", "hour_start": pd.date_range(
        start, periods=72, freq="h"), "energy_wh": 5_000_000}), metadata_id=meta)
    reg.record_consumption_table(pd.DataFrame({"beneficiary": "cement_grinding", "hour_start":
                                               pd.date_range(start, periods=72, freq="h"),
                                               "wh": 10_000_000}))
    gec_issued(reg, tmp_path, "ground", "2025-01", 100)
    args = ["claim", "--installation", "cement_plant", "--registry", url, "--account", "park",
            "--scenario", str(scenario), "--flows", str(flows)]
    first = RUNNER.invoke(cbam_app, args)
    assert first.exit_code == 0, first.output
    claimed = state(reg)
    assert claimed[0]["Claimed"] > 0
    assert "GEC serials: GECGROUND202501T000001–GECGROUND202501T000014" in first.output
    assert "not backed 0.000 MWh" in first.output, first.output
    (claim_id,) = set(reg.claims()["claim_id"])
    second = RUNNER.invoke(cbam_app, args)
    assert second.exit_code == 0, second.output
    assert "nothing changed" in second.output and claim_id in second.output
    assert state(reg) == claimed  # the second run cancelled nothing
    for rival in (["--claim-id", "another-claim"], ["--purpose", "shipment"]):
        r = RUNNER.invoke(cbam_app, [*args, *rival])
        assert r.exit_code == 2, r.output
        assert claim_id in r.output and "claimed already" in r.output, r.output
        assert state(reg) == claimed
    assert reg.verify().ok


# ------------------------------------------------------ 4. a multi-hour claim: all or nothing


def test_a_multi_hour_claim_failing_in_its_last_hour_claims_nothing(db_url: str) -> None:
    from greenlink.carbon.claims import cancel_for_claims

    reg, _ = tenant_park(db_url, [1000, 1000, 1000])
    reg.record_consumption("alu", H0 + timedelta(hours=2), 100)  # the last hour: 100 Wh used
    before = state(reg)
    claims = pd.DataFrame({"batch_id": "b1", "hour_start": pd.date_range(H0, periods=3,
                                                                         freq="h"),
                           "claim_wh": [600, 600, 600]})
    with pytest.raises(RegistryError, match="consumed 100 Wh"):
        cancel_for_claims(reg, claims, account_id="park", beneficiary="alu")
    assert state(reg) == before  # hours 1 and 2 were not kept
    assert reg.claims().empty and reg.verify().ok


# ------------------------------------------------------------------------------ 5. storage


def test_storage_charging_only_into_a_storage_device_and_always_with_its_record(
        db_url: str) -> None:
    reg, _ = tenant_park(db_url, [1000, 1000])
    claim_ready(reg, users=("pv",), periods=2, wh=5000, devices=())  # even "consuming" pv
    before = state(reg)
    for name in ("pv", "alu", "BESS", "nowhere"):
        refused(reg.cancel, 1, beneficiary=name, purpose=STORAGE_CHARGE,
                match="not a registered storage device")
        refused(reg.storage_charge, name, [1], match="not a registered storage device")
    assert state(reg) == before
    reg.cancel(1, beneficiary="bess", purpose=STORAGE_CHARGE, quantity_wh=500)
    from sqlalchemy import func, select

    from greenlink.certificates.models import StorageChargeRecord

    with reg.sessions() as s:  # the cancellation into storage made its charge record
        assert s.execute(select(func.sum(StorageChargeRecord.charge_wh))).scalar() == 500
    assert reg.verify().ok


def test_energy_discharged_from_storage_is_claimable_once(db_url: str) -> None:
    reg, meta = tenant_park(db_url, [1000, 1000], consumption=1000)
    reg.storage_charge("bess", [1])
    discharge = H0 + timedelta(hours=5)
    reg.storage_discharge("bess", discharge, 450, efficiency=0.9, metadata_id=meta)
    before = state(reg)
    refused(reg.storage_discharge, "bess", discharge, 450, efficiency=0.9, metadata_id=meta,
            match="claimable once")
    assert state(reg) == before
    (sd,) = reg.bundles(device_id="bess")["id"].tolist()
    claim_ready(reg, users=("alu",), start="2025-06-01 05:00", periods=1, wh=1000, devices=())
    reg.cancel(sd, beneficiary="alu", purpose="tenant_scope2")
    refused(reg.cancel, sd, beneficiary="alu", purpose="product_batch", match="not Active")
    assert reg.verify().ok


# ---------------------------------------------------------------------------------- 6. GEC


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    p = tmp_path / "mapping.toml"
    p.write_text(MAPPING, encoding="utf-8")
    return p


def gec_park(url: str, tmp_path: Path, mapping: Path, rows: list[list[str]],
             wh: list[int]) -> Registry:
    """The test park with GEC records ``rows`` (device P001 = pv), bundles ``wh`` from H0,
    alu and steel consuming 2 MWh an hour, and an outside buyer's account."""
    reg, meta = park(url)
    reg.issue(hours("pv", wh), metadata_id=meta)
    claim_ready(reg, users=("alu", "steel"), periods=len(wh), wh=2_000_000, devices=())
    reg.add_account("buyer", "Outside buyer")
    if rows:
        reg.import_gec_file(write(tmp_path / "gec.csv", rows), mapping)
    return reg


ISSUED_T = ["P001", "2025-06", "LZ2506T0001", "LZ2506T0002", "2", "核发", "可交易", "园区公司", ""]


def test_gecs_transferred_away_back_nothing_here(db_url: str, tmp_path: Path,
                                                 mapping: Path) -> None:
    reg = gec_park(db_url, tmp_path, mapping, [ISSUED_T, [
        "P001", "2025-06", "LZ2506T0002", "", "1", "划转", "可交易", "外部买家", ""]],
        [1_000_000, 500_000])
    reg.cancel(1, beneficiary="alu", purpose="tenant_scope2")  # on T0001, the one kept
    before = state(reg)
    refused(reg.cancel, 2, beneficiary="alu", purpose="tenant_scope2",
            match="1 transferred away")
    assert state(reg) == before
    serials = reg.claims()["gec_serials"].tolist()
    assert len(serials) == 1 and "LZ2506T0001" in serials[0] and "T0002" not in serials[0]


def test_gecs_cancelled_for_someone_else_back_only_their_claims(db_url: str, tmp_path: Path,
                                                                mapping: Path) -> None:
    reg = gec_park(db_url, tmp_path, mapping, [ISSUED_T, [
        "P001", "2025-06", "LZ2506T0002", "", "1", "核销", "可交易", "steel", "steel"]],
        [1_000_000, 500_000])
    reg.cancel(1, beneficiary="alu", purpose="tenant_scope2")  # held T0001
    refused(reg.cancel, 2, beneficiary="alu", purpose="tenant_scope2",
            match="back 0 Wh more for alu")
    reg.cancel(2, beneficiary="steel", purpose="tenant_scope2")  # steel's own T0002
    rows = reg.claims().set_index("beneficiary")["gec_serials"]
    assert "LZ2506T0002" in rows["steel"] and "cancelled:steel" in rows["steel"]


def test_non_tradable_gecs_are_never_sold(db_url: str, tmp_path: Path, mapping: Path) -> None:
    reg = gec_park(db_url, tmp_path, mapping, [[
        "P001", "2025-06", "LZ2506N0001", "LZ2506N0002", "2", "核发", "不可交易", "园区公司", ""]],
        [1_000_000])
    before = state(reg)
    refused(reg.cancel, 1, beneficiary="buyer", purpose="sold_as_certificate",
            match="non-tradable")
    assert state(reg) == before
    reg.cancel(1, beneficiary="alu", purpose="tenant_scope2")  # the park's own use: fine
    assert "LZ2506N0001" in reg.claims()["gec_serials"].iat[0]


def test_nothing_is_claimed_while_the_months_gecs_are_pending(db_url: str, tmp_path: Path,
                                                              mapping: Path) -> None:
    reg = gec_park(db_url, tmp_path, mapping, [], [1_000_000])
    claim_ready(reg, users=("bess",), periods=1, devices=())  # the battery's charging
    before = state(reg)
    for purpose in CLAIM_PURPOSES:
        who = {"sold_as_certificate": "buyer", STORAGE_CHARGE: "bess"}.get(purpose, "alu")
        refused(reg.cancel, 1, beneficiary=who, purpose=purpose, match="GEC pending")
    assert state(reg) == before
    reg.import_gec_file(write(tmp_path / "gec.csv", [ISSUED_T]), mapping)
    reg.cancel(1, beneficiary="alu", purpose="tenant_scope2")
    assert reg.verify().ok


# --------------------------------------------- 7. every entry point refuses the same way


HOSTILE = [  # (beneficiary, purpose, what the refusal says)
    ("ALU_EXTRUDER", "tenant_scope2", "'ALU_EXTRUDER' is not a registered account or user"),
    ("alu_extruder ", "tenant_scope2", "'alu_extruder ' has leading, trailing"),
    ("steel_fasteners", "product_batch", "consumed 1000000 Wh in the hour"),
    ("the neighbours", "sold_as_certificate", "'the neighbours' is not a registered"),
]


@pytest.fixture
def service_park(tmp_path: Path, operator_keys: Path) -> Iterator[dict[str, Any]]:
    """A service with the demo accounts and the example park, whose registry holds one 5 MWh
    bundle of the ground plant (June 2025, GECs imported), alu_extruder and steel_fasteners
    consuming 1 MWh in that hour."""
    from sqlalchemy import select

    from greenlink.service import accounts
    from greenlink.service.demo import seed_demo
    from greenlink.service.models import Park
    from greenlink.service.settings import make_settings
    from greenlink.service.startup import open_service
    from greenlink.web.app import create_app
    from tests.service.conftest import FAST_HASH, PASSWORD

    settings = make_settings(f"sqlite:///{tmp_path / 'service.db'}", tmp_path / "data",
                             **FAST_HASH)
    ctx = open_service(settings, start_runner=False)
    park_id, made = seed_demo(ctx, PASSWORD)
    with ctx.sessions() as s:
        folder = Path(s.scalars(select(Park.folder).where(Park.id == park_id)).one())
    url = f"sqlite:///{folder / 'registry.sqlite'}"
    reg = open_registry(url)
    reg.add_account("park", "park operator")
    for user in ("alu_extruder", "steel_fasteners"):
        reg.add_account(user, user, ["park"])
    reg.add_device("ground", account_id="park", energy_source="solar",
                   technology_type="photovoltaic", capacity_kw=6000)
    meta = reg.add_metadata(country_of_issuance="CN", connected_grid_identification="JS",
                            issuing_body="test", issue_market_zone="JS")
    reg.issue(pd.DataFrame({"device_id": "ground", "hour_start": [H0],
                            "energy_wh": 5_000_000}), metadata_id=meta)
    reg.record_consumption_table(pd.DataFrame({"beneficiary": ["alu_extruder",
                                                               "steel_fasteners"],
                                               "hour_start": [H0, H0],
                                               "wh": [1_000_000, 1_000_000]}))
    gec_issued(reg, Path(tempfile.mkdtemp()), "ground", "2025-06", 100)
    tokens = {acc.park_user_id or acc.role: accounts.login(ctx, acc.email, PASSWORD).secret
              for acc in made}
    yield {"ctx": ctx, "app": create_app(settings, ctx), "park_id": park_id, "url": url,
           "registry": reg, "tokens": tokens}
    ctx.close()


def _cli(env: dict[str, Any], name: str, purpose: str, wh: int) -> str:
    r = RUNNER.invoke(registry_app, ["cancel", "1", "--beneficiary", name, "--purpose", purpose,
                                     "--quantity", str(wh), "--from", "park",
                                     "--db", env["url"]])
    assert r.exit_code == 2, r.output
    return " ".join(r.output.split())


def _api(env: dict[str, Any], name: str, purpose: str, wh: int) -> str:
    from tests.adversary.test_web import bearer, client_of

    r = client_of(env["app"]).post(
        f"/api/v1/parks/{env['park_id']}/certificates/1/cancel",
        headers=bearer(env["tokens"]["operator"]),
        json={"purpose": purpose, "beneficiary": name, "quantity_wh": wh})
    assert r.status_code == 422, r.text
    return str(r.json())


def _web(env: dict[str, Any], name: str, purpose: str, wh: int) -> str:
    from tests.adversary.test_web import SAME_SITE, client_of, page_token, web_login

    client = client_of(env["app"])
    web_login(client, "operator")
    page = f"/parks/{env['park_id']}/certificates"
    r = client.post(f"{page}/cancel", headers=SAME_SITE, data={
        "csrftoken": page_token(client, page), "bundle_id": "1", "purpose": purpose,
        "beneficiary": name, "quantity_wh": str(wh)})
    assert r.status_code == 303, r.text
    query = parse_qs(urlparse(r.headers["location"]).query)
    assert "error" in query, r.headers["location"]
    return query["error"][0]


def _library(env: dict[str, Any], name: str, purpose: str, wh: int) -> str:
    with pytest.raises(GreenlinkError) as info:
        env["registry"].cancel(1, beneficiary=name, purpose=purpose, quantity_wh=wh,
                               account_id="park")
    return str(info.value)


@pytest.mark.parametrize(("name", "purpose", "says"), HOSTILE,
                         ids=["case", "space", "over-claim", "free-text-buyer"])
def test_every_entry_point_refuses_the_same_hostile_claim_the_same_way(
        service_park: dict[str, Any], name: str, purpose: str, says: str) -> None:
    reg = service_park["registry"]
    before = state(reg)
    answers = {path.__name__: path(service_park, name, purpose, 1_500_000)
               for path in (_cli, _api, _web, _library)}
    for path, text in answers.items():
        assert says in text, (path, text)
    # the same refusal: the registry's own message, word for word, on every path
    core = re.sub(r"\s+", " ", answers["_library"]).strip()
    for path, text in answers.items():
        assert core in re.sub(r"\s+", " ", text), (path, text, core)
    assert state(reg) == before and reg.verify().ok
