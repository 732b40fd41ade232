"""China green certificates (GEC, 绿证): import and linking to the hourly bundles, on SQLite and
PostgreSQL. Every expected number is worked out by hand in the comments (1 GEC = 1,000,000 Wh).
"""

from __future__ import annotations

import csv
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from greenlink.certificates import gec
from greenlink.certificates.db import open_registry
from greenlink.certificates.models import GecRecord
from greenlink.certificates.registry import Registry
from greenlink.cli.registry_cmd import registry_app
from greenlink.errors import InputError
from tests.certificates.conftest import claim_ready, hours, park

MWH = 1_000_000
AS_OF = date(2025, 8, 1)
HEADER = ["项目代码", "生产年月", "起始编号", "截止编号", "数量", "状态", "类型", "持有方",
          "使用方"]
MAPPING = """
[columns]
device = "项目代码"
production_month = "生产年月"
serial_start = "起始编号"
serial_end = "截止编号"
count = "数量"
status = "状态"
tradable = "类型"
holder = "持有方"
beneficiary = "使用方"

[values.status]
"核发" = "issued"
"划转" = "transferred"
"核销" = "cancelled"
"过期" = "expired"

[values.tradable]
"可交易" = true
"不可交易" = false

[devices]
"P001" = "pv"

[accounts]
"园区公司" = "park"
"铝业公司" = "alu"

[external]
"外部买家" = "buyer"
"""
# June 2025: 5 tradable GECs T0001-T0005 and 2 non-tradable N0001-N0002 held by the park;
# July 2025: 2 non-tradable, holder left blank (→ the device's account, park)
BASE = [["P001", "2025年6月", "LZ2506T0001", "LZ2506T0005", "5", "核发", "可交易", "园区公司", ""],
        ["P001", "2025-06", "LZ2506N0001", "LZ2506N0002", "2", "核发", "不可交易", "园区公司",
         ""],
        ["P001", "202507", "LZ2507N0001", "LZ2507N0002", "2", "核发", "不可交易", "", ""]]


def write(path: Path, rows: list[list[str]], encoding: str = "gbk") -> Path:
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows([HEADER, *rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


@pytest.fixture
def mapping(tmp_path: Path) -> Path:
    p = tmp_path / "mapping.toml"
    p.write_text(MAPPING, encoding="utf-8")
    return p


def stored(reg: Registry) -> int:
    with reg.sessions() as s:
        return int(s.execute(select(func.count()).select_from(GecRecord)).scalar_one())


def position(reg: Registry, month: str = "2025-06", as_of: date = AS_OF) -> gec.GecPosition:
    with reg.sessions() as s:
        return gec.gec_position(s, "pv", month, as_of=as_of)


def base(db_url: str, tmp_path: Path, mapping: Path) -> tuple[Registry, int]:
    reg, meta = park(db_url)
    r = reg.import_gec_file(write(tmp_path / "base.csv", BASE), mapping)
    assert (r.rows, r.imported, r.gec_by_status) == (3, 3, {"issued": 9})
    return reg, meta


def test_import_gbk_chinese_headers(db_url: str, tmp_path: Path, mapping: Path) -> None:
    reg, _ = base(db_url, tmp_path, mapping)
    with reg.sessions() as s:
        rows = s.execute(select(GecRecord).order_by(GecRecord.source_row)).scalars().all()
        got = [(r.device_id, r.production_month, r.serial_prefix, r.serial_start, r.serial_end,
                r.serial_digits, r.certificate_count, r.status, r.tradable, r.holder_account_id,
                r.source_row) for r in rows]
    assert got == [("pv", date(2025, 6, 1), "LZ2506T", 1, 5, 4, 5, "issued", True, "park", 2),
                   ("pv", date(2025, 6, 1), "LZ2506N", 1, 2, 4, 2, "issued", False, "park", 3),
                   ("pv", date(2025, 7, 1), "LZ2507N", 1, 2, 4, 2, "issued", False, "park", 4)]
    p = position(reg)
    # June: 7 GEC held by the park → 7 MWh claimable; a sale only on the 5 tradable ones
    assert (p.issued_gec, p.held_gec, p.held_tradable_gec, p.retained_gec) == (7, 7, 5, 7)
    assert p.headroom_wh() == 7 * MWH
    assert p.headroom_wh(purpose="sold_as_certificate") == 5 * MWH
    # July: 2 non-tradable GECs only
    assert position(reg, "2025-07").headroom_wh(purpose="sold_as_certificate") == 0
    assert position(reg, "2025-07").headroom_wh("alu", "tenant_scope2") == 2 * MWH


def test_transfers_and_cancellations_reduce_headroom(db_url: str, tmp_path: Path,
                                                     mapping: Path) -> None:
    reg, _ = base(db_url, tmp_path, mapping)
    # T0004-T0005 sold on the platform to an outside buyer: 7 − 2 = 5 MWh left
    reg.import_gec_file(write(tmp_path / "transfer.csv", [
        ["P001", "2025-06", "LZ2506T0004", "LZ2506T0005", "2", "划转", "可交易", "外部买家", ""]]),
        mapping)
    p = position(reg)
    assert (p.transferred_away_gec, p.retained_gec, p.headroom_wh()) == (2, 5, 5 * MWH)
    # a sale may use the 3 tradable GECs still held; the buyer's own 2 back a sale to it only
    assert p.headroom_wh(purpose="sold_as_certificate") == 3 * MWH
    assert p.headroom_wh("buyer", "sold_as_certificate") == 5 * MWH
    with reg.sessions() as s:
        assert gec.gec_headroom_wh(s, "pv", "2025-06", as_of=AS_OF) == 5 * MWH
    # T0003 cancelled for the buyer (someone else): 5 − 1 = 4; N0001 cancelled for alu (the
    # park's own tenant): still retained, but it backs claims for alu only
    reg.import_gec_file(write(tmp_path / "cancel.csv", [
        ["P001", "2025-06", "LZ2506T0003", "", "1", "核销", "", "外部买家", "外部买家"],
        ["P001", "2025-06", "LZ2506N0001", "", "1", "核销", "不可交易", "铝业公司", "铝业公司"]]),
        mapping)
    p = position(reg)
    assert (p.cancelled_elsewhere_gec, p.cancelled_own_gec, p.held_gec) == (1, 1, 3)
    assert p.headroom_wh() == 4 * MWH  # held T0001, T0002, N0002 + cancelled for alu N0001
    assert p.headroom_wh("alu", "tenant_scope2") == 4 * MWH
    assert p.headroom_wh("steel", "tenant_scope2") == 3 * MWH
    # the cancellation row without a type took the issuance's (tradable)
    with reg.sessions() as s:
        t = s.execute(select(GecRecord.tradable).where(GecRecord.status == "cancelled",
                                                       GecRecord.serial_prefix == "LZ2506T")
                      ).scalar_one()
    assert t is True


def test_serials_assigned_in_claim_order(db_url: str, tmp_path: Path, mapping: Path) -> None:
    reg, meta = base(db_url, tmp_path, mapping)
    # six bundles of 0.6 MWh on 1 June (08:00-13:00 China time)
    reg.issue(hours("pv", [600_000] * 6), metadata_id=meta)
    # what the claims need besides GECs: the tenants' metered consumption, the battery's
    # metered charging, and the buyer (outside the park) registered as an account
    claim_ready(reg, users=("alu", "steel", "bess"), periods=6, devices=())
    reg.add_account("buyer", "Outside buyer")
    reg.cancel(1, beneficiary="alu", purpose="tenant_scope2")
    reg.cancel(2, beneficiary="steel", purpose="product_batch")
    reg.cancel(3, beneficiary="buyer", purpose="sold_as_certificate")
    reg.cancel(4, beneficiary="alu", purpose="tenant_scope2")
    reg.cancel(5, beneficiary="buyer", purpose="sold_as_certificate")
    reg.storage_charge("bess", [6])
    # held pool in order: N0001 [0, 1M) N0002 [1M, 2M) T0001 … T0005 [2M, 7M) (Wh positions);
    # consumption from the front, sales from the back (tradable only)
    expect = {1: [("LZ2506N0001", "LZ2506N0001", 600_000)],               # [0, 0.6M)
              2: [("LZ2506N0001", "LZ2506N0002", 600_000)],               # [0.6M, 1.2M)
              3: [("LZ2506T0005", "LZ2506T0005", 600_000)],               # [6.4M, 7M)
              4: [("LZ2506N0002", "LZ2506N0002", 600_000)],               # [1.2M, 1.8M)
              5: [("LZ2506T0004", "LZ2506T0005", 600_000)],               # [5.8M, 6.4M)
              6: [("LZ2506N0002", "LZ2506N0002", 200_000),                # [1.8M, 2M)
                  ("LZ2506T0001", "LZ2506T0001", 400_000)]}               # [2M, 2.4M)
    with reg.sessions() as s:
        backings = gec.claim_backings(s, "pv", "2025-06", as_of=AS_OF)
        got = {k: [(x.serials.first, x.serials.last, x.wh) for x in b.slices]
               for k, b in backings.items()}
        assert got == expect
        assert backings[6].claim.purpose == "storage_charge"  # cancelled into storage counts
        p = gec.gec_position(s, "pv", "2025-06", as_of=AS_OF)
        assert (p.claimed_wh, p.uncovered_wh) == (3_600_000, 0)
        assert p.headroom_wh() == 7 * MWH - 3_600_000
        # tradable left for a sale: [2.4M, 5.8M) = 3.4 MWh
        assert p.headroom_wh(purpose="sold_as_certificate") == 3_400_000
        # the next claim continues in T0001 (partly used) up to T0004
        hour = datetime(2025, 6, 1, 6, tzinfo=UTC)
        nxt = gec.gec_backing(s, "pv", hour, 3_400_000, beneficiary="steel",
                              purpose="tenant_scope2", as_of=AS_OF)
        assert [(x.serials.first, x.serials.last, x.wh) for x in nxt.slices] == [
            ("LZ2506T0001", "LZ2506T0004", 3_400_000)]
        assert nxt.serial_text() == "LZ2506T0001–LZ2506T0004"
        with pytest.raises(gec.GecError, match="back 3,400,000 Wh more"):
            gec.gec_backing(s, "pv", hour, 3_400_001, beneficiary="steel",
                            purpose="tenant_scope2", as_of=AS_OF)
        # the bundle being claimed is not counted twice when already marked
        again = gec.gec_backing(s, "pv", hour, 600_000, beneficiary="alu",
                                purpose="tenant_scope2", as_of=AS_OF, exclude_bundle_ids={6})
        assert again.slices[0].serials.first == "LZ2506N0002"  # [1.8M, 2.4M) as bundle 6 had


def test_non_tradable_refuses_sold_as_certificate(db_url: str, tmp_path: Path,
                                                  mapping: Path) -> None:
    reg, _ = base(db_url, tmp_path, mapping)
    july = datetime(2025, 7, 10, 4, tzinfo=UTC)
    with reg.sessions() as s:
        with pytest.raises(gec.GecError, match="non-tradable"):
            gec.gec_backing(s, "pv", july, 1, beneficiary="buyer",
                            purpose="sold_as_certificate", as_of=AS_OF)
        ok = gec.gec_backing(s, "pv", july, 1_500_000, beneficiary="alu",
                             purpose="tenant_scope2", as_of=AS_OF)
        assert ok.serial_text() == "LZ2507N0001–LZ2507N0002"
        assert [x.serials.tradable for x in ok.slices] == [False]


def test_no_records_yet_means_gec_pending(db_url: str, tmp_path: Path, mapping: Path) -> None:
    reg, _ = base(db_url, tmp_path, mapping)
    with reg.sessions() as s:
        assert gec.gec_headroom_wh(s, "pv", "2025-08", as_of=AS_OF) == 0
        with pytest.raises(gec.GecError, match="GEC pending"):
            gec.gec_backing(s, "pv", datetime(2025, 8, 3, tzinfo=UTC), 1, beneficiary="alu",
                            purpose="tenant_scope2", as_of=AS_OF)
        # 30 June 16:00 UTC is 1 July 00:00 in China: a July hour
        assert gec.month_of(datetime(2025, 6, 30, 16, tzinfo=UTC)) == date(2025, 7, 1)
        assert gec.month_of(datetime(2025, 6, 30, 15, tzinfo=UTC)) == date(2025, 6, 1)


def test_held_gecs_expire_after_two_years(db_url: str, tmp_path: Path, mapping: Path) -> None:
    reg, _ = base(db_url, tmp_path, mapping)
    reg.import_gec_file(write(tmp_path / "cancel.csv", [
        ["P001", "2025-06", "LZ2506N0001", "", "1", "核销", "不可交易", "铝业公司", "铝业公司"]]),
        mapping)
    # June 2025 GECs are valid until 31 May 2027; on 1 June 2027 the 6 held ones have lapsed,
    # the one cancelled for alu in time still counts
    assert position(reg, as_of=date(2027, 5, 31)).headroom_wh() == 7 * MWH
    p = position(reg, as_of=date(2027, 6, 1))
    assert (p.expired_gec, p.retained_gec, p.headroom_wh()) == (6, 1, 1 * MWH)


def test_bad_files_refused_with_row_and_column(db_url: str, tmp_path: Path,
                                               mapping: Path) -> None:
    reg, _ = park(db_url)
    bad = write(tmp_path / "bad.csv", [
        BASE[0],
        ["P001", "2025-13", "LZ2506N0001", "LZ2506N0002", "2", "核发", "不可交易", "", ""],
        ["P001", "2025-06", "LZ2506X0001", "LZ2506X0005", "4", "核发", "可交易", "", ""],
        ["P001", "2025-06", "LZ2506Y0001", "", "1", "作废", "可交易", "", ""],
        ["P001", "2025-06", "LZ2506Z0001", "", "1", "划转", "可交易", "", ""],
        ["P001", "2025-06", "LZ2506W0001", "", "1", "核发", "", "", ""]])
    with pytest.raises(InputError) as err:
        reg.import_gec_file(bad, mapping)
    where = [(p.file, p.location) for p in err.value.problems]
    assert where == [(str(bad), "row 3, column 生产年月"), (str(bad), "row 4, column 数量"),
                     (str(bad), "row 5, column 状态"), (str(bad), "row 6, column 持有方"),
                     (str(bad), "row 7, column 类型")]
    assert stored(reg) == 0
    # rows that parse but contradict the registry or the records: unknown device, serials
    # issued twice, a transfer of serials never issued; the good first row is not stored either
    reg.import_gec_file(write(tmp_path / "base.csv", BASE), mapping)
    clash = write(tmp_path / "clash.csv", [
        ["P001", "2025-08", "LZ2508T0001", "LZ2508T0003", "3", "核发", "可交易", "", ""],
        ["P777", "2025-08", "LZ2508T0004", "", "1", "核发", "可交易", "", ""],
        ["P001", "2025-06", "LZ2506T0005", "LZ2506T0006", "2", "核发", "可交易", "", ""],
        ["P001", "2025-09", "LZ2509T0001", "", "1", "划转", "可交易", "外部买家", ""]],
        encoding="utf-8-sig")
    with pytest.raises(InputError) as err:
        reg.import_gec_file(clash, mapping)
    problems = err.value.problems
    assert [p.location for p in problems] == ["row 3, column 项目代码", "row 4, column 起始编号",
                                              "row 5, column 起始编号"]
    assert "row 2 of" in problems[1].message and "LZ2506T0001–LZ2506T0005" in problems[1].message
    assert "never issued" in problems[2].message
    assert stored(reg) == 3


def test_reimport_is_idempotent(db_url: str, tmp_path: Path, mapping: Path) -> None:
    reg, _ = base(db_url, tmp_path, mapping)
    before = position(reg)
    again = reg.import_gec_file(tmp_path / "base.csv", mapping)
    assert (again.imported, again.already_imported) == (0, 3)
    assert stored(reg) == 3 and position(reg) == before
    # a later export repeats a known record (skipped) and adds a transfer
    later = reg.import_gec_file(write(tmp_path / "later.csv", [
        BASE[0], ["P001", "2025-06", "LZ2506T0001", "", "1", "划转", "可交易", "外部买家", ""]]),
        mapping)
    assert (later.imported, later.known, later.gec_by_status) == (1, 1, {"transferred": 1})
    assert stored(reg) == 4
    # the same transfer again from yet another file: known, not a second transfer
    dup = reg.import_gec_file(write(tmp_path / "later2.csv", [
        ["P001", "2025-06", "LZ2506T0001", "", "1", "划转", "可交易", "外部买家", ""]],
        encoding="utf-8"), mapping)
    assert (dup.imported, dup.known) == (0, 1)
    assert position(reg).headroom_wh() == 6 * MWH


def test_edited_records_are_found(db_url: str, tmp_path: Path, mapping: Path) -> None:
    reg, _ = base(db_url, tmp_path, mapping)
    with reg.sessions() as s:
        assert gec.verify_gec_records(s) == []
    with reg.engine.begin() as con:  # behind the importer's back: a transfer made to vanish
        con.execute(update(GecRecord).where(GecRecord.source_row == 2).values(serial_end=9,
                                                                              certificate_count=9))
    with reg.sessions() as s:
        problems = gec.verify_gec_records(s)
    assert len(problems) == 1 and "row 2 of" in problems[0]


def test_concurrent_overlapping_imports_one_wins(pg_url: str, tmp_path: Path,
                                                 mapping: Path) -> None:
    reg, _ = park(pg_url)
    files = [write(tmp_path / f"f{k}.csv", [["P001", "2025-06", f"LZ2506T{k + 1:04d}",
                                             f"LZ2506T{k + 10:04d}", "10", "核发", "可交易",
                                             "", ""]]) for k in range(8)]
    barrier = threading.Barrier(len(files))

    def one(path: Path) -> bool:
        barrier.wait()
        try:
            reg.import_gec_file(path, mapping)
            return True
        except InputError:
            return False

    with ThreadPoolExecutor(len(files)) as pool:
        won = list(pool.map(one, files))
    assert sum(won) == 1  # every pair of files overlaps: exactly one import may stand
    assert stored(reg) == 1


# -------------------------------------------------------------------------- SQLite only


def test_cli_import_and_position(tmp_path: Path, mapping: Path) -> None:
    db = f"sqlite:///{tmp_path / 'r.sqlite'}"
    park(db)
    runner = CliRunner()
    r = runner.invoke(registry_app, ["gec", "import", str(write(tmp_path / "b.csv", BASE)),
                                     "--mapping", str(mapping), "--db", db])
    assert r.exit_code == 0, r.output
    assert "3 of 3 records imported (9 issued GEC)" in r.output
    r = runner.invoke(registry_app, ["gec", "position", "--device", "pv", "--month", "2025-07",
                                     "--purpose", "sold_as_certificate", "--db", db])
    assert r.exit_code == 0, r.output
    assert "may still claim 0 Wh" in r.output
    bad = write(tmp_path / "bad.csv", [["P001", "June", "LZ1", "", "", "核发", "可交易", "", ""]])
    r = runner.invoke(registry_app, ["gec", "import", str(bad), "--mapping", str(mapping),
                                     "--db", db])
    assert r.exit_code == 2
    assert "row 2, column 生产年月" in r.output


def test_shipped_example_and_facts(tmp_path: Path) -> None:
    facts = gec.gec_facts()
    assert facts.unit.mwh_per_certificate == 1 and gec.wh_per_gec() == MWH
    assert facts.validity.years == 2 and facts.production_month.timezone == "Asia/Shanghai"
    assert [r.tradable for r in facts.tradability if r.category == "self_consumed"] == [False]
    reg = open_registry(f"sqlite:///{tmp_path / 'r.sqlite'}")
    reg.add_account("park")
    reg.add_account("alu")
    reg.add_device("pv", account_id="park", energy_source="solar",
                   technology_type="photovoltaic", capacity_kw=1000)
    d = gec.data_dir()
    r = reg.import_gec_file(d / "example-records.csv", d / "example-mapping.toml")
    assert (r.imported, r.own_parties, r.external_parties) == (4, ["alu", "park"], ["buyer_bj"])
    p = position(reg)
    # 120 tradable + 80 non-tradable issued; 20 tradable sold; 30 non-tradable used by alu
    assert (p.issued_gec, p.transferred_away_gec, p.cancelled_own_gec, p.held_gec) == (
        200, 20, 30, 150)
    assert p.headroom_wh(purpose="sold_as_certificate") == 100 * MWH


def test_serial_ranges_and_months_pure() -> None:
    r = gec.SerialRange("GEC", "", 98, 102, 0)
    assert (r.first, r.last, r.count, str(r.sub(99, 99))) == ("GEC98", "GEC102", 5, "GEC99")
    assert gec.SerialRange("A", "10", 1, 2, 7).first == "A000000110"
    assert not r.overlaps(gec.SerialRange("GEC", "x", 98, 102))
    assert r.overlaps(gec.SerialRange("GEC", "", 102, 200, 4))  # padding ignored
    assert gec.valid_until(date(2025, 6, 17)) == date(2027, 6, 1)
    start, end = gec.month_bounds_utc("2025-06")
    assert (start, end) == (datetime(2025, 5, 31, 16, tzinfo=UTC),
                            datetime(2025, 6, 30, 16, tzinfo=UTC))
    # a position from plain records: 2 GEC held, a claim of 1.5 MWh, 0.5 MWh left
    entries = [gec.GecEntry("pv", date(2025, 6, 1), gec.SerialRange("S", "", 1, 2), "issued",
                            holder_account_id="park")]
    p = gec.device_month_position(entries, [gec.Claim(1, "alu", "tenant_scope2", 1_500_000)],
                                  device_id="pv", month="2025-06", as_of=AS_OF)
    assert p.headroom_wh() == 500_000
    assert p.backings[0].serial_text() == "S1–S2"
    assert gec.assign_serials(p, 500_000, beneficiary="x", purpose="shipment").serial_text() \
        == "S2"
    # many claims from one position: each continues where the last stopped, the third is refused
    p, a = gec.claim_next(p, 200_000, beneficiary="x", purpose="shipment", key=2)
    p, b = gec.claim_next(p, 300_000, beneficiary="y", purpose="tenant_scope2", key=3)
    assert (a.slices[0].wh, b.serial_text(), p.headroom_wh(), p.claimed_wh) == (
        200_000, "S2", 0, 2_000_000)
    with pytest.raises(gec.GecError, match="back 0 Wh more"):
        gec.claim_next(p, 1, beneficiary="x", purpose="shipment")
    with pytest.raises(gec.GecError, match="positive"):
        gec.assign_serials(p, 0, beneficiary="x", purpose="shipment")
