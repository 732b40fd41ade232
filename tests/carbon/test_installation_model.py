"""Scenario model of installations: example park, cross-checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenlink.errors import GreenlinkError
from greenlink.scenario.load import load_scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "src/greenlink/examples/jiangsu_park/park.toml"


def test_example_park_has_installations() -> None:
    s = load_scenario(EXAMPLE).scenario
    assert {i.id for i in s.installations} == {"cement_plant", "alu_plant", "fastener_plant"}


def test_cross_check_catches_bad_references(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        'user = "cement_grinding"\ncountry', 'user = "nobody"\ncountry').replace(
        '{ precursor = "clinker", amount_t = 487500 }', '{ precursor = "ghost", amount_t = 1 }')
    (tmp_path / "park.toml").write_text(text, encoding="utf-8")
    for name in ("series", "cbam"):
        (tmp_path / name).symlink_to(EXAMPLE.parent / name)
    with pytest.raises(GreenlinkError) as err:
        load_scenario(tmp_path / "park.toml")
    assert "nobody" in str(err.value) and "ghost" in str(err.value)
