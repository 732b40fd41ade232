"""A hypothesis state machine over the registry: issue, transfer, split, cancel, multi-hour
claim, withdraw, storage charge and discharge, GEC import — legal and hostile steps mixed.

After every step:

* every issued Wh lies in exactly one leaf bundle: Σ leaf Wh = Wh issued (generation and
  storage discharges);
* per beneficiary and hour, the Wh claimed never exceed the metered consumption registered for
  that hour (the battery: its metered charging), and the consumption rows count exactly the Wh
  claimed; a beneficiary without consumption here is only ever a buyer of a sale;
* every claimed Chinese bundle states GEC serials for all of its Wh;
* ``verify`` passes.

A ``tamper`` rule changes one column of one random row of a random chained table (as a database
attacker can), checks that ``verify`` fails naming that table, and puts the row back (``verify``
passes again).

Sizes: ``SQLITE`` runs 15 machines of up to 30 steps, ``POSTGRES`` 4 of 12 (seconds each).
"""

from __future__ import annotations

import contextlib
import itertools
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import create_engine, select, text, update

from greenlink.certificates.chained import BY_NAME, CHAINED
from greenlink.certificates.claims import ClaimRequest
from greenlink.certificates.models import Consumption
from greenlink.certificates.purposes import CLAIM_PURPOSES, STORAGE_CHARGE
from greenlink.certificates.registry import RegistryError
from greenlink.errors import GreenlinkError
from tests.certificates.conftest import fresh_pg_database, hours, park

H0 = datetime(2025, 6, 1, tzinfo=UTC)
J0 = datetime(2025, 7, 1, 4, tzinfo=UTC)  # noon in China: a July hour
#: generation hours: six in June (GECs imported at the start), three in July (pending until a
#: July import); storage discharges in the four June hours after them
HOUR_STARTS = [H0 + timedelta(hours=k) for k in range(6)] + \
    [J0 + timedelta(hours=k) for k in range(3)]
DISCHARGE = [H0 + timedelta(hours=6 + k) for k in range(4)]
USE_WH = {"alu": 900, "steel": 500, "bess": 700}  # metered consumption per hour
BENEFICIARIES = ["alu", "alu", "steel", "steel", "bess", "buyer", "park", "ALU", "alu ",
                 "nobody"]
PICK = st.integers(0, 10_000)
SQLITE = settings(max_examples=15, stateful_step_count=30, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow])
POSTGRES = settings(max_examples=4, stateful_step_count=12, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
_series = itertools.count()
GEC_MAPPING = """
[columns]
device = "device"
production_month = "month"
serial_start = "from"
serial_end = "to"
status = "status"
tradable = "tradable"
holder = "holder"
beneficiary = "beneficiary"
"""


def _changed(value: Any) -> Any:
    """Another value of the same type (``None``: this column cannot be changed simply)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 0.5
    if isinstance(value, datetime):
        return value + timedelta(hours=1)
    if isinstance(value, date):
        return value + timedelta(days=1)
    if isinstance(value, str):
        return value + "x"
    return None


def machine_for(url_of: Any) -> type[RuleBasedStateMachine]:
    class RegistryMachine(RuleBasedStateMachine):
        @initialize()
        def start(self) -> None:
            self.folder = Path(tempfile.mkdtemp(prefix="gl-sm-"))
            self.url = url_of(self.folder)
            self.reg, self.meta = park(self.url)
            self.reg.add_account("buyer", "Outside buyer")
            starts = [*HOUR_STARTS, *DISCHARGE]
            self.reg.record_consumption_table(pd.DataFrame({
                "beneficiary": [u for u in USE_WH for _ in starts],
                "hour_start": [t for _ in USE_WH for t in starts],
                "wh": [USE_WH[u] for u in USE_WH for _ in starts]}))
            self.issued = 0
            self.gec_ranges: list[tuple[str, str]] = []
            first = [1000, 800, 600, 900, 700, 500]  # June, every hour
            self.reg.issue(pd.DataFrame({"device_id": "pv", "hour_start": HOUR_STARTS[:6],
                                         "energy_wh": first}), metadata_id=self.meta)
            self.issued = sum(first)
            self.import_gec(count=1, tradable=True, july=False)

        # ------------------------------------------------------------------- legal steps
        @rule(hour=st.integers(0, len(HOUR_STARTS) - 1), wh=st.integers(1, 1200))
        def issue(self, hour: int, wh: int) -> None:
            try:
                self.reg.issue(hours("pv", [wh], start=str(HOUR_STARTS[hour])),
                               metadata_id=self.meta)
            except RegistryError:
                return
            self.issued += wh

        @rule(count=st.integers(1, 2), tradable=st.booleans(), july=st.booleans())
        def import_gec(self, count: int, tradable: bool, july: bool) -> None:
            n = next(_series)
            prefix = f"S{n:03d}{'T' if tradable else 'N'}"
            month = "2025-07" if july else "2025-06"
            csv = self.folder / f"gec-{n}.csv"
            csv.write_text("device,month,from,to,status,tradable,holder,beneficiary\n"
                           f"pv,{month},{prefix}0001,{prefix}{count:04d},issued,"
                           f"{str(tradable).lower()},park,\n", encoding="utf-8")
            mapping = self.folder / "gec.toml"
            mapping.write_text(GEC_MAPPING, encoding="utf-8")
            self.reg.import_gec_file(csv, mapping)
            self.gec_ranges.append((prefix, month))

        @rule(which=st.integers(0, 20), away=st.booleans())
        def gec_leaves_the_park(self, which: int, away: bool) -> None:
            """One GEC transferred to an outsider, or cancelled for steel, on the platform."""
            if not self.gec_ranges:
                return
            prefix, month = self.gec_ranges[which % len(self.gec_ranges)]
            n = next(_series)
            csv = self.folder / f"gec-move-{n}.csv"
            row = (f"pv,{month},{prefix}0001,{prefix}0001,transferred,,outsider,"
                   if away else f"pv,{month},{prefix}0001,{prefix}0001,cancelled,,steel,steel")
            csv.write_text("device,month,from,to,status,tradable,holder,beneficiary\n" + row
                           + "\n", encoding="utf-8")
            with contextlib.suppress(GreenlinkError):  # moved or cancelled before: refused
                self.reg.import_gec_file(csv, self.folder / "gec.toml")

        def _bundle(self, pick: int, status: str | None = None) -> int | None:
            b = self.reg.bundles(status=status)
            return None if b.empty else int(b["id"].iloc[pick % len(b)])

        @rule(pick=PICK, to=st.sampled_from(["park", "alu", "steel", "buyer"]),
              part=st.one_of(st.none(), st.integers(1, 1200)))
        def transfer(self, pick: int, to: str, part: int | None) -> None:
            bid = self._bundle(pick)
            if bid is not None:
                with contextlib.suppress(RegistryError):
                    self.reg.transfer(bid, to, quantity_wh=part)

        @rule(pick=PICK, part=st.integers(1, 1200))
        def split(self, pick: int, part: int) -> None:
            bid = self._bundle(pick)
            if bid is not None:
                with contextlib.suppress(RegistryError):
                    self.reg.split(bid, part)

        @rule(pick=PICK, who=st.sampled_from(BENEFICIARIES),
              purpose=st.sampled_from([*CLAIM_PURPOSES, "bogus"]),
              part=st.one_of(st.none(), st.integers(1, 1200)))
        def cancel(self, pick: int, who: str, purpose: str, part: int | None) -> None:
            bid = self._bundle(pick)
            if bid is not None:
                with contextlib.suppress(RegistryError):
                    self.reg.cancel(bid, beneficiary=who, purpose=purpose, quantity_wh=part)

        @rule(first=st.integers(0, len(HOUR_STARTS) - 1),
              wh=st.lists(st.integers(1, 1000), min_size=1, max_size=4),
              who=st.sampled_from(["alu", "steel", "buyer"]),
              purpose=st.sampled_from(["tenant_scope2", "product_batch",
                                       "sold_as_certificate"]),
              shortfall=st.booleans(), account=st.sampled_from(["park", "alu"]))
        def claim_hours(self, first: int, wh: list[int], who: str, purpose: str,
                        shortfall: bool, account: str) -> None:
            starts = [HOUR_STARTS[(first + k) % len(HOUR_STARTS)] for k in range(len(wh))]
            request = ClaimRequest.for_hours(
                pd.DataFrame({"hour_start": starts, "claim_wh": wh, "batch": "b"}),
                beneficiary=who, purpose=purpose, account_id=account,
                allow_shortfall=shortfall, subject_column="batch")
            with contextlib.suppress(RegistryError):
                self.reg.claim(request)

        @rule(pick=PICK)
        def withdraw(self, pick: int) -> None:
            bid = self._bundle(pick, "Active")
            if bid is not None:
                self.reg.withdraw(bid, reason="meter error")

        @rule(pick=PICK)
        def storage_charge(self, pick: int) -> None:
            bid = self._bundle(pick, "Active")
            if bid is not None:
                with contextlib.suppress(RegistryError):
                    self.reg.storage_charge("bess", [bid])

        @rule(hour=st.integers(0, len(DISCHARGE) - 1), wh=st.integers(1, 400))
        def storage_discharge(self, hour: int, wh: int) -> None:
            try:
                self.reg.storage_discharge("bess", DISCHARGE[hour], wh,
                                           efficiency=0.9, metadata_id=self.meta)
            except RegistryError:
                return
            self.issued += wh

        # ---------------------------------------------------------------------- attack
        @rule(table=st.sampled_from([c.name for c in CHAINED]), pick=PICK,
              column=PICK)
        def tamper(self, table: str, pick: int, column: int) -> None:
            chained = BY_NAME[table]
            t = chained.table
            engine = create_engine(self.url)
            try:
                with engine.connect() as con:
                    rows = con.execute(select(t)).mappings().all()
                if not rows:
                    return
                row = dict(rows[pick % len(rows)])
                key = [t.c[k] == row[k] for k in chained.key]
                names = [c.name for c in t.columns if c.name not in chained.key]
                for k in range(len(names)):
                    name = names[(column + k) % len(names)]
                    new = _changed(row[name])
                    if new is None:
                        continue
                    try:
                        with engine.begin() as con:
                            if con.dialect.name == "postgresql":
                                con.execute(text("SET LOCAL session_replication_role = "
                                                 "replica"))
                            con.execute(update(t).where(*key).values({name: new}))
                    except Exception:
                        continue
                    result = self.reg.verify()
                    assert not result.ok, f"verify passed after {table}.{name} was changed"
                    assert any(f"[{table}]" in p for p in result.problems), result.problems
                    with engine.begin() as con:
                        if con.dialect.name == "postgresql":
                            con.execute(text("SET LOCAL session_replication_role = replica"))
                        con.execute(update(t).where(*key).values({name: row[name]}))
                    return
            finally:
                engine.dispose()

        # ------------------------------------------------------------------ invariants
        @invariant()
        def every_issued_wh_is_in_one_leaf(self) -> None:
            b = self.reg.bundles()
            leaves = b[b["certificate_bundle_status"] != "Bundle Split"]
            assert int(leaves["bundle_quantity"].sum()) == self.issued

        @invariant()
        def claims_never_exceed_the_hourly_consumption(self) -> None:
            b = self.reg.bundles()
            used = b[(b["certificate_bundle_status"] == "Claimed")
                     | ((b["certificate_bundle_status"] == "Cancelled")
                        & (b["claim_purpose"] == STORAGE_CHARGE))].copy()
            used["hour"] = pd.to_datetime(used["production_starting_interval"], utc=True)
            per = used.groupby(["beneficiary", "hour"])["bundle_quantity"].sum()
            with self.reg.sessions() as s:
                rows = {(c.beneficiary, pd.Timestamp(c.hour_start).tz_convert("UTC")
                         if pd.Timestamp(c.hour_start).tzinfo else
                         pd.Timestamp(c.hour_start).tz_localize("UTC")): c
                        for c in s.execute(select(Consumption)).scalars()}
            for (who, hour), wh in per.items():
                if who == "buyer":  # a sale to a buyer outside the park
                    continue
                c = rows.get((who, pd.Timestamp(hour)))
                assert c is not None, f"{who} claimed {wh} Wh in {hour} without consumption"
                assert wh <= c.consumption_wh and c.claimed_wh == wh, (who, hour, wh)
            assert set(per.index.get_level_values(0)) <= {*USE_WH, "buyer"}

        @invariant()
        def claimed_chinese_wh_state_their_gec_serials(self) -> None:
            parts = self.reg.claims()
            if parts.empty:
                return
            import json

            b = self.reg.bundles().set_index("id")
            for row in parts.itertuples():
                if row.kind != "claim" or bool(b.loc[row.bundle_id, "is_storage"]):
                    continue
                serials = json.loads(row.gec_serials)
                assert sum(x["wh"] for x in serials) == row.wh, row

        @invariant()
        def history_verifies(self) -> None:
            result = self.reg.verify()
            assert result.ok, result.problems[:3]

        def teardown(self) -> None:
            if hasattr(self, "reg"):
                self.reg.engine.dispose()

    return RegistryMachine


def test_registry_state_machine_sqlite() -> None:
    machine = machine_for(lambda folder: f"sqlite:///{folder / 'registry.sqlite'}")
    run_state_machine_as_test(machine, settings=SQLITE)


def test_registry_state_machine_postgresql(pg_server: str) -> None:
    machine = machine_for(lambda _folder: fresh_pg_database(pg_server))
    run_state_machine_as_test(machine, settings=POSTGRES)

