import pytest
from pydantic import ValidationError

from tests.metering.helpers import METERS, scenario


def test_example_meters_are_valid() -> None:
    sc = scenario()
    assert [m.id for m in sc.meters] == [m["id"] for m in METERS]
    assert sc.meters[2].unit == "Wh"
    assert sc.meters[0].label == "interval_beginning"


@pytest.mark.parametrize(("meter", "message"), [
    ({"id": "g", "role": "generator", "measures": "nope"}, "not a plant"),
    ({"id": "g", "role": "user_load", "measures": "pv"}, "not a user"),
    ({"id": "g", "role": "battery_charge", "measures": "a"}, "not a battery"),
    ({"id": "g", "role": "grid_import", "measures": "a"}, "measures must be 'grid'"),
    ({"id": "g", "role": "line_submeter", "measures": "a"}, "needs production_line"),
    ({"id": "g", "role": "generator", "measures": "pv", "interval_minutes": 60},
     "longer than the scenario"),
    ({"id": "g", "role": "generator", "measures": "pv", "unit": "GWh"}, "unit"),
])
def test_bad_meters_are_named(meter: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        scenario([meter])


def test_duplicate_meter_ids() -> None:
    m = {"id": "g", "role": "generator", "measures": "pv"}
    with pytest.raises(ValidationError, match="unique"):
        scenario([m, m])
