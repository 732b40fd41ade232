"""Any site (issue 14, point 6): synthetic weather from the monthly means a scenario gives, the
weather files shipped as ``builtin:<name>``, and weather paths outside the park folder.

Expectations are the numbers written here: the monthly GHI sums of the synthetic year are the
given ones (tolerance 0.01 kWh/m²), its monthly mean temperatures within 1 °C of the given ones;
each shipped file names its station, and decompresses to the bytes SOURCES.md gives the sha256
of.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from greenlink.errors import InputError
from greenlink.inputs import build_inputs
from greenlink.resource.builtin_weather import (
    BUILTIN_WEATHER,
    TMYX_ATTRIBUTION,
    builtin_weather_path,
)
from greenlink.resource.calibration import monthly_ghi_sums_kwh_m2
from greenlink.resource.weather import load_weather
from greenlink.scenario.load import load_scenario, parse_scenario

REPO = Path(__file__).resolve().parents[2]
MINIMAL = REPO / "src" / "greenlink" / "examples" / "minimal"
SOURCES = REPO / "src" / "greenlink" / "data" / "weather" / "SOURCES.md"

# the example of docs/weather.md: a site in north-west China (illustrative values)
GHI = [75, 90, 125, 150, 175, 170, 165, 155, 125, 100, 75, 65]  # kWh/m² per month
TEMP = [-2, 1, 8, 15, 21, 26, 27, 26, 21, 15, 7, 0]  # °C
SITE = (38.47, 106.21, 1112.0)
GHI_TOLERANCE_KWH_M2 = 0.01
TEMP_TOLERANCE_K = 1.0

# site, expected WMO id and time shift (weather-data.md §2.4) of every shipped file
SHIPPED = {
    "nanjing": ((31.932, 118.900, 14.9), "582380", 0, "Nanjing"),
    "xuzhou": ((34.287, 117.159, 42.0), "580270", 0, "Xuzhou"),
    "beijing": ((40.080, 116.585, 35.4), "545110", 0, "Beijing"),
    "guangzhou": ((23.210, 113.482, 15.2), "592870", 0, "Guangzhou"),
    "yinchuan": ((38.471, 106.208, 1112.0), "536140", 60, "Yinchuan"),
}


def _park(folder: Path, weather: str) -> Path:
    """The minimal example park in ``folder`` with its ``[weather]`` table replaced."""
    shutil.copytree(MINIMAL, folder)
    path = folder / "park.toml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"\[weather\]\n(?:[^\[\n].*\n)+", "[weather]\n" + weather + "\n", text, count=1)
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ synthetic from given means
def test_synthetic_year_reproduces_the_monthly_means_given() -> None:
    weather = load_weather("synthetic", None, 2025, "Asia/Shanghai", *SITE,
                           monthly_ghi_kwh_m2=GHI, monthly_temp_c=TEMP, seed=4)
    sums = monthly_ghi_sums_kwh_m2(weather.data)
    assert np.abs(sums - np.array(GHI)).max() < GHI_TOLERANCE_KWH_M2
    assert sums.sum() == pytest.approx(1470, abs=GHI_TOLERANCE_KWH_M2)  # 75 + 90 + … + 65
    months = pd.DatetimeIndex(weather.data.index).month
    temps = weather.data["temp_air"].groupby(np.asarray(months)).mean().to_numpy()
    assert np.abs(temps - np.array(TEMP)).max() < TEMP_TOLERANCE_K
    assert weather.source == "synthetic (monthly means given in the scenario)"
    assert weather.calibration == "monthly means given in the scenario"
    assert any("1,470 kWh/m²/yr" in n for n in weather.notes)
    assert "air temperature from the monthly means given in the scenario" in weather.notes
    assert not any("station" in n for n in weather.notes)  # no station is involved


def test_scenario_with_monthly_means_simulates_and_is_reported(tmp_path: Path) -> None:
    ghi = ", ".join(str(v) for v in GHI)
    path = _park(tmp_path / "p", f'kind = "synthetic"\nmonthly_ghi_kwh_m2 = [{ghi}]\nseed = 2\n')
    inputs = build_inputs(load_scenario(path))
    assert inputs.weather is not None
    sums = monthly_ghi_sums_kwh_m2(inputs.weather.data)
    assert np.abs(sums - np.array(GHI)).max() < GHI_TOLERANCE_KWH_M2
    # no temperatures given: the run says the default is a rough estimate
    assert any("rough estimate" in n for n in inputs.weather.notes)


@pytest.mark.parametrize(("weather", "says"), [
    ('kind = "synthetic"\nmonthly_ghi_kwh_m2 = [2.4, 2.9, 4, 5, 5.6, 5.7, 5.3, 5, 4.2, 3.2, 2.5,'
     ' 2.1]', "look like daily means"),
    ('kind = "synthetic"\nmonthly_ghi_kwh_m2 = [80, 90]', "at least 12 items"),
    ('kind = "synthetic"\nstation = "58238"\nmonthly_ghi_kwh_m2 = [75, 90, 125, 150, 175, 170, '
     '165, 155, 125, 100, 75, 65]', "either monthly_ghi_kwh_m2"),
    ('kind = "epw"\npath = "builtin:nanjing"\nmonthly_temp_c = [-2, 1, 8, 15, 21, 26, 27, 26, '
     '21, 15, 7, 0]', "kind = 'synthetic' only"),
])
def test_monthly_means_mistakes_are_refused(weather: str, says: str) -> None:
    text = (MINIMAL / "park.toml").read_text(encoding="utf-8")
    text = re.sub(r"\[weather\]\n(?:[^\[\n].*\n)+", "[weather]\n" + weather + "\n\n", text,
                  count=1)
    with pytest.raises(InputError) as err:
        parse_scenario(text)
    assert says in str(err.value)


def test_daily_means_refusal_spells_out_the_fix() -> None:
    text = (MINIMAL / "park.toml").read_text(encoding="utf-8")
    text = re.sub(r"\[weather\]\n(?:[^\[\n].*\n)+", "[weather]\nkind = \"synthetic\"\n"
                  "monthly_ghi_kwh_m2 = [2.4, 2.9, 4, 5, 5.6, 5.7, 5.3, 5, 4.2, 3.2, 2.5, 2.1]"
                  "\n\n", text, count=1)
    with pytest.raises(InputError) as err:
        parse_scenario(text)
    assert "January: 2.4 × 31 = 74.4" in str(err.value)
    assert "weather.monthly_ghi_kwh_m2" in str(err.value)


def test_month_above_clear_sky_names_the_scenario_field() -> None:
    with pytest.raises(InputError) as err:
        load_weather("synthetic", None, 2025, "Asia/Shanghai", *SITE,
                     monthly_ghi_kwh_m2=[280, *GHI[1:]])
    assert err.value.problems[0].location == "weather.monthly_ghi_kwh_m2[0]"
    assert "clear-sky" in err.value.problems[0].message


# ------------------------------------------------------------------ built-in weather files
@pytest.mark.parametrize("name", list(SHIPPED))
def test_builtin_file_loads_with_its_station_named(name: str) -> None:
    site, wmo, shift, place = SHIPPED[name]
    weather = load_weather("epw", builtin_weather_path(name), 2025, "Asia/Shanghai", *site)
    assert len(weather.data) == 8760
    assert place in weather.source
    assert f"station {wmo}" in weather.source
    assert f"builtin:{name}" in weather.source
    assert f"weather data: {TMYX_ATTRIBUTION}" in weather.notes
    assert weather.time_shift_minutes == shift


def test_builtin_files_are_the_sources_bytes() -> None:
    """Each shipped file, decompressed, has the sha256 SOURCES.md gives for the source file."""
    sources = SOURCES.read_text(encoding="utf-8")
    for entry in BUILTIN_WEATHER:
        path = builtin_weather_path(entry.name)
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        assert digest in sources, entry.file
        assert len(raw.splitlines()) == 8 + 8760


def test_builtin_scenario_and_names(tmp_path: Path) -> None:
    path = _park(tmp_path / "p", 'kind = "epw"\npath = "builtin:Guangzhou"\n')
    inputs = build_inputs(load_scenario(path))
    assert inputs.weather is not None and "station 592870" in inputs.weather.source
    # the file name as listed is accepted too (scenarios written before the catalogue)
    assert builtin_weather_path("CHN_JS_Nanjing.582380_TMYx.2009-2023.epw").name.startswith(
        "CHN_JS_Nanjing")


@pytest.mark.parametrize("name", ["hangzhou", "../weather/station_monthly_ghi.csv",
                                  "/etc/passwd", "aguiar_mtm.csv", "station_monthly_ghi.csv",
                                  "../../examples/minimal/park.toml", ""])
def test_builtin_names_only_the_catalogue(name: str) -> None:
    with pytest.raises(InputError) as err:
        builtin_weather_path(name)
    assert "builtin:" in str(err.value) and "yinchuan" in str(err.value)


# ------------------------------------------------------------------ paths outside the park
def test_weather_path_outside_the_park_folder(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    epw = shared / "site.epw"
    epw.write_bytes(gzip.decompress(builtin_weather_path("xuzhou").read_bytes()))
    for written in ("../shared/site.epw", str(epw)):
        park = _park(tmp_path / f"p{len(written)}", f'kind = "epw"\npath = "{written}"\n')
        inputs = build_inputs(load_scenario(park))
        assert inputs.weather is not None
        assert inputs.weather.source.startswith("site.epw (Xuzhou")


def test_uploads_stay_in_their_folder(tmp_path: Path) -> None:
    """The web service refuses what a local scenario may do: ``..`` and absolute paths; and
    ``builtin:`` reaches nothing but the catalogue."""
    from greenlink.service.uploads import UploadedFile, stage_bundle

    load = (MINIMAL / "series" / "load.csv").read_bytes()
    for weather, says in (('kind = "epw"\npath = "../x.epw"', "leaves the scenario folder"),
                          ('kind = "epw"\npath = "/tmp/x.epw"', "leaves the scenario folder"),
                          ('kind = "epw"\npath = "builtin:../weather/aguiar_mtm.csv"',
                           "no built-in weather file")):
        text = (MINIMAL / "park.toml").read_text(encoding="utf-8")
        text = re.sub(r"\[weather\]\n(?:[^\[\n].*\n)+", "[weather]\n" + weather + "\n\n", text,
                      count=1)
        files = [UploadedFile("park.toml", text.encode()), UploadedFile("load.csv", load)]
        with pytest.raises(InputError) as err:
            stage_bundle(files, tmp_path / "staging")
        assert says in str(err.value)
    assert not any((tmp_path / "staging").glob("upload-*"))
