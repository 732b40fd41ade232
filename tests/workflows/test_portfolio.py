"""``greenlink portfolio run``: many parks, one table, a failing park reported, per-park links."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from greenlink.cli.main import app
from greenlink.workflows.portfolio import (
    PortfolioOptions,
    map_tasks,
    park_names,
    run_portfolio,
    write_portfolio,
)
from tests.scenario.parks import park_toml, write_park


@pytest.fixture(scope="module")
def parks(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("portfolio")
    north = write_park(root / "north", park_toml())
    south = write_park(root / "south", park_toml().replace("capacity_kw = 3000",
                                                           "capacity_kw = 9000"))
    broken = root / "broken.toml"
    broken.write_text('schema_version = 1\nname = "broken"\n', encoding="utf-8")
    return [north, south, broken]


def test_names_are_unique() -> None:
    assert park_names(["a/park.toml", "b/park.toml", "c.toml", "d/c.toml"]) == [
        "a-park", "b-park", "c", "d-c"]
    assert park_names(["x/p.toml", "x/p.toml"]) == ["x-p", "x-p-2"]


def test_map_tasks_keeps_order_locally() -> None:
    seen: list[int] = []
    out = map_tasks(lambda k, x: k * x, [1, 2, 3], shared=10, scheduler="local",
                    progress=lambda d, t, r: seen.append(d))
    assert out == [10, 20, 30] and seen == [1, 2, 3]


def test_portfolio_local(parks: list[Path], tmp_path: Path) -> None:
    calls: list[tuple[int, int, str]] = []
    table = run_portfolio(parks, out_dir=tmp_path, scheduler="local",
                          options=PortfolioOptions(finance=True),
                          progress=lambda d, t, n: calls.append((d, t, n)))
    assert list(table["park"]) == ["north-park", "south-park", "broken"]
    assert list(table["status"]) == ["ok", "ok", "error"]
    assert "site" in table.loc[2, "error"]  # the broken park says what is missing
    assert table.loc[1, "generation_kwh"] == pytest.approx(3 * table.loc[0, "generation_kwh"])
    assert table["npv_project"].iloc[:2].notna().all()
    assert [c[0] for c in calls] == [1, 2, 3]
    written = write_portfolio(table, tmp_path)
    html = written["portfolio.html"].read_text(encoding="utf-8")
    assert "href='parks/north-park/report.html'" in html
    assert (tmp_path / "parks" / "north-park" / "finance.xlsx").is_file()
    assert len(pd.read_parquet(written["portfolio.parquet"])) == 3


def test_cli_exit_code_and_files(parks: list[Path], tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["portfolio", "run", *map(str, parks), "--scheduler", "local",
                                   "--out", str(tmp_path), "-q", "--no-park-files"])
    assert res.exit_code == 1  # the broken park
    assert (tmp_path / "portfolio.xlsx").is_file()
    assert not (tmp_path / "parks").exists()
    res = CliRunner().invoke(app, ["portfolio", "run", str(tmp_path / "none"), "--out",
                                   str(tmp_path / "out2"), "-q"])
    assert res.exit_code == 2
