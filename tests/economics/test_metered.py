"""Settlement on metered data: the metering module's allocated flows settle unchanged.

Example meter files (synthetic, with faults) → ingest (gaps filled) → actual flows → settle every
month; statements reconcile with the metered flows like with simulated ones.
"""

from __future__ import annotations

from greenlink.economics.money import kwh, money
from greenlink.economics.whatif import settle_year


def test_every_month_of_metered_flows_reconciles(tmp_path, example_loaded, example_flows):
    from greenlink.metering.actuals import actual_flows, metered_arrays
    from greenlink.metering.ingest import ingest_files
    from greenlink.metering.store import open_store
    from greenlink.metering.synthetic import write_example_meter_files

    sc = example_loaded.scenario
    paths = write_example_meter_files(sc, example_flows, tmp_path / "meters", faults=True)
    ingest_files(sc, paths, tmp_path / "store.duckdb", fill=True)
    with open_store(tmp_path / "store.duckdb", read_only=True) as con:
        metered = actual_flows(sc, metered_arrays(sc, con))
    year = settle_year(metered, sc)
    assert len(year) == 12
    month_of = metered.index.tz_convert(sc.site.timezone).strftime("%Y-%m")
    for s in year:
        rows = metered[month_of == s.month]
        for st in s.statements:
            assert st.energy_kwh == kwh(rows[f"{st.tenant}.load_kwh"].sum())
            assert st.green_lines_kwh == kwh(rows[f"{st.tenant}.green_kwh"].sum())
            assert all(ln.amount == money(ln.quantity * ln.unit_price)
                       for ln in st.lines if not ln.allocated)
        for b in s.buyers:
            assert b.assigned_kwh <= b.matched_green_kwh
