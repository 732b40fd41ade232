"""The flows table has one home: no module outside ``greenlink.flows`` spells a column name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import greenlink
from greenlink import flows

SRC = Path(greenlink.__file__).parent
NAMES = {*flows.PARK_COLUMNS, flows.INTERVAL_START}
# quantities of per-entity columns, as the tail of an f-string: f"{user_id}.load_kwh"
ENTITY = re.compile(r"^\.(load_kwh|green_kwh|grid_kwh|generation_kwh|soc_kwh)$")


def literal_uses(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string constant naming a flows column."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and (n.value in NAMES or ENTITY.match(n.value))]


def test_no_flows_column_literal_outside_flows() -> None:
    uses = [f"{p.relative_to(SRC)}:{line}: {text!r}" for p in sorted(SRC.rglob("*.py"))
            if "flows" not in p.relative_to(SRC).parts for line, text in literal_uses(p)]
    assert uses == [], "flows column names spelled outside greenlink.flows:\n" + "\n".join(uses)


def test_the_check_finds_column_literals(tmp_path: Path) -> None:
    f = tmp_path / "m.py"
    f.write_text('x = frame["load_kwh"]\ny = f"{uid}.green_kwh"\nz = "energy_kwh"\n'
                 '"""A docstring naming load_kwh is prose."""\n')
    assert [text for _, text in literal_uses(f)] == ["load_kwh", ".green_kwh"]
