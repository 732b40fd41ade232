"""Issue 12, point 5: free allocation and de minimis as the law has them — a benchmark for every
sector greenlink ships goods for (fertilisers included), and de minimis judged on all of an
importer's shipments in the scenario, not per installation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from greenlink.carbon import cbam_data
from greenlink.carbon.cbam_goods import classify
from greenlink.carbon.exposure import exposure_map
from greenlink.carbon.installations import scenario_importer_mass
from greenlink.carbon.liability import (
    PriceAssumptions,
    de_minimis_exempt,
    importer_masses,
    projected_masses,
    shipment_liability,
)
from greenlink.scenario.installations import Installation

PRICES = PriceAssumptions({y: 80.0 for y in range(2026, 2035)}, 0.0, 1.0, ())


def test_every_sector_with_goods_has_benchmarks() -> None:
    from greenlink.carbon.cbam_goods import SECTORS, cn_codes
    from greenlink.scenario.load import load_scenario

    codes = list(cn_codes(2025).index)
    for sector in SECTORS:
        mine = [c for c in codes if classify(c, 2025).sector == sector]
        for column in ("A", "B"):
            assert any(cbam_data.benchmark(c, column) is not None for c in mine), (sector,
                                                                                   column)
    # every fertiliser code of CN 2025 has both columns
    fert = [c for c in codes if classify(c, 2025).sector == "fertilisers"]
    missing = [c for c in fert for col in ("A", "B") if cbam_data.benchmark(c, col) is None]
    assert len(fert) == 27 and missing == []
    # every good the example park makes (column A) or buys at default values (column B)
    example = Path(__file__).parents[2] / "src/greenlink/examples/jiangsu_park/park.toml"
    for inst in load_scenario(example).scenario.installations:
        for proc in inst.processes:
            assert cbam_data.benchmark(proc.cn_code.replace(" ", ""), "A") is not None
        for prec in inst.purchased_precursors:
            assert cbam_data.benchmark(prec.cn_code.replace(" ", ""), "B") is not None


def test_fertiliser_benchmarks_are_flagged_parameters() -> None:
    for code, a, b in (("28141000", 1.522, 1.522), ("28080000", 0.151, 0.582),
                       ("31021019", 0.053, 0.902), ("31023090", 0.019, 0.767)):
        bm_a, bm_b = cbam_data.benchmark(code, "A"), cbam_data.benchmark(code, "B")
        assert bm_a is not None and bm_b is not None
        assert (bm_a.benchmark_t_per_t, bm_b.benchmark_t_per_t) == (a, b)
        assert bm_a.confidence == "UNVERIFIED" and "opencbam" in bm_a.source


def test_fertiliser_liability_by_hand() -> None:
    # ammonia, 200 t at 2.4 t/t actual, 2027: FAA = 200 × 0.95 × 1.522 = 289.18 t;
    # 480 − 289.18 = 190.82 certificates, × 80 EUR = 15,265.60 EUR
    row = {"shipment_id": "s", "customer": "K", "sku": "NH3", "cn_code": "28141000",
           "tonnes": 200.0, "year": 2027, "importer": "I", "see_direct_t_per_t": 2.2,
           "see_counted_grid_t_per_t": 2.4, "see_counted_dc_t_per_t": 2.4}
    out = shipment_liability(pd.DataFrame([row]), prices=PRICES, country="XX").iloc[0]
    assert out["faa_actual_t"] == pytest.approx(289.18)
    assert out["certificates_dc"] == pytest.approx(190.82)
    assert out["cost_dc_eur"] == 15265.60
    assert "no column-A benchmark" not in out["factor_notes"]


def _ships(importer: str, tonnes: float, cn: str = "72081000", year: int = 2026,
           sid: str = "s") -> pd.DataFrame:
    return pd.DataFrame([{"shipment_id": sid, "customer": "K", "sku": "X", "cn_code": cn,
                          "tonnes": tonnes, "year": year, "importer": importer,
                          "see_direct_t_per_t": 2.0, "see_counted_grid_t_per_t": 2.0,
                          "see_counted_dc_t_per_t": 2.0}])


def test_de_minimis_across_all_of_an_importers_shipments() -> None:
    plant_a, plant_b = _ships("EU Imports BV", 30.0), _ships("EU Imports BV", 30.0)
    # each installation alone ships 30 t (≤ 50 t: exempt) ...
    assert bool(shipment_liability(plant_a, prices=PRICES)["de_minimis"].iat[0])
    # ... but the importer takes 60 t in 2026 from the two: no exemption for either
    masses = importer_masses(pd.concat([plant_a, plant_b], ignore_index=True))
    assert masses == {("EU Imports BV", 2026): 60.0}
    for plant in (plant_a, plant_b):
        out = shipment_liability(plant, prices=PRICES, importer_mass=masses).iloc[0]
        assert not out["de_minimis"] and out["certificates_dc"] == pytest.approx(60.0)
    # another importer, another year: judged on its own mass
    other = importer_masses(pd.concat([_ships("Other", 20.0), _ships("EU Imports BV", 40.0,
                                                                      year=2027)]))
    assert other == {("Other", 2026): 20.0, ("EU Imports BV", 2027): 40.0}


def test_electricity_and_hydrogen_do_not_count_towards_the_mass() -> None:
    both = pd.concat([_ships("I", 40.0), _ships("I", 500.0, cn="28041000", sid="h"),
                      _ships("I", 900.0, cn="27160000", sid="e")], ignore_index=True)
    masses = importer_masses(both)
    assert masses == {("I", 2026): 40.0}
    table = both.assign(sector=[classify(c).sector for c in both["cn_code"]])
    assert list(de_minimis_exempt(table, masses)) == [True, False, False]


def test_exposure_projects_the_importers_whole_mass() -> None:
    masses = {("I", 2026): 60.0}
    assert projected_masses(masses, (2027, 2028)) == {("I", 2027): 60.0, ("I", 2028): 60.0}
    alone = exposure_map(_ships("I", 30.0), prices=PRICES)
    shared = exposure_map(_ships("I", 30.0), prices=PRICES, importer_mass=masses)
    assert alone["cost_dc_eur"].iat[0] == 0.0  # 30 t alone: de minimis every year
    assert shared["cost_dc_eur"].iat[0] > 0.0


def test_scenario_importer_mass_reads_every_installation(tmp_path: Path) -> None:
    for name in ("a", "b"):
        pd.DataFrame([{"shipment_id": f"{name}1", "customer": "K", "sku": "X",
                       "cn_code": "72081000", "tonnes": 30.0, "batches": "x",
                       "date": "2026-02-01"}]).to_csv(tmp_path / f"{name}.csv", index=False)
    insts = [Installation.model_validate({"id": n, "user": "u", "importer": "EU Imports BV",
                                          "shipments_file": f"{n}.csv"}) for n in ("a", "b")]
    assert scenario_importer_mass(insts, tmp_path, "Asia/Shanghai") == {
        ("EU Imports BV", 2026): 60.0}
