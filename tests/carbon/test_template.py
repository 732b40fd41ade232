"""The Commission's template, filled by greenlink and recalculated by LibreOffice headless:
its own SEE (direct and indirect, per good) must equal greenlink's to 5 decimals."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from greenlink.carbon.installations import account
from greenlink.carbon.template import (
    fill_template,
    goods_category,
    read_summary_products,
    recalculate,
    soffice,
    template_path,
)

from .conftest import cement_installation, make_flows

TEMPLATE_SHA256 = "5a4e28fdbccfdca45a2c0520184b551a20c0c7bba3db79f87d78c9e58a6c0917"


def test_shipped_template_is_the_commission_file() -> None:
    digest = hashlib.sha256(template_path().read_bytes()).hexdigest()
    assert digest == TEMPLATE_SHA256  # cbam.md §"Machine-readable sources"


def test_goods_categories() -> None:
    assert goods_category("25231000") == "Cement clinker"
    assert goods_category("25232900") == "Cement"
    assert goods_category("76042100") == "Aluminium products"
    assert goods_category("76012080") == "Unwrought aluminium"
    assert goods_category("73181588") == "Iron or steel products"


def _need_soffice() -> None:
    if soffice() is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is required in CI (apt-get install libreoffice-calc-nogui)")
        pytest.skip("LibreOffice (soffice) not installed on this machine")


def test_recalculated_template_equals_greenlink(tmp_path: Path) -> None:
    _need_soffice()
    acc = account(cement_installation(), make_flows(load_kwh=2000.0, green_kwh=800.0))
    filled = fill_template(acc.installation, acc.electricity_mwh, acc.decisions, acc.see,
                           tmp_path / "filled.xlsx")
    values = read_summary_products(recalculate(filled.path, tmp_path / "out"),
                                   filled.product_rows)
    assert set(values) == {"kiln", "mill"}
    for pid, (direct, indirect) in values.items():
        assert round(direct, 5) == acc.see[pid].see_direct_rounded, pid
        assert round(indirect, 5) == acc.see[pid].see_indirect_rounded, pid
    # the hand values of test_embedded, seen by the Commission's own formulas
    assert values["mill"] == (pytest.approx(0.46), pytest.approx(0.0169))
