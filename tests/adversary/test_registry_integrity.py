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

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import insert

from greenlink.certificates.errors import ClaimRefused
from greenlink.certificates.registry import RegistryError
from greenlink.cli.registry_cmd import registry_app
from greenlink.errors import InputError
from tests.adversary.test_registry_history import (
    GEC_DATA,
    H0,
    RUNNER,
    attacker,
    build,
    operator_keys,  # noqa: F401
    table,
)
from tests.certificates.conftest import db_url, pg_server, pg_url  # noqa: F401

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
