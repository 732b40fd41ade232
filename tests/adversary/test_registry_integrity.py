# ruff: noqa: F811  (db_url, pg_server, pg_url: fixtures imported from the registry tests)
"""Adversary: an insider with write access to the registry database (not the signing key),
and hostile input through the registry's entry points.

* **Laundering.** An unsigned event appended in the database, or rows edited and restated by an
  ``adopt`` event, must never be signed over by the operator's next write: the write is refused
  (naming the event), ``verify`` names the events, and only ``checkpoint --seal`` — which shows
  them and asks — seals unsigned history, recording what it sealed.
* **Stored forms.** SQLite keeps times as text: a time rewritten in another text form (equal
  when read back) is named by ``verify``; on PostgreSQL a changed time is a changed row.
* **Id variants.** Case, width, Unicode and look-alike variants of account, device and user ids
  are refused wherever an id is registered or named (library, CLI, GEC import, a sale).
* **GEC serials.** Huge, negative or non-integer serial numbers and counts are refused naming
  the file, row and column — never an overflow or a database error.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import insert, select, text, update

from greenlink.certificates import identity
from greenlink.certificates.adopt import SEAL, adopt_history
from greenlink.certificates.chained import BY_NAME
from greenlink.certificates.digests import bundle_hash, canonical, event_hash, key_of, row_hash
from greenlink.certificates.errors import ClaimRefused
from greenlink.certificates.registry import Registry, RegistryError
from greenlink.cli.registry_cmd import registry_app
from greenlink.errors import InputError
from tests.adversary.test_registry_history import (
    GEC_DATA,
    H0,
    RUNNER,
    attacker,
    build,
    failing,
    named,
    operator_keys,  # noqa: F401
    table,
)
from tests.certificates.conftest import db_url, pg_server, pg_url  # noqa: F401

# ----------------------------------------------------------------------------- laundering


def _forge_consumption(url: str, wh: int) -> int:
    """Raise alu's consumption at H0 and record it in a new, unsigned event that chains
    correctly onto the last one, moving the head to it (no signature: none can be made)."""
    con_rows = table("gc_consumption")
    ev, head = table("gc_event"), table("gc_chain_head")
    chained = BY_NAME["gc_consumption"]
    with attacker(url) as con:
        key = (con_rows.c.beneficiary == "alu") & (con_rows.c.hour_start == H0)
        row = con.execute(select(con_rows).where(key)).mappings().one()
        before = row_hash(chained, row)
        con.execute(update(con_rows).where(key).values(consumption_wh=wh))
        after = row_hash(chained, con.execute(select(con_rows).where(key)).mappings()
                               .one())
        last = con.execute(select(ev).order_by(ev.c.seq.desc()).limit(1)).mappings().one()
        seq = int(last["seq"]) + 1
        payload = canonical({"beneficiary": "alu", "chain_rows": [
            ["gc_consumption", list(key_of(chained, row)), before, after]]})
        digest = event_hash(last["hash"], seq, last["at"], "consumption", payload)
        con.execute(insert(ev).values(seq=seq, at=last["at"], kind="consumption",
                                      payload=payload, prev_hash=last["hash"], hash=digest))
        con.execute(update(head).values(seq=seq, hash=digest, signer=None, signature=None))
    return seq


def test_an_unsigned_event_forged_in_the_database_is_never_signed_by_the_next_write(
        db_url: str, tmp_path: Path) -> None:
    reg = build(db_url)
    seq = _forge_consumption(db_url, 10**9)
    before = reg.events()
    with pytest.raises(RegistryError, match=rf"last event {seq} \(consumption\) is not signed"):
        reg.add_account("newcomer", "Someone")  # an ordinary signed write
    with pytest.raises(RegistryError, match=rf"last event {seq}"):
        reg.record_consumption("steel", H0, 600)
    assert reg.events() == before  # nothing written on top of it
    problems = failing(reg)
    assert named(problems, f"last event {seq} is not signed", "gc_consumption"), problems
    out = RUNNER.invoke(registry_app, ["verify", "--db", db_url])
    assert out.exit_code == 1 and f"event {seq}" in out.output
    # sealing is deliberate: the event is shown with the row it records, and declined here
    cp = tmp_path / "c.json"
    declined = RUNNER.invoke(registry_app, ["checkpoint", "--seal", "--out", str(cp),
                                            "--db", db_url], input="n\n")
    assert declined.exit_code == 1, declined.output
    assert f"event {seq} (consumption)" in declined.output and "alu" in declined.output
    assert reg.events() == before and not cp.exists()
    sealed = RUNNER.invoke(registry_app, ["checkpoint", "--seal", "--out", str(cp),
                                          "--db", db_url], input="y\n")
    assert sealed.exit_code == 0, sealed.output
    assert reg.verify().ok
    ev = table("gc_event")
    with attacker(db_url) as con:
        seal = con.execute(select(ev).order_by(ev.c.seq.desc()).limit(1)).mappings().one()
    assert seal["kind"] == SEAL and seal["signature"]
    assert json.loads(seal["payload"])["sealed"] == [seq, seq]  # it records what it sealed
    reg.add_account("newcomer", "Someone")  # writes go on after the seal


def test_rows_edited_and_restated_by_an_adopt_event_are_not_laundered(db_url: str,
                                                                      tmp_path: Path) -> None:
    """The insider un-claims a bundle, raises consumption, drops the claim records, fixes the
    hash columns and appends an ``adopt`` event naming the real migration (the registry's own
    function): verify refuses the adopt event, the next write refuses to sign over it, and a
    seal is refused."""
    reg = build(db_url)
    cp = reg.checkpoint()
    from sqlalchemy import delete

    with attacker(db_url) as con:
        bundles = table("gc_bundle")
        con.execute(update(bundles).where(bundles.c.id == 5).values(
            certificate_bundle_status="Active", beneficiary=None, claim_purpose=None))
        con.execute(update(table("gc_consumption")).values(claimed_wh=0,
                                                           consumption_wh=10**9))
        con.execute(delete(table("gc_claim_part")))
        con.execute(delete(table("gc_claim")))
        for r in con.execute(bundles.select()).mappings().all():
            con.execute(update(bundles).where(bundles.c.id == r["id"]).values(
                hash=bundle_hash(r)))
        adopted = adopt_history(con, "routine", migration="0003_history")
    assert adopted is not None
    problems = failing(reg)
    assert named(problems, f"event {adopted} (adopt) does not count"), problems
    assert named(problems, "bundle 5 [gc_bundle]", "edited outside the registry"), problems
    with pytest.raises(RegistryError, match=rf"last event {adopted} \(adopt\) is not signed"):
        reg.record_consumption("steel", H0, 600)
    with pytest.raises(RegistryError, match=rf"last event {adopted}"):
        reg.cancel(5, beneficiary="alu", purpose="tenant_scope2", quantity_wh=100,
                   claim_id="again")
    with pytest.raises(RegistryError, match="does not verify; nothing sealed"):
        reg.seal("insider asks")
    out = RUNNER.invoke(registry_app, ["checkpoint", "--seal", "--yes", "--out",
                                       str(tmp_path / "c.json"), "--db", db_url])
    assert out.exit_code != 0 and "nothing sealed" in out.output, out.output
    assert not reg.verify(checkpoint=cp).ok


def test_an_adopt_event_outside_a_migration_is_refused() -> None:
    with pytest.raises(ValueError, match="not one that adopts"):
        adopt_history(None, "routine", migration="my_script")  # type: ignore[arg-type]


def test_a_head_that_is_not_the_last_event_stops_every_write(db_url: str) -> None:
    reg = build(db_url)
    with attacker(db_url) as con:
        last = con.execute(text("SELECT seq, hash, signer, signature FROM gc_event "
                                "ORDER BY seq DESC LIMIT 1")).one()
        prev = con.execute(text(f"SELECT seq, hash, signer, signature FROM gc_event "
                                f"WHERE seq = {last.seq - 1}")).one()
        con.execute(update(table("gc_chain_head")).values(
            seq=prev.seq, hash=prev.hash, signer=prev.signer, signature=prev.signature))
    with pytest.raises(RegistryError, match=rf"chain head \(event {prev.seq}\) is not its last "
                                            rf"event \({last.seq}"):
        reg.add_account("newcomer")


# ------------------------------------------------------------------------- stored forms

#: Text forms SQLAlchemy reads back as the same (or an equal-looking) time on SQLite.
OTHER_FORMS = ["2025-06-01T00:00:00+00:00", "2025-06-01 00:00:00", "2025-06-01T00:00:00",
               "2025-06-01 08:00:00.000000+08:00", "2025-06-01 00:00:00.000000Z",
               "2025-06-01 00:00:00.0000000"]


@pytest.mark.parametrize("form", OTHER_FORMS)
def test_a_time_rewritten_in_another_text_form_is_named_on_sqlite(tmp_path: Path,
                                                                  form: str) -> None:
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    reg = build(url)
    with attacker(url) as con:
        stored = con.execute(text("SELECT hour_start FROM gc_consumption WHERE beneficiary = "
                                  "'steel'")).scalar()
        assert stored == "2025-06-01 00:00:00.000000"  # the one form the registry writes
        con.execute(text("UPDATE gc_consumption SET hour_start = :f WHERE beneficiary = "
                         "'steel'"), {"f": form})
        con.execute(text("UPDATE gc_bundle SET production_starting_interval = :f "
                         "WHERE id = 1"), {"f": form})
    problems = failing(reg)
    assert named(problems, "[gc_consumption]", "steel", "hour_start is stored as",
                 form), problems
    assert named(problems, "bundle 1 [gc_bundle]", "production_starting_interval is stored as",
                 "not in the form the registry writes"), problems


def test_a_time_moved_to_another_hour_is_named(db_url: str) -> None:
    """On both databases: the row digest covers the time as the registry reads it, so another
    hour (in any form, any offset) is a changed row."""
    reg = build(db_url)
    with attacker(db_url) as con:
        con.execute(update(table("gc_bundle")).where(table("gc_bundle").c.id == 1).values(
            production_starting_interval=H0 + timedelta(hours=7)))
    assert named(failing(reg), "bundle 1 [gc_bundle]", "edited outside the registry")


def test_the_same_instant_in_another_offset_is_one_stored_value_on_postgresql(
        pg_url: str) -> None:
    """PostgreSQL stores a timestamptz as the instant: an offset written by the insider leaves
    nothing that reads differently, and verify passes (the row is unchanged)."""
    reg = build(pg_url)
    with attacker(pg_url) as con:
        con.execute(text("UPDATE gc_consumption SET hour_start = "
                         "'2025-06-01 08:00:00+08' WHERE beneficiary = 'steel'"))
        con.execute(text("SET LOCAL TIME ZONE 'Asia/Shanghai'"))
        assert con.execute(text("SELECT hour_start = '2025-06-01 00:00:00+00' FROM "
                                "gc_consumption WHERE beneficiary = 'steel'")).scalar()
    assert reg.verify().ok


# --------------------------------------------------------------------------- id variants

VARIANTS = ["ALU", "Alu", "ａｌｕ", "ＡＬＵ", "alu ", "a\u200blu", "\u0430lu", "a\u2113u"]
VARIANT_IDS = ["upper", "title", "full-width", "full-width-upper", "trailing-space",
               "zero-width", "cyrillic-a", "nfkc-script-l"]


@pytest.mark.parametrize("name", VARIANTS, ids=VARIANT_IDS)
def test_variants_of_an_account_are_refused_as_new_ids(db_url: str, name: str) -> None:
    reg = build(db_url)
    before = reg.events()
    for register in (lambda: reg.add_account(name, "twin"),
                     lambda: reg.add_device(name, account_id="park", energy_source="solar",
                                            technology_type="photovoltaic", capacity_kw=1),
                     lambda: reg.record_consumption(name, H0, 100),
                     lambda: reg.record_consumption_table(pd.DataFrame({
                         "beneficiary": [name], "hour_start": [H0], "wh": [100]}))):
        with pytest.raises(RegistryError, match=r"alu|white space|mixes"):
            register()
    cli = RUNNER.invoke(registry_app, ["account", name, "--db", db_url])
    said = " ".join(cli.output.split())
    assert cli.exit_code == 2 and any(w in said for w in ("'alu'", "white space", "mixes")), \
        cli.output
    assert reg.events() == before


@pytest.mark.parametrize("name", ["PV", "Ｐｖ", "\u0440v"], ids=["upper", "full-width",
                                                                "cyrillic-p"])
def test_variants_of_a_device_are_refused(db_url: str, name: str) -> None:
    reg = build(db_url)
    with pytest.raises(RegistryError, match=r"device 'pv'|mixes|only in case"):
        reg.add_device(name, account_id="park", energy_source="solar",
                       technology_type="photovoltaic", capacity_kw=1)
    with pytest.raises(RegistryError, match=r"device 'pv'|mixes|only in case"):
        reg.add_account(name)


def test_a_sale_to_a_variant_account_planted_in_the_database_is_refused(db_url: str) -> None:
    """An account registered before variants were refused (or inserted directly): a sale to
    it is not capped by consumption, so the registry refuses it as a look-alike of alu."""
    reg = build(db_url)
    with attacker(db_url) as con:
        con.execute(insert(table("gc_account")).values(id="ＡＬＵ", account_name="twin"))
    with pytest.raises(ClaimRefused, match=r"'ＡＬＵ' differs from (user|account) 'alu'"):
        reg.cancel(6, beneficiary="ＡＬＵ", purpose="sold_as_certificate",
                   quantity_wh=100, account_id="park")


def test_a_gec_record_naming_a_variant_of_a_registered_id_is_refused(db_url: str,
                                                                     tmp_path: Path) -> None:
    reg = build(db_url)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text((GEC_DATA / "example-mapping.toml").read_text(encoding="utf-8"),
                       encoding="utf-8")
    lines = (GEC_DATA / "example-records.csv").read_text(encoding="utf-8-sig").splitlines()
    header = lines[0]
    row = lines[4].split(",")
    row[2] = row[2][:-6] + "777010"
    row[3] = row[3][:-6] + "777010"
    row[4], row[-1] = "1", "ALU"  # cancelled for "ALU": not alu, not an outsider
    records = tmp_path / "records.csv"
    records.write_text(f"{header}\n{','.join(row)}\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        reg.import_gec_file(records, mapping)
    problem = info.value.problems[0]
    assert problem.file == str(records) and "row 2" in str(problem.location)
    assert "'ALU'" in problem.message and "'alu'" in problem.message


#: Ids registered before each case below, and look-alikes of them that must be refused.
KNOWN_IDS = ["alu_extruder", "pace", "COPE", "claim-2025", "line0"]
LOOK_ALIKES = {
    "armenian-seh-for-u": "alu_extr\u057dder",
    "armenian-oh-for-o": "c\u0585pe",
    "whole-cyrillic-pace": "\u0440\u0430\u0441\u0435",
    "whole-cyrillic-upper-cope": "\u0421\u041e\u0420\u0415",
    "whole-greek-lunate-sigma": "\u03f2\u03bf\u03c1\u03b5",
    "combining-grapheme-joiner": "alu_extruder\u034f",
    "variation-selector": "alu\ufe0f_extruder",
    "hangul-filler": "alu_extruder\u3164",
    "soft-hyphen": "alu_ex\u00adtruder",
    "tag-character": "alu_extruder\U000e0041",
    "latin-dotless-i": "cla\u0131m-2025",
    "latin-alpha": "\u0251lu_extruder",
    "latin-small-capital-a": "\u1d00lu_extruder",
    "capital-i-for-l": "aIu_extruder",
    "digit-one-for-l": "a1u_extruder",
    "letter-o-for-zero": "lineO",
    "small-o-for-zero": "lineo",
}
LEGITIMATE_IDS = {
    "chinese": "铝型材厂", "chinese-phase": "铝型材厂-2期", "japanese-latin": "株式会社ABC",
    "ascii-digits": "tenant_07", "ascii-mixed": "A-1_b2", "latin-umlaut": "Müller_GmbH",
    "all-greek": "ΑΛΟΥΜΙΝΙΟ", "all-cyrillic": "Алюминий-1", "line1": "line1", "line2": "line2",
    "steel": "steel", "alu": "alu",
}


def _registry_with(db_url: str, ids: list[str]) -> Registry:
    reg = build(db_url)
    for value in ids:
        reg.add_account(value)
    return reg


@pytest.mark.parametrize("name", list(LOOK_ALIKES.values()), ids=list(LOOK_ALIKES))
def test_look_alike_and_invisible_variants_are_refused(db_url: str, name: str) -> None:
    reg = _registry_with(db_url, KNOWN_IDS)
    before = reg.events()
    with pytest.raises(RegistryError, match=r"differs from|invisible|mixes"):
        reg.add_account(name)
    with pytest.raises(RegistryError, match=r"differs from|invisible|mixes"):
        reg.record_consumption(name, H0, 100)
    assert reg.events() == before


def test_legitimate_ids_are_accepted_next_to_each_other(db_url: str) -> None:
    """Chinese, Japanese, all-Greek and all-Cyrillic ids, and ASCII ids that differ in more
    than look (line1 and line2; alu and steel, both already in the registry)."""
    reg = _registry_with(db_url, KNOWN_IDS)
    for value in LEGITIMATE_IDS.values():
        if value not in ("alu", "steel"):
            reg.add_account(value)  # raises when refused
    reg.record_consumption("line2", H0, 100)


@pytest.mark.parametrize("name", list(LEGITIMATE_IDS.values()), ids=list(LEGITIMATE_IDS))
def test_legitimate_ids_pass_the_id_rule(name: str) -> None:
    known = {"account": [*KNOWN_IDS, *(v for v in LEGITIMATE_IDS.values() if v != name)]}
    assert identity.refusal(name, "account id", known) is None


@pytest.mark.parametrize("name", list(LOOK_ALIKES.values()), ids=list(LOOK_ALIKES))
def test_look_alikes_fail_the_id_rule_for_every_kind(name: str) -> None:
    for kind in ("account", "user", "device"):
        assert identity.refusal(name, "id", {kind: KNOWN_IDS}) is not None


# --------------------------------------------------------------------------- GEC serials

GEC_MAPPING = """[csv]
encoding = "utf-8"
[columns]
device = "device"
production_month = "month"
serial_start = "from"
serial_end = "to"
count = "count"
status = "status"
tradable = "tradable"
holder = "holder"
[accounts]
"Park Co" = "park"
"""

HOSTILE_SERIALS = {
    "1e30": ("from", "G1" + "0" * 30, "G1" + "0" * 30, ""),
    "2**63": ("from", f"G{2**63}", f"G{2**63}", ""),
    "20 nines": ("from", "G" + "9" * 20, "G" + "9" * 20, ""),
    "5000 digits": ("from", "G" + "1" * 5000, "G" + "1" * 5000, ""),
    "scientific": ("from", "1E+30", "1E+30", ""),
    "arabic digits": ("from", "G\u0661\u0662", "G\u0661\u0662", ""),
    "negative range": ("to", "G-5", "G-1", ""),
    "non-integer": ("to", "G1.5", "G2.5", ""),
    "count 1e30": ("count", "G1", "G3", "1e30"),
    "count 10**30": ("count", "G1", "G3", str(10**30)),
    "count negative": ("count", "G1", "G3", "-3"),
    "count non-integer": ("count", "G1", "G3", "2.5"),
}


@pytest.mark.parametrize("case", list(HOSTILE_SERIALS))
def test_hostile_gec_serials_are_refused_naming_file_row_and_column(
        db_url: str, tmp_path: Path, case: str) -> None:
    from greenlink.certificates.db import open_registry

    column, first, last, count = HOSTILE_SERIALS[case]
    reg = open_registry(db_url)
    reg.add_account("park")
    reg.add_device("pv", account_id="park", energy_source="solar",
                   technology_type="photovoltaic", capacity_kw=1000)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(GEC_MAPPING, encoding="utf-8")
    records = tmp_path / "records.csv"
    records.write_text("device,month,from,to,count,status,tradable,holder\n"
                       "pv,2025-06,G1,G2,2,issued,true,Park Co\n"
                       f"pv,2025-06,{first},{last},{count},issued,true,Park Co\n",
                       encoding="utf-8")
    before = reg.events()
    with pytest.raises(InputError) as info:
        reg.import_gec_file(records, mapping)
    problems = info.value.problems
    assert any(p.file == str(records) and p.location == f"row 3, column {column}"
               for p in problems), [(p.location, p.message) for p in problems]
    assert reg.events() == before  # all rows or none
    out = RUNNER.invoke(registry_app, ["gec", "import", str(records), "--mapping",
                                       str(mapping), "--db", db_url])
    assert out.exit_code == 2 and "row 3" in out.output and "Traceback" not in out.output, \
        out.output
