"""Paths of the weather files used by the resource tests.

The six research EPWs live outside the package, in ``../shared/data/weather`` relative to the
repository root (present on developer machines and on CI); the Nanjing TMYx file also ships in the
package (``greenlink/data/weather``) and is taken from there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_WEATHER_DIR = REPO_ROOT.parent / "shared" / "data" / "weather"
TEST_DATA_DIR = REPO_ROOT / "tests" / "data"
NANJING_EPW_NAME = "CHN_JS_Nanjing.582380_TMYx.2009-2023.epw"
PVGIS_TMY_FIXTURE = TEST_DATA_DIR / "pvgis_tmy_45.000_8.000_synthetic.csv"

# site coordinates (lat °, lon °, altitude m) of the shared files and the research result of the
# sun fit (weather-data.md §2.4), minutes against pvlib's read_epw index
SHARED_EPW_SITES: dict[str, tuple[float, float, float, int]] = {
    "CHN_GD_Guangzhou.592870_TMYx.2009-2023.epw": (23.210, 113.482, 15.2, 0),
    "CHN_JS_Xuzhou.580270_TMYx.2009-2023.epw": (34.287, 117.159, 42.0, 0),
    "CHN_BJ_Beijing-Capital.Intl.AP.545110_TMYx.2009-2023.epw": (40.080, 116.585, 35.4, 0),
    "CHN_NX_Yinchuan.536140_TMYx.2009-2023.epw": (38.471, 106.208, 1112.0, 60),
    "CHN_Zhejiang.Hangzhou.584570_CSWD.epw": (30.23, 120.17, 41.7, -30),
}
NANJING_SITE: tuple[float, float, float] = (31.932, 118.900, 14.9)


@pytest.fixture(scope="session")
def shared_weather_dir() -> Path:
    # CI and developer machines have ../shared beside the checkout; the research files there are
    # not redistributed with greenlink, so a bare clone elsewhere cannot run these checks.
    if not SHARED_WEATHER_DIR.is_dir():
        pytest.skip(f"research weather files not present at {SHARED_WEATHER_DIR}")
    return SHARED_WEATHER_DIR


@pytest.fixture(scope="session")
def nanjing_epw() -> Path:
    from greenlink.resource.weather import packaged_weather_file

    return packaged_weather_file(NANJING_EPW_NAME)


@pytest.fixture(scope="session")
def pvgis_tmy_fixture() -> Path:
    return PVGIS_TMY_FIXTURE


@pytest.fixture(scope="session")
def shared_epw_sites() -> dict[str, tuple[float, float, float, int]]:
    return SHARED_EPW_SITES


@pytest.fixture(scope="session")
def nanjing_site() -> tuple[float, float, float]:
    return NANJING_SITE
